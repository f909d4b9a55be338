"""Resource quantities (``500m``, ``1Gi``): parsed to exact decimals, written back the way kube-apiserver does."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

_BINARY = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))
_DECIMAL = (("E", 10**18), ("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3))
_SMALL = (("m", Decimal("0.001")), ("u", Decimal("0.000001")), ("n", Decimal("0.000000001")))
_SUFFIXES: dict[str, Decimal] = {
    **{k: Decimal(v) for k, v in _BINARY},
    **{k: Decimal(v) for k, v in _DECIMAL},
    **dict(_SMALL),
}
_FORMAT = "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def parse(value: Any) -> Decimal:
    """A quantity as an exact number; a ``ValueError`` names what is wrong."""
    if isinstance(value, bool):
        raise ValueError(f"quantities must match the regular expression, got {value!r}")
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value).strip()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix) and text[: -len(suffix)]:
            number = text[: -len(suffix)]
            try:
                return Decimal(number) * _SUFFIXES[suffix]
            except InvalidOperation:
                break
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"quantities must match the regular expression {_FORMAT}, got {value!r}") from None


def is_binary(value: Any) -> bool:
    return isinstance(value, str) and value.strip().endswith(tuple(suffix for suffix, _ in _BINARY))


def format_quantity(value: Decimal, binary: bool = False) -> str:
    """The canonical text of a quantity: the largest exact suffix (``1Gi``, ``2``, ``1500m``)."""
    if value == 0:
        return "0"
    if value == value.to_integral_value():
        whole = int(value)
        for suffix, factor in _BINARY if binary else _DECIMAL:
            if whole % factor == 0:
                return f"{whole // factor}{suffix}"
        return str(whole)
    for suffix, small in _SMALL:
        scaled = value / small
        if scaled == scaled.to_integral_value():
            return f"{int(scaled)}{suffix}"
    return f"{int((value / _SMALL[-1][1]).to_integral_value())}n"

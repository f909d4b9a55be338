"""Kubernetes quantities as whole numbers: CPU in millicores, memory and storage in bytes (both rounded up).

Enough of the quantity grammar for what rendering writes and plans hold (``500m``, ``2``, ``1.5``, ``512Mi``,
``2Gi``, ``1e3``); the arithmetic of quotas is done on these integers, never on strings.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache

_QUANTITY = re.compile(r"^([+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)([KMGTPE]i|[mkMGTPE])?$")
_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
MI = 2**20
GI = 2**30


@lru_cache(maxsize=1024)
def quantity(text: str) -> Decimal:
    """The value of a quantity; ``ValueError`` naming it when it is not one."""
    match = _QUANTITY.match(str(text).strip())
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi.")
    number, suffix = match.groups()
    return Decimal(number) * _SUFFIX[suffix or ""]


@lru_cache(maxsize=1024)
def millicores(text: str) -> int:
    return math.ceil(quantity(text) * 1000)


@lru_cache(maxsize=1024)
def whole_bytes(text: str) -> int:
    return math.ceil(quantity(text))


def cpu_text(milli: int) -> str:
    """``2`` for whole cores, else ``2500m``."""
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def bytes_text(value: int) -> str:
    """The largest binary unit that writes ``value`` exactly: ``2Gi``, ``1536Mi``, ``64Ki`` or plain bytes."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_SUFFIX[suffix])
        if value and value % unit == 0:
            return f"{value // unit}{suffix}"
    return str(value)


def cpu_words(milli: int) -> str:
    """For sentences: ``2.5 CPU``."""
    return f"{Decimal(milli) / 1000:f}".rstrip("0").rstrip(".") + " CPU"


def memory_words(value: int) -> str:
    """For sentences: ``1.5 GiB`` or ``384 MiB``."""
    if value >= GI:
        return f"{value / GI:.2f}".rstrip("0").rstrip(".") + " GiB"
    return f"{math.ceil(value / MI)} MiB"

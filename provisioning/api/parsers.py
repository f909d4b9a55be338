"""The API's JSON parser: DRF's, with a limit on how deeply a body may nest.

A body nested deeper than ``MAX_DEPTH`` arrays or objects is refused with 400 ``body_too_deep`` before any view
reads it (no resource of the API nests more than a few levels): a body of a thousand brackets is a client error,
not a server error. The size limit is Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413 ``body_too_large``).
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

MAX_DEPTH = 16


class BodyTooDeep(exceptions.ParseError):
    default_detail = f"The JSON body is nested more than {MAX_DEPTH} levels deep: flatten it."
    default_code = "body_too_deep"


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests lists and dicts, counting at most to ``limit + 1`` (iteratively: no recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


class LimitedJSONParser(JSONParser):
    """JSON bodies at most ``MAX_DEPTH`` deep (and ``DATA_UPLOAD_MAX_MEMORY_SIZE`` long, as Django checks)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise exceptions.ParseError(f"The body is not valid {encoding} text: {error}") from None
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise BodyTooDeep() from None
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        if nesting_depth(data, MAX_DEPTH) > MAX_DEPTH:
            raise BodyTooDeep()
        return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")

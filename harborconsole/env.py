"""One typed reader for settings from the environment.

Every value comes from ``NAME`` or, for secrets, from the file named by ``NAME_FILE``. A value that cannot be read
as the asked type stops start-up with an error naming the variable and what was expected.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Reads typed settings from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[builtins.str, builtins.str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def raw(self, name: builtins.str) -> builtins.str | None:
        """The value of ``name``, else the content of the file named by ``name_FILE``, else None."""
        if name in self.environ:
            return self.environ[name]
        path = self.environ.get(f"{name}_FILE")
        if path:
            try:
                return Path(path).read_text().strip()
            except OSError as exc:
                raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc.strerror}") from exc
        return None

    def str(self, name: builtins.str, default: builtins.str = "") -> builtins.str:
        value = self.raw(name)
        return default if value is None else value

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")

    def int(
        self, name: builtins.str, default: builtins.int, minimum: builtins.int | None = None
    ) -> builtins.int:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
        return number

    def float(self, name: builtins.str, default: builtins.float) -> builtins.float:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            return float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None

    def list(
        self, name: builtins.str, default: builtins.list[builtins.str] | None = None
    ) -> builtins.list[builtins.str]:
        value = self.raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def url(
        self, name: builtins.str, default: builtins.str = "", schemes: tuple[builtins.str, ...] = ()
    ) -> builtins.str:
        value = self.str(name, default)
        if value and schemes and value.split("://", 1)[0] not in schemes:
            raise ImproperlyConfigured(f"{name}={value!r} must start with one of: {', '.join(schemes)}://")
        return value

"""Model fields: text stored encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.db import models

from provisioning import crypto


class EncryptedTextField(models.TextField):
    """Holds plaintext in Python and a Fernet token in the database; the empty string stays empty."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

"""This console installation: one row whose id marks everything the console owns outside its own database.

Two consoles may share a Kubernetes cluster, a PostgreSQL server, an S3 service or a Redis: their registry ids are
both small integers, so ownership labels and shared-service names carry the installation id as well. It is chosen
once, when the database is first migrated (``INSTALLATION_ID`` when set, else at random), and never changes: a new
id would orphan every object the console created under the old one.
"""

from __future__ import annotations

import re
import secrets
import string

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connections, models, transaction

INSTALLATION_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]{3,11}$")
"""4 to 12 characters, a lowercase letter first: valid in labels, DNS names, PostgreSQL and bucket names."""

_cache: dict[str, str] = {}


def new_installation_id() -> str:
    """``INSTALLATION_ID`` when configured (checked), else 8 random characters."""
    configured = getattr(settings, "INSTALLATION_ID", "")
    if configured:
        if not INSTALLATION_ID_PATTERN.match(configured):
            raise ImproperlyConfigured(
                f"INSTALLATION_ID={configured!r} must be 4 to 12 lowercase letters or digits, a letter first."
            )
        return configured
    alphabet = string.ascii_lowercase + string.digits
    return secrets.choice(string.ascii_lowercase) + "".join(secrets.choice(alphabet) for _ in range(7))


class Installation(models.Model):
    """The single row (pk 1) naming this installation."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    uid = models.CharField(max_length=12, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.uid

    @classmethod
    def current(cls, using: str = "default") -> Installation:
        """The row, created on first use if a flushed or fresh database has none."""
        found = cls.objects.using(using).filter(pk=1).first()
        if found is not None:
            return found
        try:
            with transaction.atomic(using=using):
                return cls.objects.using(using).create(pk=1, uid=new_installation_id())
        except IntegrityError:
            return cls.objects.using(using).get(pk=1)


def installation_id(using: str = "default") -> str:
    """This installation's id, read once per process and database."""
    database = str(connections[using].settings_dict["NAME"])
    found = _cache.get(database)
    if found is None:
        found = _cache[database] = Installation.current(using).uid
    return found

"""Finding a registry from the command line: by id, or as ``tenant/name``."""

from __future__ import annotations

from django.core.management.base import CommandError

from provisioning.models import Registry


def find_registry(reference: str) -> Registry:
    """The registry named ``reference`` (an id, or ``tenant-slug/name``); a ``CommandError`` says why not."""
    queryset = Registry.objects.with_related()
    if reference.isdigit():
        found = queryset.filter(pk=int(reference)).first()
    elif reference.count("/") == 1:
        tenant, name = reference.split("/")
        found = queryset.filter(tenant__slug=tenant, name=name).first()
    else:
        raise CommandError(f"{reference!r} is neither a registry id nor tenant/name.")
    if found is None:
        raise CommandError(f"No registry {reference!r}.")
    return found

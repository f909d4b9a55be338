"""Which registry of which console made an object on a shared service: the mark, and the rule that reads it.

Every database, role, bucket, IAM user and provider Redis the console makes or takes for a registry carries a mark
naming the console installation and the registry (a PostgreSQL comment, S3 and IAM tags, a Redis key). The console
changes, uses or deletes only what carries its registry's mark:

- a mark of this registry: the object is the registry's;
- a mark of another registry or installation: refused, with a sentence naming the clash (the provider's move);
- no mark: refused too, unless the binding vouches for the object — it was provisioned before marks existed
  (``provisioned_at`` set) or the console recorded that it was creating it (an interrupted run). Then the console
  marks it once and goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from provisioning.choices import WhoseMove
from provisioning.external.base import DependencyMisconfigured
from provisioning.models import Binding, installation_id

TAG_INSTALLATION = "harbor-console/installation"
TAG_REGISTRY = "harbor-console/registry"
_COMMENT = re.compile(r"^harbor-console installation=([a-z][a-z0-9]{3,11}) registry=(\d+)$")


@dataclass(frozen=True)
class Owner:
    """A registry of a console installation: what a mark names."""

    installation: str
    registry_id: int

    @classmethod
    def of(cls, binding: Binding) -> Owner:
        return cls(installation_id(), int(binding.registry_id))  # type: ignore[attr-defined]

    @property
    def text(self) -> str:
        """The mark as one line of text (PostgreSQL comment, Redis value)."""
        return f"harbor-console installation={self.installation} registry={self.registry_id}"

    @property
    def tags(self) -> list[dict[str, str]]:
        """The mark as S3/IAM tags."""
        return [
            {"Key": TAG_INSTALLATION, "Value": self.installation},
            {"Key": TAG_REGISTRY, "Value": str(self.registry_id)},
        ]

    def __str__(self) -> str:
        return f"registry {self.registry_id} of console installation {self.installation}"


def parse_text(text: str | bytes | None) -> Owner | None:
    """The owner a text mark names; None when there is no mark (empty, or text that is not a mark)."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    match = _COMMENT.match((text or "").strip())
    return Owner(match.group(1), int(match.group(2))) if match else None


def parse_tags(tags: list[dict[str, Any]]) -> Owner | None:
    """The owner S3/IAM tags name; None when they carry no complete mark."""
    values = {str(tag.get("Key")): str(tag.get("Value")) for tag in tags}
    installation, registry = values.get(TAG_INSTALLATION), values.get(TAG_REGISTRY)
    if installation and registry and registry.isdigit():
        return Owner(installation, int(registry))
    return None


class NotOwned(DependencyMisconfigured):
    """An object of this registry's name exists on the service but is not this registry's."""

    whose_move = WhoseMove.PROVIDER

    @classmethod
    def clash(cls, what: str, where: str, found: Owner | None, expected: Owner) -> NotOwned:
        carries = f"the mark of {found}" if found else "no mark of this console"
        return cls(
            f"{what} at {where} already exists and is not this registry's: it carries {carries}, and this is "
            f"{expected}. The console neither uses, changes nor deletes it: find out at the provider whose it is, "
            "and rename or remove it there."
        )


def must_mark(what: str, where: str, found: Owner | None, expected: Owner, *, vouched: bool) -> bool:
    """Whether the object still needs the mark (True) or carries it already (False); NotOwned when it is not ours.

    ``vouched``: the binding says the console made this object (provisioned before marks existed, or an
    interrupted creation it recorded), so an unmarked one is this registry's.
    """
    if found == expected:
        return False
    if found is None and vouched:
        return True
    raise NotOwned.clash(what, where, found, expected)


def refuse_if_shared(binding: Binding, what: str, **same: Any) -> None:
    """Raise when another registry's binding of the same kind names the same object (``same``: the fields naming
    it): the console removes an object only when it is one registry's alone."""
    other: Any = type(binding)._default_manager.filter(**same).exclude(pk=binding.pk).first()
    if other is not None:
        raise DependencyMisconfigured(
            f"{what} is also recorded for registry {other.registry}: the console removes it only when it is one "
            "registry's alone.",
            whose_move=WhoseMove.PROVIDER,
        )

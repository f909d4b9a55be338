"""The Harbor versions the console can deploy, and which upgrades between them are allowed.

Harbor maintains its three most recent minors; an upgrade may move to any newer patch, or to a newer minor only
from one of the two previous minors; never down.
"""

from __future__ import annotations

from dataclasses import dataclass

LATEST_PATCH = {"2.13": 5, "2.14": 4, "2.15": 2}
SUPPORTED_MINORS = tuple(LATEST_PATCH)
SUPPORTED_VERSIONS = tuple(
    f"{minor}.{patch}" for minor, last in LATEST_PATCH.items() for patch in range(last + 1)
)
DEFAULT_VERSION = f"2.15.{LATEST_PATCH['2.15']}"


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        parts = text.strip().removeprefix("v").split(".")
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            raise ValueError(f"{text!r} is not a version like 2.15.2.")
        return cls(int(parts[0]), int(parts[1]), int(parts[2]))

    @property
    def minor_key(self) -> str:
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def is_supported(version: str) -> bool:
    return version in SUPPORTED_VERSIONS


def unsupported_reason(version: str) -> str:
    return f"Harbor {version} is not supported: choose one of {', '.join(SUPPORTED_VERSIONS)}."


def upgrade_refusal(current: str, target: str) -> str | None:
    """Why ``current`` → ``target`` is not allowed, or None when it is."""
    if not is_supported(target):
        return unsupported_reason(target)
    cur, tgt = Version.parse(current), Version.parse(target)
    if tgt == cur:
        return f"The registry already runs Harbor {current}."
    if tgt < cur:
        return f"Harbor cannot be downgraded ({current} → {target}): choose a version newer than {current}."
    minor_gap = (tgt.major - cur.major) * 100 + (tgt.minor - cur.minor)
    if minor_gap > 2 or tgt.major != cur.major:
        return (
            f"Harbor {target} can only be reached from the two previous minors; upgrade {current} to an "
            f"intermediate minor first."
        )
    return None


def upgrade_targets(current: str) -> list[str]:
    """Every version ``current`` may move to, newest first."""
    return [v for v in reversed(SUPPORTED_VERSIONS) if upgrade_refusal(current, v) is None]

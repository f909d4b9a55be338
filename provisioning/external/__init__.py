"""Adapters to the provider's shared services (PostgreSQL, Redis, object storage); no Kubernetes in here.

The reconciler calls the functions exported here (``prepare_changed_dependencies`` on every pass). Each takes a
registry row, reads and writes its binding rows, and talks to the services through the providers of ``postgres``,
``redis`` and ``s3``; ``tls`` covers hostnames and certificates.
"""

from provisioning.external.base import (
    CheckResult,
    DependencyError,
    DependencyMisconfigured,
    DependencyUnreachable,
    PurgeBlocked,
    RotationNotSupported,
)
from provisioning.external.dependencies import (
    DependencyItem,
    DependencyReport,
    check_dependencies,
    complete_rotations,
    prepare_changed_dependencies,
    prepare_dependencies,
    purge_dependencies,
)

__all__ = [
    "CheckResult",
    "DependencyError",
    "DependencyItem",
    "DependencyMisconfigured",
    "DependencyReport",
    "DependencyUnreachable",
    "PurgeBlocked",
    "RotationNotSupported",
    "check_dependencies",
    "complete_rotations",
    "prepare_changed_dependencies",
    "prepare_dependencies",
    "purge_dependencies",
]

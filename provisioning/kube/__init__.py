"""The one Kubernetes gateway: per-cluster clients, server-side apply, owned-object listing, deletion, watches,
and the check of a cluster's prerequisites (``prerequisites``).

It knows nothing of Harbor nor of the database: callers hand it a ``ClusterAccess`` and plain manifests.
"""

from provisioning.kube.access import ClusterAccess
from provisioning.kube.errors import (
    KubeApiError,
    KubeConfigError,
    KubeError,
    KubeUnreachable,
    KubeWatchExpired,
)
from provisioning.kube.gateway import KubeGateway, gateway_for
from provisioning.kube.resources import Resource, object_key
from provisioning.kube.watching import WatchEvent

__all__ = [
    "ClusterAccess",
    "KubeApiError",
    "KubeConfigError",
    "KubeError",
    "KubeGateway",
    "KubeUnreachable",
    "KubeWatchExpired",
    "Resource",
    "WatchEvent",
    "gateway_for",
    "object_key",
]

"""The one Kubernetes gateway: per-cluster clients, server-side apply, owned-object listing, deletion.

It knows nothing of Harbor nor of the database: callers hand it a ``ClusterAccess`` and plain manifests.
"""

from provisioning.kube.access import ClusterAccess
from provisioning.kube.errors import KubeApiError, KubeConfigError, KubeError, KubeUnreachable
from provisioning.kube.gateway import KubeGateway, gateway_for
from provisioning.kube.resources import Resource, object_key

__all__ = [
    "ClusterAccess",
    "KubeApiError",
    "KubeConfigError",
    "KubeError",
    "KubeGateway",
    "KubeUnreachable",
    "Resource",
    "gateway_for",
    "object_key",
]

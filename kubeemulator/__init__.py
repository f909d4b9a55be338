"""An emulator of the Kubernetes API server, for tests and demos: it is **not** Kubernetes.

It is a real HTTP server that the official ``kubernetes`` client reaches through ``Configuration(host=url)``,
as it would a cluster, with apiserver semantics for the kinds in ``kinds.KINDS``: discovery, list/get/create/
update/patch/delete, ``resourceVersion`` conflicts, label and field selectors, server-side apply with field
managers, the ``/status`` subresource, ``metadata.generation``, owner-reference garbage collection, namespace
deletion and ``Status`` errors. On top of that, a control API (in process and under ``/_emulator/``) for
simulated readiness, broken workloads, fault injection and request accounting.

What it simplifies (code that passes here can still fail against a real cluster on these points):

* no controllers, kubelet, scheduler or admission: Deployments create no ReplicaSets or Pods; the status of
  workloads, certificates, jobs and claims is *simulated* (see ``readiness``);
* strategic merge patch is a JSON merge patch (lists are replaced whole, never merged by key);
* server-side apply treats every list as atomic and tracks ownership per leaf field (see ``apply``);
* no defaulting of spec fields and no schema validation beyond names, labels, annotations and Secret data;
* deletion is immediate (no finalizers, no grace period, no ``Terminating`` namespaces) and dependents are
  garbage-collected synchronously; ``metadata.generation`` is kept for every kind;
* no watch, no protobuf or CBOR, JSON (and YAML for apply) only; one ``resourceVersion`` counter, no etcd.

Start one with ``KubeEmulator().start()`` (or as a context manager), or ``python -m kubeemulator``.
"""

from .emulator import KubeEmulator
from .errors import ApiError
from .faults import FaultRule
from .kinds import KINDS, Kind
from .readiness import BrokenRule

__all__ = ["KINDS", "ApiError", "BrokenRule", "FaultRule", "Kind", "KubeEmulator"]

"""An emulator of the Kubernetes API server, for tests and demos: it is **not** Kubernetes.

It is a real HTTP server that the official ``kubernetes`` client reaches through ``Configuration(host=url)``,
as it would a cluster, with apiserver semantics for the kinds in ``kinds.KINDS``:

* discovery (custom kinds only while their CustomResourceDefinition exists), list/get/create/update/patch/delete,
  ``resourceVersion`` conflicts, label and field selectors, the ``/status`` subresource, ``Status`` errors;
* server-side apply as structured-merge-diff does it: lists merge by their keys (``containers``, ``env``,
  ``ports``, ``volumes``...), ownership per field and per list entry in ``managedFields`` (fieldsV1), conflicts,
  and strategic merge patch by ``patchMergeKey`` (see ``apply``, ``schema``, ``patching``);
* defaulting (``defaults``), immutable fields (``immutability``) and a few validations (``validation``);
* admission: namespace lifecycle, LimitRange defaults and bounds, ResourceQuota for pods, claims and object
  counts (``quota``), the default StorageClass and IngressClass;
* simulated controllers (``controllers``, ``workloads``, ``pods``): Deployments own ReplicaSets that create Pods
  (rolling updates with maxSurge/maxUnavailable, ``ReplicaFailure`` when admission refuses a pod), StatefulSets
  create ordered pods and their claims, Jobs run pods to completion, claims bind, cert-manager issues
  Certificates into TLS Secrets, ResourceQuota status follows usage, namespaces stay ``Terminating`` while their
  content drains, owner references are garbage-collected, events are recorded;
* watches (``watch``): chunked streams from a resourceVersion, bookmarks, 410 Gone beyond the kept history;
* an installed-cluster seed (``seed``): cert-manager's CRDs and a ClusterIssuer, IngressClass ``nginx``, a default
  StorageClass, the ``kube-dns`` Service, the usual namespaces.

On top of that, a control API (in process and under ``/_emulator/``) for the readiness delay, broken workloads,
fault injection and request accounting.

What it still simplifies (code that passes here can still fail against a real cluster on these points):

* readiness is simulated: a workload's pods become ready ``ready_delay`` seconds after its last spec change (or
  never, under a broken rule; a broken Deployment reports ``ProgressDeadlineExceeded`` at once); no kubelet,
  scheduler, probes, images, resource pressure or nodes beyond one; DaemonSets run no pods; minReadySeconds and
  StatefulSet partitions' old templates are ignored; no ControllerRevisions; Pod Security admission, RBAC and
  webhooks are not enforced; a pod's missing ConfigMap or Secret volume goes unnoticed;
* only the list markers and patch keys of the kinds of a Harbor stack are known (``schema``); every other list is
  atomic, and custom resources' lists are atomic whatever their CRD says; a CRD serves only a kind the emulator
  already knows, and no schema of a CRD is validated; quantities are stored as sent (no canonical form);
* ResourceQuota scopes and priority classes, LimitRange ``maxLimitRequestRatio`` and Pod/PVC limit types, and
  NodePort allocation are not modelled; validation covers names, labels, selectors, Secret data and Ingress path
  types only (validate rendered manifests with ``kubernetes-validate``);
* deletion is immediate except for namespaces: no finalizers, no grace periods (a deleted pod is answered as a
  graceful deletion would be), garbage collection is synchronous; ``metadata.generation`` is kept for every kind;
* one ``resourceVersion`` counter and an in-memory history of ``watch_history`` changes; list pages are not a
  consistent snapshot; no ``sendInitialEvents``, protobuf or CBOR; JSON (and YAML for apply) only.

Start one with ``KubeEmulator().start()`` (or as a context manager), or ``python -m kubeemulator``.
"""

from .emulator import KubeEmulator
from .errors import ApiError
from .faults import FaultRule
from .kinds import KINDS, Kind
from .readiness import BrokenRule

__all__ = ["KINDS", "ApiError", "BrokenRule", "FaultRule", "Kind", "KubeEmulator"]

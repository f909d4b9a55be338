"""The simulated controllers: what a cluster's controller manager, kubelet and cert-manager do after a write.

A ``Controllers`` instance lives beside the store and runs under its lock. Every committed change is ``notice``d and
queues the objects that must look again (a Deployment when its ReplicaSets change, a ReplicaSet when its pods
change...); ``settle`` then runs them — after each write, before each read, and from a background ticker — together
with whatever became due on the emulator's clock (a pod becoming ready, a namespace to drain). The workload logic is
in ``workloads``; claims, certificates, CRDs, quota status and events are here.

Controller writes are real store writes (new resourceVersions, watch events, managedFields of
``kube-controller-manager``...) but are counted as ``controller_updates``, never as the clients' mutations.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import lifecycle, pods, quota, workloads
from .errors import ApiError
from .kinds import (
    CERTIFICATE,
    CLAIM,
    CRD,
    EVENT,
    INGRESS_CLASS,
    KINDS,
    LIMIT_RANGE,
    NAMESPACE,
    POD,
    QUOTA,
    REPLICA_SET,
    STATEFUL_SET,
    STORAGE_CLASS,
    Kind,
    kind_named,
)
from .readiness import BROKEN, READY, certificate_status
from .values import now_rfc3339, same_but_timestamps

if TYPE_CHECKING:
    from .store import Store

logger = logging.getLogger("kubeemulator")

Ref = tuple[Kind, str, str]
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
DEFAULT_CLASS_BETA = "storageclass.beta.kubernetes.io/is-default-class"
DEFAULT_INGRESS_CLASS = "ingressclass.kubernetes.io/is-default-class"
_MAX_PASSES = 100_000
_CERT_MANAGER = "cert-manager"
_ISSUER = kind_named("Issuer")
_CLUSTER_ISSUER = kind_named("ClusterIssuer")
_SECRET = kind_named("Secret")
_INGRESS = kind_named("Ingress")


class Controllers:
    """The controllers' work queue, their clock-driven deadlines, and what they remember between passes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.readiness = store.readiness
        self._queue: dict[Ref, None] = {}
        self._deadlines: list[tuple[float, int, str, Ref]] = []
        self._scheduled: set[tuple[float, str, Ref]] = set()
        self._sequence = 0
        self._settling = False
        self._blocked: dict[str, set[Ref]] = {}
        """Namespace → workloads that could not create a pod or claim (they retry when room is made)."""
        self._quota_dirty: set[str] = set()
        self._shown: dict[str, tuple[Any, ...]] = {}
        self._events: dict[tuple[str, str, str], str] = {}
        self._progress: dict[str, float] = {}
        store.controllers = self

    def reset(self) -> None:
        self._queue.clear()
        self._deadlines.clear()
        self._scheduled.clear()
        self._blocked.clear()
        self._quota_dirty.clear()
        self._shown.clear()
        self._events.clear()
        self._progress.clear()

    # ---- scheduling --------------------------------------------------------------------------------------

    def now(self) -> float:
        return self.readiness.clock()

    def enqueue(self, kind: Kind, namespace: str, name: str) -> None:
        self._queue[(kind, namespace if kind.namespaced else "", name)] = None

    def enqueue_obj(self, kind: Kind, obj: dict[str, Any]) -> None:
        self.enqueue(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])

    def at(self, when: float, kind: Kind, namespace: str, name: str, action: str = "sync") -> None:
        """Look at an object again once the emulator's clock reaches ``when`` (once, however often asked)."""
        ref = (kind, namespace, name)
        if (when, action, ref) in self._scheduled:
            return
        self._scheduled.add((when, action, ref))
        self._sequence += 1
        heapq.heappush(self._deadlines, (when, self._sequence, action, ref))

    def drain_later(self, namespace: str, delay: float) -> None:
        self.at(self.now() + delay, NAMESPACE, "", namespace, action="drain")

    def next_deadline(self) -> float | None:
        return self._deadlines[0][0] if self._deadlines else None

    def settle(self) -> None:
        """Run what is due and what was woken, until nothing moves."""
        if self._settling:
            return
        self._settling = True
        try:
            now = self.now()
            while self._deadlines and self._deadlines[0][0] <= now:
                when, _, action, (kind, namespace, name) = heapq.heappop(self._deadlines)
                self._scheduled.discard((when, action, (kind, namespace, name)))
                if action == "drain":
                    self.store.drain_namespace(name)
                else:
                    self.enqueue(kind, namespace, name)
            passes = 0
            while self._queue or self._quota_dirty:
                while self._queue:
                    passes += 1
                    if passes > _MAX_PASSES:
                        logger.error("the simulated controllers did not settle: %s", list(self._queue)[:5])
                        self._queue.clear()
                        break
                    ref = next(iter(self._queue))
                    del self._queue[ref]
                    self._sync(ref)
                for namespace in sorted(self._quota_dirty):
                    self._quota_dirty.discard(namespace)
                    self._refresh_quotas(namespace)
        finally:
            self._settling = False

    def _sync(self, ref: Ref) -> None:
        kind, namespace, name = ref
        obj = self.store.find(kind, namespace, name)
        if obj is None:
            return
        sync = _SYNC.get(kind.kind)
        if sync is not None:
            sync(self, obj)

    # ---- what a change wakes -----------------------------------------------------------------------------

    def notice(self, kind: Kind, event: str, obj: dict[str, Any], previous: dict[str, Any] | None) -> None:
        namespace = obj["metadata"].get("namespace", "")
        gone = event == "DELETED"
        if kind.namespaced and (event != "MODIFIED" or kind in (POD, CLAIM)):
            self._quota_dirty.add(namespace)
        if kind.kind in _SYNC and not gone:
            self.enqueue_obj(kind, obj)
        if kind in (POD, REPLICA_SET):
            owner = pods.controller_of(obj)
            if owner is not None and owner["kind"] in _OWNERS:
                self.enqueue(kind_named(owner["kind"]), namespace, owner["name"])
        if kind is POD and (gone or pods.is_terminal(obj)):
            self._wake_blocked(namespace)
        if kind is CLAIM:
            if gone:
                self._wake_blocked(namespace)
            elif (obj.get("status") or {}).get("phase") == "Bound":
                for each in self.store.in_namespace(STATEFUL_SET, namespace):
                    self.enqueue_obj(STATEFUL_SET, each)
        if kind in (QUOTA, LIMIT_RANGE) and _spec(obj) != _spec(previous):
            self._wake_blocked(namespace)
            if kind is QUOTA and not gone:
                self._quota_dirty.add(namespace)
        if kind is STORAGE_CLASS and not gone:
            for claim in self.store.all_of(CLAIM):
                if (claim.get("status") or {}).get("phase") != "Bound":
                    self.enqueue_obj(CLAIM, claim)
        if kind in (_ISSUER, _CLUSTER_ISSUER):
            for certificate in self.store.all_of(CERTIFICATE):
                self.enqueue_obj(CERTIFICATE, certificate)
        if kind is CRD and gone:
            self._forget_custom_objects(obj)
        if gone:
            uid = obj["metadata"]["uid"]
            self._progress.pop(uid, None)
            self._shown.pop(uid, None)

    def _wake_blocked(self, namespace: str) -> None:
        for ref in self._blocked.pop(namespace, set()):
            self._queue[ref] = None

    def blocked(self, kind: Kind, obj: dict[str, Any], failing: bool) -> None:
        namespace = obj["metadata"].get("namespace", "")
        ref = (kind, namespace, obj["metadata"]["name"])
        if failing:
            self._blocked.setdefault(namespace, set()).add(ref)
        elif namespace in self._blocked:
            self._blocked[namespace].discard(ref)

    def _forget_custom_objects(self, crd: dict[str, Any]) -> None:
        """A deleted CRD takes every object of its kind along."""
        name = crd["metadata"]["name"]
        for kind in KINDS:
            if kind.crd == name:
                for obj in self.store.all_of(kind):
                    self.store.remove(kind, obj)

    # ---- admission ---------------------------------------------------------------------------------------

    def admit(self, kind: Kind, obj: dict[str, Any], live: dict[str, Any] | None) -> None:
        """Mutating and validating admission of a client's write (the store checked namespace lifecycle)."""
        if live is None and kind is CLAIM:
            self._default_storage_class(obj)
        if live is None and kind is _INGRESS:
            self._default_ingress_class(obj)
        if live is None and kind is POD:
            self._limit_pod(obj, obj["metadata"]["name"])
        self.store.quota_check(kind, obj, live)

    def _limit_pod(self, pod: dict[str, Any], shown_name: str) -> None:
        namespace = pod["metadata"].get("namespace", "")
        quota.apply_limit_ranges(pod, self.store.in_namespace(LIMIT_RANGE, namespace), shown_name)

    def _default_storage_class(self, claim: dict[str, Any]) -> None:
        spec = claim.setdefault("spec", {})
        if "storageClassName" in spec:
            return
        default = self.default_class(STORAGE_CLASS, (DEFAULT_CLASS, DEFAULT_CLASS_BETA))
        if default is not None:
            spec["storageClassName"] = default

    def _default_ingress_class(self, ingress: dict[str, Any]) -> None:
        spec = ingress.setdefault("spec", {})
        annotations = ingress["metadata"].get("annotations") or {}
        if "ingressClassName" in spec or "kubernetes.io/ingress.class" in annotations:
            return
        default = self.default_class(INGRESS_CLASS, (DEFAULT_INGRESS_CLASS,))
        if default is not None:
            spec["ingressClassName"] = default

    def default_class(self, kind: Kind, annotations: tuple[str, ...]) -> str | None:
        marked = [
            obj["metadata"]["name"]
            for obj in self.store.all_of(kind)
            if any((obj["metadata"].get("annotations") or {}).get(a) == "true" for a in annotations)
        ]
        return sorted(marked)[0] if marked else None

    def check_expansion(self, claim: dict[str, Any]) -> None:
        """A larger claim is refused (403) unless its StorageClass allows expansion."""
        name = (claim.get("spec") or {}).get("storageClassName") or ""
        storage_class = self.store.find(STORAGE_CLASS, "", name) if name else None
        if storage_class is None or storage_class.get("allowVolumeExpansion") is not True:
            why = (
                "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc "
                "must support resize"
            )
            raise ApiError.forbidden(CLAIM, claim["metadata"]["name"], why)

    # ---- what controllers create -------------------------------------------------------------------------

    def create_pod(self, pod: dict[str, Any]) -> dict[str, Any]:
        """Admit and store a controller's pod; an ``ApiError`` (403) when admission refuses it."""
        metadata = pod["metadata"]
        shown = metadata.get("name") or metadata.get("generateName", "")
        namespace = self.store.find(NAMESPACE, "", metadata["namespace"])
        if namespace is None or namespace["metadata"].get("deletionTimestamp"):
            raise lifecycle.terminating(POD, shown, metadata["namespace"])
        self._limit_pod(pod, shown)
        self.store.quota_check(POD, pod, None, name=shown)
        return self.store.system_create(POD, pod)

    def create_claim(self, claim: dict[str, Any]) -> dict[str, Any]:
        self._default_storage_class(claim)
        self.store.quota_check(CLAIM, claim, None)
        return self.store.system_create(CLAIM, claim)

    def event(
        self,
        kind: Kind,
        obj: dict[str, Any],
        reason: str,
        message: str,
        *,
        warning: bool = True,
        component: str,
    ) -> None:
        """Record an Event about ``obj`` (repeats of the same event count up instead)."""
        metadata = obj["metadata"]
        namespace = metadata.get("namespace") or "default"
        key = (metadata["uid"], reason, message)
        now = now_rfc3339()
        existing = self._events.get(key)
        found = self.store.find(EVENT, namespace, existing) if existing else None
        if found is not None:
            updated = {**found, "metadata": dict(found["metadata"]), "count": int(found.get("count", 1)) + 1}
            updated["lastTimestamp"] = now
            self.store.system_update(EVENT, found, updated, component)
            return
        self._sequence += 1
        name = f"{metadata['name']}.{self._sequence:016x}"
        self._events[key] = name
        involved = {
            "apiVersion": obj.get("apiVersion", kind.api_version),
            "kind": kind.kind,
            "name": metadata["name"],
            "uid": metadata["uid"],
            "resourceVersion": metadata.get("resourceVersion", ""),
        }
        if metadata.get("namespace"):
            involved["namespace"] = namespace
        self.store.system_create(
            EVENT,
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "type": "Warning" if warning else "Normal",
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "source": {"component": component},
                "reportingComponent": component,
                "reportingInstance": "",
            },
            component,
        )

    # ---- pods' life --------------------------------------------------------------------------------------

    def pod_state(
        self, pod: dict[str, Any], workload: tuple[Kind, dict[str, Any]], job: bool = False
    ) -> tuple[str, pods.Why | None, float | None]:
        """Where ``pod`` stands now, why, and when to look again (None: nothing to wait for)."""
        kind, owner = workload
        metadata = owner["metadata"]
        unbound = self._unbound_claims(pod)
        if unbound:
            message = (
                f"0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims ({', '.join(unbound)}). "
                "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
            )
            return pods.UNSCHEDULABLE, pods.Why("Unschedulable", message), None
        rule = self.readiness.rule_for(kind.kind, metadata.get("namespace", ""), metadata["name"])
        if rule is not None:
            state = pods.FAILED if job else pods.WAITING
            return state, pods.Why(rule.reason, rule.message), None
        due = self.readiness.ready_at(metadata["uid"])
        if self.now() >= due or (pods.is_ready(pod) and not job):
            return (pods.SUCCEEDED if job else pods.READY), None, None
        return pods.STARTING, None, due

    def _unbound_claims(self, pod: dict[str, Any]) -> list[str]:
        namespace = pod["metadata"].get("namespace", "")
        names = []
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            claim = ((volume or {}).get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                found = self.store.find(CLAIM, namespace, claim)
                if found is None or (found.get("status") or {}).get("phase") != "Bound":
                    names.append(f'"{claim}"')
        return names

    def refresh_pod(
        self, pod: dict[str, Any], workload: tuple[Kind, dict[str, Any]], job: bool = False
    ) -> dict[str, Any]:
        """Bring ``pod``'s status to where it stands now (a terminal pod stays as it ended)."""
        if pods.is_terminal(pod):
            return pod
        state, why, due = self.pod_state(pod, workload, job)
        if due is not None:
            owner = pods.controller_of(pod)
            if owner is not None and owner["kind"] in _OWNERS:
                self.at(due, kind_named(owner["kind"]), pod["metadata"]["namespace"], owner["name"])
        status = pods.pod_status(pod, state, why)
        if same_but_timestamps(pod.get("status") or {}, status):
            return pod
        return self.store.system_status(POD, pod, status, "kubelet")

    def progressed(self, uid: str, moved: bool) -> float:
        """When ``uid``'s rollout last moved (now when ``moved``)."""
        if moved or uid not in self._progress:
            self._progress[uid] = self.now()
        return self._progress[uid]

    # ---- claims, certificates, CRDs, quotas --------------------------------------------------------------

    def sync_claim(self, claim: dict[str, Any]) -> None:
        if (claim.get("status") or {}).get("phase") == "Bound":
            self._resize(claim)
            return
        spec = claim.get("spec") or {}
        class_name = spec.get("storageClassName")
        if not class_name:
            self.event(
                CLAIM,
                claim,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
                warning=False,
                component="persistentvolume-controller",
            )
            self._claim_status(claim, {"phase": "Pending"})
            return
        storage_class = self.store.find(STORAGE_CLASS, "", class_name)
        if storage_class is None:
            self.event(
                CLAIM,
                claim,
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{class_name}" not found',
                component="persistentvolume-controller",
            )
            self._claim_status(claim, {"phase": "Pending"})
            return
        phase, _ = self.readiness.phase("PersistentVolumeClaim", claim)
        if phase != READY:
            self._claim_status(claim, {"phase": "Pending"})
            if phase != BROKEN:
                self.at(
                    self.readiness.ready_at(claim["metadata"]["uid"]),
                    CLAIM,
                    claim["metadata"]["namespace"],
                    claim["metadata"]["name"],
                )
            return
        provisioner = str(storage_class.get("provisioner", ""))
        annotations = {
            **(claim["metadata"].get("annotations") or {}),
            "pv.kubernetes.io/bind-completed": "yes",
            "pv.kubernetes.io/bound-by-controller": "yes",
            "volume.beta.kubernetes.io/storage-provisioner": provisioner,
            "volume.kubernetes.io/storage-provisioner": provisioner,
        }
        bound = {
            **claim,
            "metadata": {**claim["metadata"], "annotations": annotations},
            "spec": {**spec, "volumeName": f"pvc-{claim['metadata']['uid']}"},
        }
        claim = self.store.system_update(CLAIM, claim, bound)
        status: dict[str, Any] = {"phase": "Bound", "accessModes": spec.get("accessModes", ["ReadWriteOnce"])}
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        if storage:
            status["capacity"] = {"storage": storage}
        self._claim_status(claim, status)

    def _resize(self, claim: dict[str, Any]) -> None:
        wanted = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
        status = claim.get("status") or {}
        if wanted and (status.get("capacity") or {}).get("storage") != wanted:
            self._claim_status(claim, {**status, "capacity": {"storage": wanted}})

    def _claim_status(self, claim: dict[str, Any], status: dict[str, Any]) -> None:
        self.store.system_status(CLAIM, claim, status, "kube-controller-manager")

    def sync_certificate(self, certificate: dict[str, Any]) -> None:
        metadata = certificate["metadata"]
        issuer = self._issuer_of(certificate)
        phase, rule = self.readiness.phase("Certificate", certificate)
        if issuer is None and phase != BROKEN:
            reference = (certificate.get("spec") or {}).get("issuerRef") or {}
            issuer_kind = reference.get("kind") or "Issuer"
            message = (
                f'Referenced "{issuer_kind}" not found: {issuer_kind.lower()}.cert-manager.io '
                f'"{reference.get("name", "")}" not found'
            )
            self.event(CERTIFICATE, certificate, "IssuerNotFound", message, component=_CERT_MANAGER)
            phase = "Progressing"
        elif phase == "Progressing":
            self.at(
                self.readiness.ready_at(metadata["uid"]), CERTIFICATE, metadata["namespace"], metadata["name"]
            )
        shown = (metadata.get("generation"), phase, rule, issuer is None)
        if self._shown.get(metadata["uid"]) == shown:
            return
        self._shown[metadata["uid"]] = shown
        certificate = self.store.system_status(
            CERTIFICATE, certificate, certificate_status(certificate, phase, rule), _CERT_MANAGER
        )
        if phase == READY:
            self._issue_secret(certificate)

    def _issuer_of(self, certificate: dict[str, Any]) -> dict[str, Any] | None:
        reference = (certificate.get("spec") or {}).get("issuerRef") or {}
        name = str(reference.get("name", ""))
        if reference.get("kind") == "ClusterIssuer":
            return self.store.find(_CLUSTER_ISSUER, "", name) if self.store.served(_CLUSTER_ISSUER) else None
        if not self.store.served(_ISSUER):
            return None
        return self.store.find(_ISSUER, certificate["metadata"]["namespace"], name)

    def _issue_secret(self, certificate: dict[str, Any]) -> None:
        """The TLS Secret cert-manager writes for an issued certificate (fake key material)."""
        spec = certificate.get("spec") or {}
        name = spec.get("secretName")
        if not name:
            return
        namespace = certificate["metadata"]["namespace"]
        reference = spec.get("issuerRef") or {}
        names = spec.get("dnsNames") or []
        annotations = {
            "cert-manager.io/certificate-name": certificate["metadata"]["name"],
            "cert-manager.io/issuer-name": str(reference.get("name", "")),
            "cert-manager.io/issuer-kind": str(reference.get("kind") or "Issuer"),
            "cert-manager.io/issuer-group": str(reference.get("group") or "cert-manager.io"),
            "cert-manager.io/alt-names": ",".join(names),
            "cert-manager.io/common-name": str(spec.get("commonName") or (names[0] if names else "")),
        }
        data = {
            "tls.crt": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmVtdWxhdGVkCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K",
            "tls.key": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCmVtdWxhdGVkCi0tLS0tRU5EIFBSSVZBVEUgS0VZLS0tLS0K",
        }
        existing = self.store.find(_SECRET, namespace, name)
        if existing is None:
            self.store.system_create(
                _SECRET,
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
                    "type": "kubernetes.io/tls",
                    "data": data,
                },
                "cert-manager-certificates-issuing",
            )
        elif (existing.get("data") or {}).get("tls.crt") != data["tls.crt"]:
            merged_annotations = {**(existing["metadata"].get("annotations") or {}), **annotations}
            updated = {
                **existing,
                "metadata": {**existing["metadata"], "annotations": merged_annotations},
                "data": {**(existing.get("data") or {}), **data},
            }
            self.store.system_update(_SECRET, existing, updated, "cert-manager-certificates-issuing")

    def sync_crd(self, crd: dict[str, Any]) -> None:
        status = lifecycle.crd_status(crd, now_rfc3339())
        if (crd.get("status") or {}).get("conditions") and same_but_timestamps(
            crd.get("status") or {}, status
        ):
            return
        self.store.system_status(CRD, crd, status, "kube-apiserver")

    def sync_issuer(self, issuer: dict[str, Any]) -> None:
        if (issuer.get("status") or {}).get("conditions"):
            return
        acme = (issuer.get("spec") or {}).get("acme")
        message = "The ACME account was registered with the ACME server" if acme else "Signing CA verified"
        reason = "ACMEAccountRegistered" if acme else "KeyPairVerified"
        condition = {
            "type": "Ready",
            "status": "True",
            "reason": reason,
            "message": message,
            "lastTransitionTime": now_rfc3339(),
            "observedGeneration": issuer["metadata"].get("generation", 1),
        }
        status: dict[str, Any] = {"conditions": [condition]}
        if acme:
            status["acme"] = {
                "uri": "https://acme-v02.api.letsencrypt.org/acme/acct/1",
                "lastRegisteredEmail": acme.get("email", ""),
            }
        kind = _CLUSTER_ISSUER if issuer["kind"] == "ClusterIssuer" else _ISSUER
        self.store.system_status(kind, issuer, status, _CERT_MANAGER)

    def _refresh_quotas(self, namespace: str) -> None:
        quotas = self.store.in_namespace(QUOTA, namespace)
        if not quotas:
            return
        used = self.store.namespace_usage(namespace)
        for each in quotas:
            status = quota.quota_status(each, used)
            if each.get("status") != status:
                self.store.system_status(QUOTA, each, status, "kube-controller-manager")

    def namespace_usage(self, namespace: str) -> dict[str, Decimal]:
        return self.store.namespace_usage(namespace)


def _spec(obj: dict[str, Any] | None) -> Any:
    return (obj or {}).get("spec")


_OWNERS = frozenset({"ReplicaSet", "Deployment", "StatefulSet", "Job"})
_SYNC: dict[str, Callable[[Controllers, dict[str, Any]], None]] = {
    "Deployment": workloads.sync_deployment,
    "ReplicaSet": workloads.sync_replica_set,
    "StatefulSet": workloads.sync_stateful_set,
    "Job": workloads.sync_job,
    "PersistentVolumeClaim": Controllers.sync_claim,
    "Certificate": Controllers.sync_certificate,
    "CustomResourceDefinition": Controllers.sync_crd,
    "ClusterIssuer": Controllers.sync_issuer,
    "Issuer": Controllers.sync_issuer,
}

"""Reading what the cluster says of a stack: workload availability, pods refused by a quota, the TLS certificate.

The ``*_state`` functions are pure (live object in, plain state out); ``record_components`` and
``record_certificate`` write those states onto the registry's ``Component`` rows and ``IngressBinding``, and
``record_unseen`` marks them Unknown (keeping what was last observed) when the cluster could not be read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from provisioning.choices import BindingStatus, ComponentKind, WhoseMove
from provisioning.external import tls
from provisioning.models import Component, IngressBinding, Registry
from provisioning.reconcile.quota import QuotaRefusal, parse_refusal, replica_failure
from provisioning.rendering import COMPONENT_LABEL, VERSION_LABEL

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet"})


@dataclass(frozen=True)
class WorkloadState:
    """One component's Deployment or StatefulSet as last seen."""

    component: str
    kind: str
    name: str
    present: bool
    desired: int
    ready: int = 0
    available: bool = False
    rolled_out: bool = False
    stalled: str = ""
    """Why the rollout cannot go on (e.g. ``ImagePullBackOff``), empty when nothing says so."""
    version: str = ""
    image: str = ""
    quota: QuotaRefusal | None = None
    """Its controller cannot create pods (or claims) because a ResourceQuota refuses them."""

    @property
    def progressing(self) -> bool:
        return self.present and not self.rolled_out and not self.stalled

    @property
    def short(self) -> bool:
        """Present with fewer ready replicas than it wants (only then are its Events worth reading)."""
        return self.present and self.ready < self.desired

    def describe(self) -> str:
        """A clause for a condition message, e.g. ``core has 1 of 2 replicas ready``."""
        if not self.present:
            return f"{self.component} is missing"
        text = f"{self.component} has {self.ready} of {self.desired} replicas ready"
        return f"{text} ({self.stalled})" if self.stalled else text

    def refused(self, message: str, owned_quotas: Collection[str] = ()) -> WorkloadState:
        """This state, with its controller unable to create pods for ``message`` (a quota refusal or not)."""
        if not message:
            return self
        quota = parse_refusal(message, owned_quotas)
        stalled = f"{quota.describe()}" if quota else f"pods cannot be created: {message}"
        return replace(self, quota=quota, stalled=_short(stalled), rolled_out=False)


@dataclass(frozen=True)
class CertificateState:
    """The cert-manager Certificate of the registry's hostname."""

    present: bool
    ready: bool = False
    issuing: bool = False
    reason: str = ""
    message: str = ""
    not_after: datetime | None = None
    renewal_at: datetime | None = None


def _condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any]:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == type_:
            return condition
    return {}


def _first_image(obj: Mapping[str, Any]) -> str:
    containers = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return str(containers[0].get("image", "")) if containers else ""


def workload_state(obj: Mapping[str, Any], owned_quotas: Collection[str] = ()) -> WorkloadState:
    """Availability of a live Deployment or StatefulSet (a Deployment's ``ReplicaFailure`` read as a refusal).

    ``owned_quotas`` are the ResourceQuotas the console renders: a refusal by one of them is the provider's move.
    A StatefulSet carries no such condition: see ``WorkloadState.refused`` with its ``FailedCreate`` Event.
    """
    metadata, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    desired = int(spec.get("replicas", 1))
    ready = int(status.get("readyReplicas", 0))
    updated = int(status.get("updatedReplicas", 0))
    current = int(status.get("observedGeneration", 0)) >= int(metadata.get("generation", 1))
    stalled = ""
    if obj.get("kind") == "Deployment":
        progressing = _condition(obj, "Progressing")
        if progressing.get("status") == "False":
            stalled = str(progressing.get("message") or progressing.get("reason") or "stalled")
        available_condition = _condition(obj, "Available")
        if desired == 0:
            available = current
        elif available_condition:
            available = current and available_condition.get("status") == "True"
        else:
            available = current and int(status.get("availableReplicas", 0)) >= desired
        rolled_out = (
            current and updated >= desired and ready >= desired and int(status.get("replicas", 0)) <= desired
        )
    else:
        available = current and ready >= desired
        revisions_match = status.get("currentRevision") == status.get("updateRevision")
        rolled_out = current and ready >= desired and updated >= desired and revisions_match
    state = WorkloadState(
        component=str((metadata.get("labels") or {}).get(COMPONENT_LABEL, "")),
        kind=str(obj.get("kind", "")),
        name=str(metadata.get("name", "")),
        present=True,
        desired=desired,
        ready=ready,
        available=available,
        rolled_out=rolled_out and not stalled,
        stalled=_short(stalled),
        version=str((metadata.get("labels") or {}).get(VERSION_LABEL, "")),
        image=_first_image(obj),
    )
    if obj.get("kind") == "Deployment":
        return state.refused(replica_failure(obj), owned_quotas)
    return state


def missing_workload(desired: Mapping[str, Any]) -> WorkloadState:
    """The state of a desired workload that is not on the cluster."""
    metadata = desired.get("metadata") or {}
    return WorkloadState(
        component=str((metadata.get("labels") or {}).get(COMPONENT_LABEL, "")),
        kind=str(desired.get("kind", "")),
        name=str(metadata.get("name", "")),
        present=False,
        desired=int((desired.get("spec") or {}).get("replicas", 1)),
        image=_first_image(desired),
    )


def certificate_state(obj: Mapping[str, Any] | None) -> CertificateState:
    if obj is None:
        return CertificateState(present=False)
    ready = _condition(obj, "Ready")
    current = int(ready.get("observedGeneration", 0) or 0) >= int(
        (obj.get("metadata") or {}).get("generation", 1)
    )
    status = obj.get("status") or {}
    return CertificateState(
        present=True,
        ready=ready.get("status") == "True" and current,
        issuing=_condition(obj, "Issuing").get("status") == "True",
        reason=str(ready.get("reason", "")),
        message=str(ready.get("message", "")),
        not_after=_when(status.get("notAfter")),
        renewal_at=_when(status.get("renewalTime")),
    )


def _when(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."


def record_components(registry: Registry, states: Iterable[WorkloadState], now: datetime) -> None:
    """Write each workload's observation onto its ``Component`` row (only rows whose values changed)."""
    by_kind = {state.component: state for state in states if state.component in ComponentKind.values}
    rows = {row.kind: row for row in registry.components.all()}
    changed: list[Component] = []
    fields = ("image", "desired_replicas", "ready_replicas", "available", "message")
    for kind, state in by_kind.items():
        row = rows.get(kind) or Component(registry=registry, kind=kind)
        values = {
            "image": state.image[:200],
            "desired_replicas": state.desired,
            "ready_replicas": state.ready if state.present else 0,
            "available": state.available,
            "message": _component_message(state)[:500],
        }
        if row.pk is None or any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.observed_at = now
            if row.pk is None:
                row.save()
            else:
                changed.append(row)
    if changed:
        Component.objects.bulk_update(changed, [*fields, "observed_at"])


def _component_message(state: WorkloadState) -> str:
    if not state.present:
        return "Not on the cluster yet."
    if state.quota is not None:
        return f"Cannot create its pods: {state.stalled}."
    if state.stalled:
        return f"Stalled: {state.stalled}"
    if state.rolled_out:
        return "Available." if state.desired else "Scaled to zero."
    return f"Rolling out: {state.ready} of {state.desired} replicas ready."


def record_unseen(registry: Registry, cause: str, whose_move: str, now: datetime) -> None:
    """The cluster could not be read: components and the certificate become Unknown, their last facts kept.

    Replicas, image and ``observed_at`` stay as last observed; the message says since when nothing is known and
    what was last seen. Rows already Unknown are left alone (no write per run while the cluster stays away).
    """
    since = f"Not known since {now:%Y-%m-%d %H:%M} UTC: the cluster could not be read ({cause.rstrip('.')})."
    unseen = []
    for row in registry.components.all():
        if row.available is None:
            continue
        last = row.message or ("Available." if row.available else "Not available.")
        row.available, row.message = None, f"{since} Last observed: {last}"[:500]
        unseen.append(row)
    if unseen:
        Component.objects.bulk_update(unseen, ["available", "message"])
    binding = registry.ingress
    if binding.status == BindingStatus.UNKNOWN or tls.expiry_warning(binding) is not None:
        return
    last = binding.status_message or "nothing recorded"
    binding.status, binding.status_since, binding.whose_move = BindingStatus.UNKNOWN, now, whose_move
    binding.status_message = f"The TLS certificate is not seen: {since} Last seen: {last}"[:500]
    binding.save(update_fields=["status", "status_message", "whose_move", "status_since"])


_CERTIFICATE_FIELDS = (
    "status",
    "status_message",
    "whose_move",
    "status_since",
    "certificate_ready",
    "certificate_not_after",
    "certificate_renewal_at",
    "provisioned_at",
)


def record_certificate(binding: IngressBinding, certificate: CertificateState) -> None:
    """Write the certificate's readiness onto the ingress binding, then the expiry warning when one is due.

    While a warning is due it stands for the certificate's state, so the observed state is not recorded over it:
    the warning keeps the moment it started instead of flipping with every run. A run that finds everything as
    recorded writes nothing, unless the last check is older than one periodic dependency check (so it never
    reads as stale while the stack is read).
    """
    if not certificate.present:
        status, message, move = (
            BindingStatus.UNKNOWN,
            "The TLS certificate is not requested yet.",
            WhoseMove.TRANSIENT,
        )
    elif certificate.ready:
        until = f" until {certificate.not_after:%Y-%m-%d}" if certificate.not_after else ""
        status, message, move = BindingStatus.OK, f"The TLS certificate is valid{until}.", WhoseMove.NONE
    elif certificate.issuing:
        status, message, move = (
            BindingStatus.DEGRADED,
            "The TLS certificate is being issued.",
            WhoseMove.TRANSIENT,
        )
    else:
        status = BindingStatus.MISCONFIGURED
        message = f"The TLS certificate is not issued ({certificate.reason}: {certificate.message})."
        move = WhoseMove.CUSTOMER
    before = [getattr(binding, field) for field in _CERTIFICATE_FIELDS]
    binding.certificate_ready = certificate.ready
    binding.certificate_not_after = certificate.not_after
    binding.certificate_renewal_at = certificate.renewal_at
    warned = tls.expiry_warning(binding) is not None
    if not warned and (status, message[:500], move) != (
        binding.status,
        binding.status_message,
        binding.whose_move,
    ):
        binding.record_check(status, message, move)
    if certificate.ready and binding.provisioned_at is None:
        binding.provisioned_at = timezone.now()
    age = binding.check_age_seconds()
    if (
        before != [getattr(binding, field) for field in _CERTIFICATE_FIELDS]
        or age is None
        or age > settings.DEPENDENCY_CHECK_INTERVAL_SECONDS
    ):
        binding.last_checked_at = timezone.now()
        binding.save(update_fields=["last_checked_at", "latency_ms", *_CERTIFICATE_FIELDS])
    tls.apply_expiry_warning(binding)

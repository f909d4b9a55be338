"""``reconcile(registry_id)``: bring one registry's stack on its cluster to what the database says.

Level-based like a controller's ``Reconcile(key)``: it never asks what triggered it. Under the registry's lock
(kept by a heartbeat) it reads the desired state from the database, prepares the external services, renders the
stack, lists each kind once by ownership label, applies (server-side, one field manager) only what the console's
manager would change (``compare``: a field another manager owns is reported, not re-applied every pass), prunes
what is no longer desired, reads readiness back into components and conditions (pods a quota refuses included),
records what it learned of the cluster's API server, and records the run. A cluster it cannot read leaves every
observed fact as last seen and says Unknown, never Available.

A run refused by the lock leaves a request behind (``lock``): the holder runs once more when it is done, or the
deferred check does once the lock of a dead holder has lapsed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

from harborconsole import tracing
from provisioning import external
from provisioning.choices import CacheMode, DesiredState, ErrorClass, RunStatus, RunTrigger, WhoseMove
from provisioning.events import hooks as event_hooks
from provisioning.kube import ClusterAccess, KubeApiError, KubeError, KubeGateway, gateway_for, object_key
from provisioning.kube.resources import ObjectKey
from provisioning.models import Cluster, ManagedResource, ReconcileRun, Registry, installation_id
from provisioning.reconcile import conditions as cond
from provisioning.reconcile.compare import ForeignChange, compare, with_spec_hash
from provisioning.reconcile.contact import contact_of, record_contact
from provisioning.reconcile.errors import DependenciesNotReady, Failure, LockLost, classify
from provisioning.reconcile.lock import Heartbeat, heartbeat, registry_lock
from provisioning.reconcile.namespace_step import check_namespace, legacy_leftovers
from provisioning.reconcile.prerequisite_step import ensure_prerequisites
from provisioning.reconcile.quota import failed_create_event
from provisioning.reconcile.readiness import (
    WORKLOAD_KINDS,
    CertificateState,
    WorkloadState,
    certificate_state,
    missing_workload,
    record_certificate,
    record_components,
    record_unseen,
    workload_state,
)
from provisioning.reconcile.recreate import LastApplied, recreate, recreation
from provisioning.reconcile.resources import record_resources, resources_digest
from provisioning.reconcile.spec import desired_objects, load_registry
from provisioning.rendering import RENDERED_KINDS, object_apply_order, ownership_selector
from provisioning.upgrades.stage import upgrade_stage
from provisioning.watch.cache import cached_owned, owned_in

logger = logging.getLogger("provisioning.reconcile")

STATUS_KINDS = frozenset({"Deployment", "StatefulSet", "Certificate"})
MAX_ACTIONS = 200
LOCK_HELD = (
    "Another run of this registry was under way: what this one was asked for is carried out by one more run "
    "once it finishes."
)
FAILED_CREATE_EVENTS = "involvedObject.kind=StatefulSet,reason=FailedCreate,type=Warning"


@dataclass(frozen=True)
class Outcome:
    """What a run ended with, and whether (and when) another run should look again."""

    registry_id: int
    run_id: int | None
    status: str
    phase: str = ""
    failure: Failure | None = None
    follow_up: bool = False
    """Nothing failed but the stack is still moving (a rollout, a deletion): look again soon."""
    changed_meanwhile: bool = False
    """The registry changed while this run worked on an older generation: run again now."""
    requested_meanwhile: bool = False
    """A reconcile was asked for (and refused by the lock) while this run held it: run once more now."""
    check_after: float | None = None
    """This run found the lock held and claimed the deferred check: look at the request after so many seconds."""
    message: str = ""

    @property
    def should_retry(self) -> bool:
        return self.failure is not None and self.failure.transient


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    actions: list[dict[str, str]] = field(default_factory=list)
    written: set[ObjectKey] = field(default_factory=set)
    foreign: dict[ObjectKey, list[ForeignChange]] = field(default_factory=dict)
    """Per object, what other field managers own that an apply cannot take back (reported, not re-applied)."""

    def note(self, action: str, key: ObjectKey, detail: str = "") -> None:
        if len(self.actions) < MAX_ACTIONS:
            _, kind, namespace, name = key
            entry = {"action": action, "kind": kind, "namespace": namespace, "name": name}
            if detail:
                entry["detail"] = detail
            self.actions.append(entry)


def cluster_access(cluster: Cluster) -> ClusterAccess:
    return ClusterAccess(
        api_url=cluster.api_url,
        token=cluster.token,
        ca_pem=cluster.ca_certificate,
        kubeconfig=cluster.kubeconfig,
        in_cluster=cluster.in_cluster,
    )


def cluster_gateway(cluster: Cluster) -> KubeGateway:
    """The shared gateway of ``cluster`` under the console's field manager."""
    return gateway_for(
        cluster_access(cluster),
        field_manager=settings.KUBE_FIELD_MANAGER,
        timeout=settings.KUBE_REQUEST_TIMEOUT_SECONDS,
    )


@tracing.traced_reconcile
def reconcile(
    registry_id: int, run_id: int | None = None, *, trigger: str = RunTrigger.MANUAL, attempt: int = 1
) -> Outcome:
    """Reconcile one registry now, in this process.

    A run already under way elsewhere makes this one skip, leaving a request the holder (or, should it die, the
    deferred check this run may claim: ``Outcome.check_after``) carries out once.
    """
    run = _claim_run(registry_id, run_id, trigger, attempt)
    if run is None:
        return Outcome(registry_id, run_id, RunStatus.SKIPPED, message="The registry no longer exists.")
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return Outcome(registry_id, run.pk, run.status, message="This run has already finished.")
    tracing.note_run(run)
    holder = f"run-{run.pk}" if run.pk is not None else f"sweep-{uuid.uuid4().hex[:12]}"
    lock = registry_lock(registry_id, holder=holder)
    check_after: float | None = None
    try:
        acquired = lock.acquire()
        if not acquired:
            lock.request()
            acquired = lock.acquire()  # the holder may have finished in between: then this run serves it
        if acquired:
            lock.take_request()
        else:
            delay = lock.remaining() + 1.0
            check_after = delay if lock.claim_check(delay) else None
    except (RedisError, DatabaseError) as error:
        failure = classify(error)
        logger.warning("no lock for registry %s: %s", registry_id, failure.message)
        _finish_failed(run, failure)
        return Outcome(registry_id, run.pk, RunStatus.FAILED, failure=failure)
    if not acquired:
        _finish_skipped(run, LOCK_HELD)
        return Outcome(
            registry_id,
            run.pk,
            RunStatus.SKIPPED,
            message="Another run holds the lock; this request runs after it.",
            check_after=check_after,
        )
    try:
        run.status, run.started_at = RunStatus.RUNNING, timezone.now()
        if run.pk is not None:
            run.save(update_fields=["status", "started_at"])
        with heartbeat(lock) as beat:
            outcome = Reconciler(registry_id, run, beat).run()
    finally:
        requested = False
        try:
            lock.release()
            requested = lock.take_request()
        except (RedisError, DatabaseError):
            logger.warning("could not release the lock of registry %s; it expires by itself", registry_id)
    return replace(outcome, requested_meanwhile=requested) if requested else outcome


def _claim_run(registry_id: int, run_id: int | None, trigger: str, attempt: int) -> ReconcileRun | None:
    if run_id is not None:
        run = ReconcileRun.objects.filter(pk=run_id, registry_id=registry_id).first()
        if run is not None:
            return run
    if trigger == RunTrigger.SWEEP and run_id is None:
        # A sweep's run is written only when it does something (``Reconciler.quiet``); a quiet one is counted. Its
        # generation is the one the run loads (no query here; a registry gone by then is skipped there).
        return ReconcileRun(registry_id=registry_id, trigger=trigger, attempt=attempt, generation=0)
    generation = (
        Registry.objects.filter(pk=registry_id).order_by().values_list("generation", flat=True).first()
    )
    if generation is None:
        return None
    return ReconcileRun.objects.create(
        registry_id=registry_id, trigger=trigger, attempt=attempt, generation=generation
    )


def _finish_failed(run: ReconcileRun, failure: Failure) -> None:
    now = timezone.now()
    run.status, run.started_at, run.finished_at, run.duration_ms = RunStatus.FAILED, now, now, 0.0
    run.error_class, run.error_message, run.whose_move = (
        failure.error_class,
        failure.message,
        failure.whose_move,
    )
    run.save()


def _finish_skipped(run: ReconcileRun, message: str) -> None:
    if run.pk is None:
        return  # a sweep's run that found the lock held: the holder runs once more, nothing to record
    now = timezone.now()
    run.status, run.error_message = RunStatus.SKIPPED, message
    run.started_at = run.started_at or now
    run.finished_at = now
    run.duration_ms = 0.0
    run.save(update_fields=["status", "error_message", "started_at", "finished_at", "duration_ms"])


class Reconciler:
    """One run over one registry; ``run()`` never raises for what the cluster or the services do."""

    def __init__(self, registry_id: int, run: ReconcileRun, beat: Heartbeat | None = None) -> None:
        self.registry_id = registry_id
        self.run_row = run
        self.beat = beat
        self.tally = Tally()
        self.started = time.perf_counter()
        self.now = timezone.now()
        self.latency_ms: float | None = None
        """How long the run's first LIST took: the API server's latency as this run saw it."""
        self.quiet = False
        """A sweep's run that changed nothing and found nothing new: counted on the registry, no run row."""
        self.called_services: tuple[str, ...] = ()
        self.compared_digest = ""
        """``resources_digest`` of what this run compared (before it wrote anything)."""
        self.settled = False
        """The desired and live objects are those a converged pass compared (``Registry.resources_digest``)."""
        self.resources_digest: str | None = None
        """What to store as ``Registry.resources_digest``: the compared digest when the run compared every object and
        wrote nothing, "" when it wrote (compare again next time), None to leave it (settled, or nothing read)."""
        """The dependencies this run provisioned on a shared service (then the run is kept in the history)."""

    def run(self) -> Outcome:
        registry = load_registry(self.registry_id)
        if registry is None:
            _finish_skipped(self.run_row, "The registry was removed from the database.")
            return Outcome(
                self.registry_id, self.run_row.pk, RunStatus.SKIPPED, message="The registry no longer exists."
            )
        if self.run_row.pk is None:
            self.run_row.generation = registry.generation
        try:
            if registry.desired_state == DesiredState.DELETED:
                return self._run_deletion(registry)
            return self._run_stack(registry)
        except Exception as error:
            # Recording must not be lost: say what happened on the run, whatever broke while recording.
            logger.exception("reconcile of registry %s failed while recording its outcome", self.registry_id)
            failure = classify(error)
            self.quiet = False
            self._record_run(registry.generation, failure)
            return Outcome(self.registry_id, self.run_row.pk, RunStatus.FAILED, registry.phase, failure)

    # ---- a running or suspended stack --------------------------------------------------------------------

    def _run_stack(self, registry: Registry) -> Outcome:
        generation = registry.generation
        failure: Failure | None = None
        dependencies: cond.DependencyView | None = None
        held = False
        desired: list[dict[str, Any]] | None = None
        live: dict[ObjectKey, dict[str, Any]] = {}
        listed = False
        gateway: KubeGateway | None = None
        try:
            gateway = cluster_gateway(registry.cluster)
            dependencies = self._prepare_dependencies(registry)
            live = self._list_checked(gateway, registry)
            listed = True
            ensure_prerequisites(gateway, registry.cluster, self.now)
            adopting = check_namespace(gateway, registry, live, installation_id())
            if not dependencies.ready:
                held = True
                raise DependenciesNotReady(
                    dependencies.message, dependencies.whose_move, dependencies.error_class
                )
            # an upgrade under way decides which components move now (read only when one runs or halted)
            stage = upgrade_stage(registry) if getattr(registry, "has_staged_upgrade", True) else None
            desired = [with_spec_hash(obj)[0] for obj in desired_objects(registry, stage=stage)]
            digest = resources_digest(desired, live, gateway.field_manager)
            self.settled = digest == registry.resources_digest and not adopting
            written: set[str] = set()
            if self.settled:  # byte for byte what a pass compared and found converged: nothing to compare
                self.tally.unchanged = len(desired)
            else:
                self.compared_digest = digest
                written = self._apply(gateway, desired, live)
                self._prune(gateway, desired, live)
            if adopting:
                self._prune_legacy(gateway, registry, desired)
            if written & STATUS_KINDS:
                self._refresh_status(gateway, registry, live, written & STATUS_KINDS)
        except Exception as error:
            failure = classify(error)
            log = logger.warning if failure.transient else logger.error
            log("reconcile of %s: %s %s", registry, failure.error_class, failure.message)
            if failure.error_class == "INTERNAL" and not failure.transient:
                logger.exception("unexpected error reconciling %s", registry)

        owned_quotas = {
            key[3]
            for key in (*live, *(object_key(obj) for obj in desired or ()))
            if key[1] == "ResourceQuota"
        }
        workloads, certificate = self._observe(desired, live, listed, owned_quotas)
        if listed and gateway is not None:
            workloads = self._read_refusals(gateway, registry, workloads, live, owned_quotas)
        observation = cond.Observation(
            desired_state=registry.desired_state,
            desired_version=registry.harbor_version,
            deployed_version=registry.deployed_version,
            dependencies=dependencies,
            held=held,
            failure=failure,
            objects=len(desired or ()),
            workloads=workloads,
            certificate=certificate,
            managed_cache=registry.cache.mode == CacheMode.MANAGED,
            cluster_read=listed,
        )
        derived = cond.derive(observation, registry.conditions, self.now)
        applied = failure is None
        record_contact(registry.cluster, contact_of(failure, self.latency_ms, listed), self.now)
        if listed:
            record_components(registry, workloads, self.now)
            if certificate is not None and certificate.present:
                record_certificate(registry.ingress, certificate)
            manager = gateway.field_manager if gateway is not None else ""
            if not self.settled:
                record_resources(
                    registry,
                    desired,
                    live,
                    applied,
                    self.now,
                    self.tally.written,
                    self.tally.foreign,
                    manager,
                )
                converged = applied and not (self.tally.written or self.tally.deleted)
                self.resources_digest = self.compared_digest if converged else ""
        else:
            cause = observation.unread_cause
            record_unseen(registry, cause.message, cause.whose_move, self.now)
        deployed = registry.deployed_version
        if applied and derived.rolled_out:
            deployed = registry.harbor_version
            self._complete_rotations(registry)
        outcome_failure = failure or cond.quota_failure(observation)
        self.quiet = self._is_quiet(outcome_failure, derived.phase != registry.phase)
        if self.quiet:  # one UPDATE, no run row: nothing to keep together
            changed = self._save_registry(
                registry, derived, generation, deployed, observed=applied, read=listed
            )
        else:
            with transaction.atomic():  # the phase and the run that found it are seen together
                changed = self._save_registry(
                    registry, derived, generation, deployed, observed=applied, read=listed
                )
                self._record_run(generation, outcome_failure)
        moving = applied and not derived.rolled_out and self._worth_following(derived, registry)
        return Outcome(
            self.registry_id,
            self.run_row.pk,
            RunStatus.SUCCEEDED if outcome_failure is None else RunStatus.FAILED,
            derived.phase,
            outcome_failure,
            follow_up=moving,
            changed_meanwhile=changed,
        )

    def _prepare_dependencies(self, registry: Registry) -> cond.DependencyView:
        """Database, cache and storage: provisioned and checked when their desired state changed (or their last
        check is not OK or stale), read from the binding rows otherwise; the rows are read again afterwards."""
        try:
            report = external.prepare_changed_dependencies(registry)
        except Exception as error:
            logger.exception("preparing the dependencies of %s failed", registry)
            return cond.DependencyView(
                False,
                f"The dependency check failed ({type(error).__name__}: {error}).",
                WhoseMove.PROVIDER,
                ErrorClass.DEPENDENCY_UNREACHABLE,
            )
        self.called_services = report.called
        if report.provisioned:
            fresh = Registry.objects.select_related("database", "cache", "storage").get(pk=registry.pk)
            registry.database, registry.cache, registry.storage = fresh.database, fresh.cache, fresh.storage
        return cond.DependencyView(report.ready, report.message, report.whose_move, report.error_class)

    def _list_checked(self, gateway: KubeGateway, registry: Registry) -> dict[ObjectKey, dict[str, Any]]:
        """``_list_owned``; a kind the API server does not serve is explained by the prerequisite it lacks."""
        try:
            return self._list_owned(gateway, registry)
        except KubeApiError as error:
            if error.status == 404:
                ensure_prerequisites(gateway, registry.cluster, self.now, force=True)
            raise

    def _list_owned(self, gateway: KubeGateway, registry: Registry) -> dict[ObjectKey, dict[str, Any]]:
        """Every object the console owns for the registry: from the watch cache when it is synced (no request),
        else one LIST per kind (none in a missing namespace)."""
        cached = cached_owned(registry.cluster_id, registry.pk)
        if cached is not None:
            return owned_in(cached, registry.namespace)
        selector = ownership_selector(registry.pk, installation_id())
        found: dict[ObjectKey, dict[str, Any]] = {}
        started = time.perf_counter()
        namespaces = gateway.list("v1", "Namespace", label_selector=selector)
        self.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        for obj in namespaces:
            found[object_key(obj)] = obj
        if not any(obj["metadata"]["name"] == registry.namespace for obj in namespaces):
            return found
        for api_version, kind in RENDERED_KINDS:
            if kind == "Namespace":
                continue
            for obj in gateway.list(api_version, kind, namespace=registry.namespace, label_selector=selector):
                found[object_key(obj)] = obj
        return found

    def _apply(
        self, gateway: KubeGateway, desired: list[dict[str, Any]], live: dict[ObjectKey, dict[str, Any]]
    ) -> set[str]:
        """Create what is missing and apply what differs, in order; returns the kinds written."""
        written: set[str] = set()
        last_applied = LastApplied(self.registry_id)
        for obj in desired:
            key = object_key(obj)
            current = live.get(key)
            if current is None:
                self._still_holding()
                live[key] = gateway.apply(obj)
                self.tally.written.add(key)
                self.tally.created += 1
                self.tally.note("create", key)
                written.add(key[1])
                continue
            comparison = compare(obj, current, gateway.field_manager)
            if comparison.left_to_others:
                self.tally.foreign[key] = comparison.left_to_others
            if not comparison.to_apply:
                self.tally.unchanged += 1
                continue
            needed = recreation(key, obj, last_applied)
            self._still_holding()
            if needed is not None:
                policy, paths = needed
                live[key] = recreate(gateway, key, obj, current, policy)
                self.tally.written.add(key)
                self.tally.updated += 1
                self.tally.note(
                    "recreate", key, f"{', '.join(paths)} changed: deleted ({policy}) and applied again"
                )
                written.add(key[1])
                continue
            live[key] = gateway.apply(obj)
            self.tally.written.add(key)
            self.tally.updated += 1
            taken = [
                f"{f.path} (from {', '.join(f.managers)})" for f in comparison.foreign if f.repair == "apply"
            ]
            self.tally.note("update", key, "differs at " + ", ".join([*comparison.drift, *taken]))
            written.add(key[1])
        return written

    def _still_holding(self) -> None:
        """Refuse to write once the heartbeat found the lock gone: another run may hold the registry now."""
        if self.beat is not None and self.beat.lost.is_set():
            raise LockLost()

    def _prune(
        self, gateway: KubeGateway, desired: list[dict[str, Any]], live: dict[ObjectKey, dict[str, Any]]
    ) -> None:
        """Delete owned objects that are no longer desired, the last applied first."""
        wanted = {object_key(obj) for obj in desired}
        orphans = [obj for key, obj in live.items() if key not in wanted]
        orphans.sort(key=_order_or_last, reverse=True)
        for obj in orphans:
            key = object_key(obj)
            self._still_holding()
            gateway.delete(key[0], key[1], key[3], key[2])
            del live[key]
            self.tally.deleted += 1
            self.tally.note("delete", key, "no longer desired")

    def _prune_legacy(self, gateway: KubeGateway, registry: Registry, desired: list[dict[str, Any]]) -> None:
        """Delete what an older console left for this registry in the namespace just adopted."""
        for obj in legacy_leftovers(gateway, registry, (object_key(o) for o in desired)):
            key = object_key(obj)
            self._still_holding()
            gateway.delete(key[0], key[1], key[3], key[2])
            self.tally.deleted += 1
            self.tally.note("delete", key, "left by an older console, no longer desired")

    def _refresh_status(
        self, gateway: KubeGateway, registry: Registry, live: dict[ObjectKey, dict[str, Any]], kinds: set[str]
    ) -> None:
        """Read the status of the kinds just written once more, so readiness is not a step behind."""
        selector = ownership_selector(registry.pk, installation_id())
        for api_version, kind in RENDERED_KINDS:
            if kind in kinds:
                for obj in gateway.list(
                    api_version, kind, namespace=registry.namespace, label_selector=selector
                ):
                    live[object_key(obj)] = obj

    def _observe(
        self,
        desired: list[dict[str, Any]] | None,
        live: Mapping[ObjectKey, dict[str, Any]],
        listed: bool,
        owned_quotas: set[str],
    ) -> tuple[list[WorkloadState], CertificateState | None]:
        if not listed:
            return [], None
        if desired is None:
            workloads = [
                workload_state(obj, owned_quotas) for key, obj in live.items() if key[1] in WORKLOAD_KINDS
            ]
            certificates = [obj for key, obj in live.items() if key[1] == "Certificate"]
            return workloads, certificate_state(certificates[0]) if certificates else None
        workloads = []
        certificate: CertificateState | None = None
        for obj in desired:
            key = object_key(obj)
            if key[1] in WORKLOAD_KINDS:
                workloads.append(
                    workload_state(live[key], owned_quotas) if key in live else missing_workload(obj)
                )
            elif key[1] == "Certificate":
                certificate = certificate_state(live.get(key))
        return workloads, certificate

    def _read_refusals(
        self,
        gateway: KubeGateway,
        registry: Registry,
        workloads: list[WorkloadState],
        live: Mapping[ObjectKey, dict[str, Any]],
        owned_quotas: set[str],
    ) -> list[WorkloadState]:
        """Pods a short StatefulSet's controller could not create, from its Warning ``FailedCreate`` Events.

        (A Deployment says so itself, in ``ReplicaFailure``.) Events are read only when a StatefulSet is short of
        replicas, in one LIST for the namespace: a stack that is fine costs no request.
        """
        by_name = {key[3]: obj for key, obj in live.items() if key[1] == "StatefulSet"}
        short = {w.name for w in workloads if w.kind == "StatefulSet" and w.name in by_name and w.short}
        if not short:
            return workloads
        try:
            events = gateway.list(
                "v1", "Event", namespace=registry.namespace, field_selector=FAILED_CREATE_EVENTS
            )
        except KubeError as error:
            logger.warning("could not read the events of %s: %s", registry, error)
            return workloads
        return [
            w.refused(failed_create_event(events, by_name[w.name], self.now), owned_quotas)
            if w.kind == "StatefulSet" and w.name in short
            else w
            for w in workloads
        ]

    def _complete_rotations(self, registry: Registry) -> None:
        """Revoke the credentials a finished rotation replaced (only when a rotation is under way)."""
        bindings = (registry.database, registry.cache, registry.storage)
        if not any(binding.rotation_started_at for binding in bindings):
            return
        try:
            completed = external.complete_rotations(registry)
        except Exception as error:
            logger.exception("completing credential rotations of %s failed", registry)
            self.tally.actions.append(
                {
                    "action": "rotation",
                    "detail": f"completing rotations failed ({type(error).__name__}): {error}",
                }
            )
            return
        for kind in completed:
            self.tally.actions.append(
                {"action": "rotation", "detail": f"{kind}: previous credentials revoked"}
            )

    def _worth_following(self, derived: cond.Derived, registry: Registry) -> bool:
        """Look again soon only while something is moving by itself, not while it waits for a person."""
        if any(c["type"] == "Progressing" and c["status"] == "True" for c in derived.conditions):
            return True
        if registry.desired_state == DesiredState.SUSPENDED:
            return False
        return bool(derived.problems) and all(p.whose_move == "transient" for p in derived.problems)

    # ---- a deleted registry ------------------------------------------------------------------------------

    def _run_deletion(self, registry: Registry) -> Outcome:
        """Delete every owned object (the namespace takes its content along); data is kept until a purge."""
        generation = registry.generation
        failure: Failure | None = None
        remaining = 0
        try:
            gateway = cluster_gateway(registry.cluster)
            selector = ownership_selector(registry.pk, installation_id())
            contents = ManagedResource.objects.filter(registry=registry)
            for namespace in gateway.list("v1", "Namespace", label_selector=selector):
                name = namespace["metadata"]["name"]
                if not namespace["metadata"].get("deletionTimestamp"):
                    gateway.delete("v1", "Namespace", name)
                    inside = contents.filter(namespace=name).count()
                    self.tally.deleted += 1 + inside
                    self.tally.note("delete", object_key(namespace), f"with the {inside} objects in it")
            remaining = (
                len(gateway.list("v1", "Namespace", label_selector=selector)) if self.tally.deleted else 0
            )
        except Exception as error:  # noqa: BLE001 - classified and recorded on the run
            failure = classify(error)
            logger.warning("deleting the stack of %s: %s %s", registry, failure.error_class, failure.message)
        observation = cond.Observation(
            desired_state=registry.desired_state,
            desired_version=registry.harbor_version,
            deployed_version=registry.deployed_version,
            failure=failure,
            remaining=remaining,
        )
        derived = cond.derive(observation, registry.conditions, self.now)
        if failure is None and remaining == 0:
            ManagedResource.objects.filter(registry=registry).delete()
            registry.components.update(
                ready_replicas=0, available=False, message="Deleted.", observed_at=self.now
            )
        with transaction.atomic():
            self._save_registry(
                registry, derived, generation, registry.deployed_version, observed=failure is None
            )
            self._record_run(generation, failure)
        return Outcome(
            self.registry_id,
            self.run_row.pk,
            RunStatus.SUCCEEDED if failure is None else RunStatus.FAILED,
            derived.phase,
            failure,
            follow_up=failure is None and remaining > 0,
        )

    # ---- recording ---------------------------------------------------------------------------------------

    def _save_registry(
        self,
        registry: Registry,
        derived: cond.Derived,
        generation: int,
        deployed_version: str,
        *,
        observed: bool,
        read: bool = False,
    ) -> bool:
        """One UPDATE of the registry's row, on condition that its generation is still ``generation`` (recorded as
        observed when ``observed``: the run applied it); returns whether the registry changed meanwhile (then the
        row is written unconditionally). ``read``: the run read the whole stack (``stack_read_at``)."""
        values: dict[str, Any] = {
            "conditions": derived.conditions,
            "phase": derived.phase,
            "last_reconciled_at": self.now,
            "deployed_version": deployed_version,
        }
        if read:
            values["stack_read_at"] = self.now
        if self.resources_digest is not None:
            values["resources_digest"] = self.resources_digest
        if derived.phase != registry.phase:
            values["phase_since"] = self.now
        if self.quiet:
            values["quiet_runs"] = F("quiet_runs") + 1
        if observed:
            values["observed_generation"] = generation
        rows = Registry.objects.filter(pk=registry.pk)
        changed = not rows.filter(generation=generation).update(**values)
        if changed:
            rows.update(**values)
        if not self.quiet and self.run_row.pk is None:
            self.run_row.save()  # a sweep's run that found something: its row exists before events name it
        event_hooks.phase_changed(registry.pk, registry.phase, derived.phase, run_id=self.run_row.pk)
        return changed

    def _is_quiet(self, failure: Failure | None, phase_changed: bool) -> bool:
        """Nothing to keep in the history: an unrecorded (sweep) run that failed at nothing, wrote nothing (to the
        cluster or a shared service) and found the phase as it was. Its time is the registry's
        ``last_reconciled_at``, its count ``quiet_runs``."""
        tally = self.tally
        return (
            self.run_row.pk is None
            and failure is None
            and not phase_changed
            and not self.called_services
            and not (tally.created or tally.updated or tally.deleted or tally.actions)
        )

    def _record_run(self, generation: int, failure: Failure | None) -> None:
        if self.quiet:
            return
        run, tally = self.run_row, self.tally
        run.finished_at = timezone.now()
        run.duration_ms = round((time.perf_counter() - self.started) * 1000, 1)
        run.status = RunStatus.FAILED if failure else RunStatus.SUCCEEDED
        run.generation = generation
        run.created, run.updated, run.unchanged, run.deleted = (
            tally.created,
            tally.updated,
            tally.unchanged,
            tally.deleted,
        )
        run.actions = tally.actions
        run.error_class = failure.error_class if failure else ""
        run.error_message = failure.message if failure else ""
        run.whose_move = failure.whose_move if failure else ""
        run.save()
        event_hooks.run_finished(run)


def _order_or_last(obj: Mapping[str, Any]) -> int:
    try:
        return object_apply_order(obj)
    except (KeyError, ValueError):
        return 1000


__all__ = ["Outcome", "cluster_access", "cluster_gateway", "reconcile"]

"""Placement: which cluster a new registry goes to, what each cluster has left, and whether a registry may move.

A cluster offers three limits: how many registries it may host (``capacity``), and the CPU and memory its registry
nodes offer (``allocatable_cpu``/``allocatable_memory``, recorded by an administrator; empty is no limit). Each live
registry reserves its plan's namespace ceilings (``namespace_cpu_limit``/``namespace_memory_limit``), the most its
namespace's quota may ever admit. A new registry goes to the cluster it names, or to the freest cluster of its region
with room for its plan (the one whose tightest limit keeps the largest share free), among those carrying the
labels asked for (``cluster_labels``); with no room, nothing is stored
and the error names the region and what each cluster lacks. Automatic placement only takes a cluster it can vouch
for (:mod:`provisioning.services.cluster_usability`: reached recently, prerequisites present); when every cluster
with room is unknown or unusable the refusal names each and why, apart from "no room". A named cluster known to be
unusable is refused; an unknown one is taken (the UI shows :func:`cluster_usability.named_warning`); the same holds
for the target of a move, which only a registry holding no data yet may make. The UI form
and the API both go through :func:`choose_cluster` (from ``create_registry``) and :func:`move_refusal` (from
``update_registry``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count

from provisioning.choices import BindingStatus, CacheMode, Phase
from provisioning.models import Cluster, Plan, Registry
from provisioning.rendering.quantities import cpu_words, memory_words, millicores, whole_bytes
from provisioning.services import cluster_usability
from provisioning.services.cluster_usability import Usability
from provisioning.services.errors import ActionRefused

PLACEMENT_FIELDS = ("region", "capacity", "allocatable_cpu", "allocatable_memory", "labels")
"""The cluster fields placement reads (for querysets limited with ``only``)."""


@dataclass(frozen=True)
class Reservation:
    """What one registry of a plan reserves on its cluster: CPU in millicores, memory in bytes."""

    cpu: int
    memory: int

    @classmethod
    def of(cls, plan: Plan) -> Reservation:
        return cls(millicores(plan.namespace_cpu_limit), whole_bytes(plan.namespace_memory_limit))


@dataclass(frozen=True)
class ClusterUse:
    """A cluster's registries and reserved CPU/memory against its limits (``None``: not recorded, no limit)."""

    cluster: Cluster
    registries: int
    cpu_reserved: int
    memory_reserved: int

    @property
    def cpu_allocatable(self) -> int | None:
        return millicores(self.cluster.allocatable_cpu) if self.cluster.allocatable_cpu else None

    @property
    def memory_allocatable(self) -> int | None:
        return whole_bytes(self.cluster.allocatable_memory) if self.cluster.allocatable_memory else None

    def shortfalls(self, needs: Reservation) -> list[str]:
        """What keeps one more registry reserving ``needs`` off this cluster; empty when it fits."""
        reasons = []
        if self.registries + 1 > self.cluster.capacity:
            reasons.append(f"{self.registries} of {self.cluster.capacity} registries placed")
        cpu, memory = self.cpu_allocatable, self.memory_allocatable
        if cpu is not None and self.cpu_reserved + needs.cpu > cpu:
            reasons.append(
                f"{cpu_words(self.cpu_reserved)} of {cpu_words(cpu)} reserved, the plan needs {cpu_words(needs.cpu)}"
            )
        if memory is not None and self.memory_reserved + needs.memory > memory:
            reasons.append(
                f"{memory_words(self.memory_reserved)} of {memory_words(memory)} memory reserved, the plan needs "
                f"{memory_words(needs.memory)}"
            )
        return reasons

    def free_share(self) -> Fraction:
        """The free share of the tightest limit (1 when a limit is free, 0 when one is used up)."""
        shares = [Fraction(max(self.cluster.capacity - self.registries, 0), max(self.cluster.capacity, 1))]
        for reserved, total in (
            (self.cpu_reserved, self.cpu_allocatable),
            (self.memory_reserved, self.memory_allocatable),
        ):
            if total:
                shares.append(Fraction(max(total - reserved, 0), total))
        return min(shares)

    @property
    def usability(self) -> Usability:
        """Whether automatic placement may choose the cluster now, from its row (no query)."""
        return cluster_usability.usability(self.cluster)

    # What pages and the API show.
    @property
    def registries_text(self) -> str:
        return f"{self.registries} / {self.cluster.capacity}"

    @property
    def cpu_text(self) -> str:
        total = self.cpu_allocatable
        return f"{cpu_words(self.cpu_reserved)} / {cpu_words(total) if total is not None else 'not recorded'}"

    @property
    def memory_text(self) -> str:
        total = self.memory_allocatable
        limit = memory_words(total) if total is not None else "not recorded"
        return f"{memory_words(self.memory_reserved)} / {limit}"

    def as_dict(self) -> dict[str, Any]:
        verdict = self.usability
        return {
            "registries": self.registries,
            "capacity": self.cluster.capacity,
            "cpu_reserved_millicores": self.cpu_reserved,
            "cpu_allocatable_millicores": self.cpu_allocatable,
            "memory_reserved_bytes": self.memory_reserved,
            "memory_allocatable_bytes": self.memory_allocatable,
            "placement": verdict.state,
            "placement_reason": verdict.reason,
        }


Totals = tuple[int, int, int]
"""Registries, reserved CPU (millicores) and reserved memory (bytes) of one cluster."""


def reserved_by_cluster(cluster_ids: Iterable[int] | None = None) -> dict[int, Totals]:
    """Cluster id → its live registries' count and reservations (every cluster when ``cluster_ids`` is None), in
    one SQL query whatever the number of clusters and registries; a cluster without registries is absent."""
    rows = Registry.objects.exclude(phase__in=[Phase.DELETED, Phase.PURGED])
    if cluster_ids is not None:
        rows = rows.filter(cluster_id__in=list(cluster_ids))
    totals: dict[int, Totals] = {}
    grouped = (
        rows.values_list("cluster_id", "plan__namespace_cpu_limit", "plan__namespace_memory_limit")
        .annotate(n=Count("id"))
        .order_by()
    )
    for cluster_id, cpu, memory, n in grouped:
        count, cpu_total, memory_total = totals.get(cluster_id, (0, 0, 0))
        totals[cluster_id] = (
            count + n,
            cpu_total + _or_zero(millicores, cpu) * n,
            memory_total + _or_zero(whole_bytes, memory) * n,
        )
    return totals


def use_of(cluster: Cluster, totals: dict[int, Totals]) -> ClusterUse:
    return ClusterUse(cluster, *totals.get(cluster.pk, (0, 0, 0)))


def cluster_uses(clusters: Iterable[Cluster]) -> dict[int, ClusterUse]:
    """Each cluster's use, in one SQL query whatever the number of clusters and registries."""
    by_pk = {cluster.pk: cluster for cluster in clusters}
    totals = reserved_by_cluster(by_pk)
    return {pk: use_of(cluster, totals) for pk, cluster in by_pk.items()}


def _or_zero(parse: Callable[[str], int], text: str) -> int:
    try:
        return parse(text)
    except ValueError:
        return 0  # a plan's wrong figure is the plan form's to report


def labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(labels.items())) or "none"


def carries(cluster: Cluster, labels: dict[str, str] | None) -> bool:
    return all((cluster.labels or {}).get(key) == value for key, value in (labels or {}).items())


def choose_cluster(
    *,
    plan: Plan | None,
    region: str = "",
    cluster: Cluster | None = None,
    labels: dict[str, str] | None = None,
) -> Cluster:
    """The cluster a new registry of ``plan`` goes to: ``cluster`` if named (unless known to be unusable), else the
    freest usable cluster of ``region`` carrying every one of ``labels`` with room for the plan (see
    :mod:`provisioning.services.cluster_usability`). ``ValidationError`` on ``cluster``, ``region`` or
    ``cluster_labels`` when there is none. Locks the candidate clusters' rows until the transaction ends, so two
    creates cannot both take the last place."""
    if cluster is None and not region:
        raise ValidationError({"region": "Give a region to place the registry in, or name a cluster."})
    if cluster is not None and not carries(cluster, labels):
        raise ValidationError(
            {
                "cluster_labels": f"Cluster {cluster.name} does not carry {labels_text(labels or {})} (its labels: "
                f"{labels_text(cluster.labels or {})}): name another cluster, or change the labels asked for."
            }
        )
    needs = Reservation.of(plan) if plan is not None else Reservation(0, 0)
    plan_name = f"the {plan} plan" if plan is not None else "this plan"
    if cluster is not None:
        locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
        if region and locked.region != region:
            raise ValidationError(
                {
                    "region": f"Cluster {locked.name} is in region {locked.region or '(none)'}, not {region}: "
                    "name a cluster of that region, or leave the cluster empty to place it there."
                }
            )
        reasons = cluster_uses([locked])[locked.pk].shortfalls(needs)
        if reasons:
            raise ValidationError(
                {
                    "cluster": f"Cluster {locked.name} has no room for a registry of {plan_name}: "
                    f"{'; '.join(reasons)}. Choose another cluster, or give only a region to place it."
                }
            )
        refusal = cluster_usability.named_refusal(locked)
        if refusal:
            raise ValidationError({"cluster": refusal})
        return locked
    in_region = list(Cluster.objects.select_for_update().filter(region=region).order_by("pk"))
    if not in_region:
        regions = sorted({r for r in Cluster.objects.values_list("region", flat=True) if r})
        known = f"the regions are {', '.join(regions)}" if regions else "no cluster has a region yet"
        raise ValidationError({"region": f"No cluster is in region {region}: {known}. Choose one of them."})
    candidates = [candidate for candidate in in_region if carries(candidate, labels)]
    if not candidates:
        seen = "; ".join(f"{c.name}: {labels_text(c.labels or {})}" for c in in_region)
        raise ValidationError(
            {
                "cluster_labels": f"No cluster in region {region} carries {labels_text(labels or {})} (their labels: "
                f"{seen}): ask for other labels, or label a cluster."
            }
        )
    uses = cluster_uses(candidates)
    fitting = [use for use in uses.values() if not use.shortfalls(needs)]
    if not fitting:
        why = "; ".join(f"{use.cluster.name}: {', '.join(use.shortfalls(needs))}" for use in uses.values())
        raise ValidationError(
            {
                "region": f"No cluster in region {region} has room for a registry of {plan_name} ({why}). "
                "Raise a cluster's capacity or allocatable CPU/memory, add a cluster to the region, choose a "
                "smaller plan, or another region."
            }
        )
    usable = [use for use in fitting if use.usability.usable]
    if not usable:
        why = "; ".join(f"{use.cluster.name}: {use.usability.reason}" for use in fitting)
        full = [use for use in uses.values() if use not in fitting]
        without_room = (
            " Without room: "
            + "; ".join(f"{use.cluster.name}: {', '.join(use.shortfalls(needs))}" for use in full)
            + "."
            if full
            else ""
        )
        raise ValidationError(
            {
                "region": f"No cluster in region {region} with room for a registry of {plan_name} can be vouched "
                f"for now ({why}).{without_room} Placement takes only a cluster the console reached in the last "
                f"{_minutes(cluster_usability.stale_after().total_seconds())} with every prerequisite present: "
                "fix what the cluster pages show, wait for the next contact, add a cluster to the region, or "
                "name a cluster whose state is unknown to place it there anyway."
            }
        )
    return max(usable, key=lambda use: (use.free_share(), -use.cluster.pk)).cluster


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes else f"{seconds:g} s"


def data_held(registry: Registry) -> list[str]:
    """What of the registry lives where it runs now, each with what moving it would take; empty: nothing yet."""
    held: list[str] = []
    cluster = registry.cluster
    database = getattr(registry, "database", None)
    if database is not None and (database.provisioned_at or database.status == BindingStatus.OK):
        held.append(
            f"the PostgreSQL database {database.name} on {database.host or 'the region’s server'}: a dump "
            "(pg_dump) restored into the target region's PostgreSQL, with its owner and login roles"
        )
    storage = getattr(registry, "storage", None)
    if storage is not None and (storage.provisioned_at or storage.bucket_claimed_at):
        held.append(
            f"the objects of bucket {storage.bucket} ({storage.endpoint or 'the region’s object storage'}): "
            "copied to a bucket of the target's object storage, with a new user and keys"
        )
    cache = getattr(registry, "cache", None)
    if (
        cache is not None
        and cache.mode == CacheMode.MANAGED
        and (cache.provisioned_at or registry.deployed_version)
    ):
        held.append(
            f"its console-run Redis on cluster {cluster.name} (job queues, sessions, cached manifests): drained, "
            "or its data copied to the new one"
        )
    elif cache is not None and cache.mode != CacheMode.MANAGED and cache.host:
        held.append(
            f"the provider Redis {cache.host}:{cache.port} recorded for it: a Redis of the target's region, "
            "recorded as its endpoint, with the job queues drained first"
        )
    objects = registry.resources.count()
    if objects:
        held.append(
            f"its {objects} Kubernetes objects in namespace {registry.namespace} on cluster {cluster.name}: "
            "removed there once the registry runs on the target"
        )
    return held


def move_refusal(registry: Registry, target: Cluster) -> str | None:
    """Why ``registry`` may not move to ``target``: it holds data (a migration the console does not run, so only a
    registry holding nothing yet moves at all), the target has no room, or the target is known to be unusable (the
    rule for a cluster named at creation; an unknown one is accepted, the UI warns with
    :func:`cluster_usability.named_warning`). ``None`` when it may."""
    if target.pk == registry.cluster_id:
        return None
    held = data_held(registry)
    if held:
        steps = "; ".join(f"({n}) {item}" for n, item in enumerate(held, start=1))
        return (
            f"{registry} holds data on cluster {registry.cluster.name}: moving it to {target.name} needs a "
            f"migration the console does not run: {steps}. Create a new registry on {target.name} and migrate "
            "the data into it, or keep this one where it is."
        )
    reasons = cluster_uses([target])[target.pk].shortfalls(Reservation.of(registry.plan))
    if reasons:
        return (
            f"Cluster {target.name} has no room for {registry}: {'; '.join(reasons)}. Choose another cluster."
        )
    verdict = cluster_usability.usability(target)
    if verdict.state == cluster_usability.UNUSABLE:
        return (
            f"Cluster {target.name} is {verdict.reason}: {registry} moved there would fail to provision. "
            f"{cluster_usability.remedy(verdict)}; or choose another cluster, or keep it on {registry.cluster.name}."
        )
    return None


def refuse_move(registry: Registry, target: Cluster) -> None:
    """Raise ``ActionRefused`` on the ``cluster`` field when :func:`move_refusal` says no."""
    refusal = move_refusal(registry, target)
    if refusal:
        raise ActionRefused(refusal, code="move_refused", field="cluster", status=409)

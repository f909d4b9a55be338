"""The control API under ``/_emulator/``: the HTTP twin of ``KubeEmulator``'s in-process methods.

======== ========================== ======================================================================
GET      /_emulator/stats           request counters (see ``RequestStats``)
POST     /_emulator/stats/reset     zero the counters
GET      /_emulator/faults          ``{"seed": n, "rules": [rule...]}``
PUT      /_emulator/faults          replace the rules: ``{"seed": n, "rules": [...]}`` or one rule object
POST     /_emulator/faults          add one rule, e.g. ``{"count": 3, "codes": [503], "verbs": ["write"]}``
DELETE   /_emulator/faults          remove every rule
GET      /_emulator/readiness       ``{"ready_delay": s, "namespace_drain_delay": s, "broken": [...]}``
PUT      /_emulator/readiness       ``{"ready_delay": s, "namespace_drain_delay": s}`` (either or both)
GET      /_emulator/broken          the broken-workload rules
POST     /_emulator/broken          ``{"namespace": p, "name": p, "reason": r, "message": m, "kind": k}``
DELETE   /_emulator/broken          heal: ``?namespace=p&name=p[&kind=k]`` (the patterns used to break)
GET      /_emulator/objects         every object, ``?kind=Deployment&namespace=ns`` to narrow
POST     /_emulator/reset           back to the cluster it started as (counters, faults and rules stay)
======== ========================== ======================================================================

A rule is ``{"error_rate": 0..1, "codes": [500], "latency_ms": 0, "verbs": ["read"|"write"|verb...],
"kinds": ["Deployment"...], "count": n, "retry_after": s}``; omitted fields take their defaults (``error_rate`` 1,
``codes`` ``[500]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .faults import FaultRule

if TYPE_CHECKING:
    from .emulator import KubeEmulator


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def _rule(data: Any) -> FaultRule:
    try:
        return FaultRule.from_dict(_object(data))
    except (TypeError, ValueError) as error:
        raise ApiError(400, f"invalid fault rule: {error}") from None


def _readiness(emulator: KubeEmulator) -> dict[str, Any]:
    return {
        "ready_delay": emulator.ready_delay,
        "namespace_drain_delay": emulator.namespace_drain_delay,
        "broken": emulator.broken_workloads(),
    }


def handle(
    emulator: KubeEmulator, method: str, path: list[str], query: dict[str, str], body: Any
) -> tuple[int, Any]:
    """Answer one control request; ``path`` is what follows ``/_emulator/``."""
    route = (method, "/".join(path))
    if route == ("GET", "stats"):
        return 200, emulator.stats()
    if route == ("POST", "stats/reset"):
        emulator.reset_stats()
        return 200, emulator.stats()
    if route == ("GET", "faults"):
        return 200, emulator.faults_config()
    if route == ("PUT", "faults"):
        data = _object(body)
        rules = (
            [_rule(r) for r in data["rules"]]
            if "rules" in data
            else [_rule({k: v for k, v in data.items() if k != "seed"})]
        )
        emulator.faults.set(rules, seed=data.get("seed"))
        return 200, emulator.faults_config()
    if route == ("POST", "faults"):
        emulator.faults.add(_rule(body))
        return 200, emulator.faults_config()
    if route == ("DELETE", "faults"):
        emulator.clear_faults()
        return 200, emulator.faults_config()
    if route == ("GET", "readiness"):
        return 200, _readiness(emulator)
    if route == ("PUT", "readiness"):
        data = _object(body)
        try:
            if "ready_delay" in data:
                emulator.ready_delay = float(data["ready_delay"])
            if "namespace_drain_delay" in data:
                emulator.namespace_drain_delay = float(data["namespace_drain_delay"])
        except (TypeError, ValueError) as error:
            raise ApiError(400, f"invalid readiness settings: {error}") from None
        return 200, _readiness(emulator)
    if route == ("GET", "broken"):
        return 200, {"broken": emulator.broken_workloads()}
    if route == ("POST", "broken"):
        data = _object(body)
        if not data.get("namespace") or not data.get("name"):
            raise ApiError(400, "namespace and name (shell patterns) are required")
        unknown = set(data) - {"namespace", "name", "reason", "message", "kind"}
        if unknown:
            raise ApiError(400, f"unknown fields: {sorted(unknown)}")
        emulator.break_workload(**data)
        return 200, {"broken": emulator.broken_workloads()}
    if route == ("DELETE", "broken"):
        data = {**query, **_object(body)}
        if not data.get("namespace") or not data.get("name"):
            raise ApiError(400, "namespace and name (the patterns used when breaking) are required")
        healed = emulator.heal_workload(data["namespace"], data["name"], data.get("kind"))
        return 200, {"healed": healed, "broken": emulator.broken_workloads()}
    if route == ("GET", "objects"):
        objects = emulator.objects(kind=query.get("kind"), namespace=query.get("namespace"))
        return 200, {"items": objects}
    if route == ("POST", "reset"):
        emulator.reset()
        return 200, {"items": emulator.objects()}
    raise ApiError(404, f"no emulator control endpoint {method} /_emulator/{'/'.join(path)}")

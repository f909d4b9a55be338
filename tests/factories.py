"""Small factories for the model: plain functions with sensible defaults, overridable by keyword."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from django.contrib.auth.models import Group, User
from django.utils import timezone

from provisioning.choices import Via
from provisioning.models import Cluster, Plan, Registry, Tenant
from provisioning.services import registries

_seq = itertools.count(1)
RUN = secrets.token_hex(2)  # keeps names unique across parallel runs sharing one PostgreSQL server and Redis


def user(
    role: str | None = "viewer", username: str | None = None, password: str = "pw-for-tests-only"
) -> User:
    name = username or f"{role or 'nobody'}{next(_seq)}"
    account = User.objects.create_user(name, f"{name}@example.test", password)
    if role:
        account.groups.add(Group.objects.get(name=role))
    return account


def plan(name: str = "m") -> Plan:
    return Plan.objects.get(name=name)


def cluster(**fields: Any) -> Cluster:
    n = next(_seq)
    values: dict[str, Any] = {
        "name": f"cluster-{RUN}-{n}",
        "api_url": "http://127.0.0.1:1",
        "simulated": True,
        "region": "test",
        "egress_cidrs": ["10.0.0.0/8"],
    }
    values.update(fields)
    return Cluster.objects.create(**values)


def observed_cluster(**fields: Any) -> Cluster:
    """A cluster the console reached just now, every prerequisite present: its health is Healthy."""
    values: dict[str, Any] = {
        "api_reachable": True,
        "api_version": "v1.31.2",
        "api_latency_ms": 12.0,
        "last_contact_at": timezone.now(),
        "last_list_at": timezone.now(),
    }
    values.update(fields)
    return cluster(**values)


def tenant(**fields: Any) -> Tenant:
    n = next(_seq)
    values: dict[str, Any] = {"slug": f"t{RUN}-{n}", "name": f"Tenant {n}"}
    values.update(fields)
    return Tenant.objects.create(**values)


def registry(actor: Any = None, **fields: Any) -> Registry:
    """Create a registry through the same service function the UI and API use."""
    n = next(_seq)
    values: dict[str, Any] = {"name": f"reg-{n}", "harbor_version": "2.14.4"}
    values.update(fields)
    if "tenant" not in values:
        values["tenant"] = tenant()
    if "plan" not in values:
        values["plan"] = plan()
    if "cluster" not in values:
        values["cluster"] = cluster()
    values.setdefault("hostname", f"{values['name']}.{values['tenant'].slug}.registry.example.com")
    return registries.create_registry(actor=actor, via=Via.SYSTEM, **values)


def cluster_form(**overrides: Any) -> dict[str, Any]:
    """What the cluster form posts for a new cluster (its API server refuses at once unless ``api_url`` is given)."""
    data: dict[str, Any] = {
        "name": "edge-1",
        "display_name": "",
        "region": "eu",
        "api_url": "http://127.0.0.1:1",
        "token": "",
        "ca_certificate": "",
        "kubeconfig": "",
        "capacity": 100,
        "queue": "edge",
        "ingress_class": "nginx",
        "ingress_namespace": "ingress-nginx",
        "monitoring_namespace": "monitoring",
        "storage_class": "",
        "cert_issuer": "letsencrypt",
        "node_selector": "{}",
        "tolerations": "[]",
        "egress_cidrs": "[]",
        "database_admin_url": "",
        "s3_endpoint": "",
        "s3_region": "",
        "s3_access_key": "",
        "s3_secret_key": "",
    }
    data.update(overrides)
    return data

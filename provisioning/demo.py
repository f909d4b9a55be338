"""The demo fleet of ``make run``: a simulated cluster and a handful of tenants with registries.

Idempotent: running it again leaves existing tenants and registries as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from provisioning.choices import CacheMode, Via
from provisioning.crypto import random_string
from provisioning.models import Cluster, Plan, Registry, Tenant
from provisioning.services import registries


@dataclass(frozen=True)
class DemoRegistry:
    tenant: str
    tenant_name: str
    name: str
    plan: str
    version: str


DEMO_FLEET = (
    DemoRegistry("acme", "ACME Corporation", "prod", "l", "2.15.2"),
    DemoRegistry("acme", "ACME Corporation", "staging", "s", "2.15.1"),
    DemoRegistry("globex", "Globex", "main", "m", "2.14.4"),
    DemoRegistry("initech", "Initech", "builds", "s", "2.13.5"),
    DemoRegistry("umbrella", "Umbrella Labs", "research", "m", "2.15.2"),
    DemoRegistry("stark", "Stark Industries", "edge", "l", "2.14.2"),
)


def ensure_cluster(*, api_url: str, database_admin_url: str, s3_endpoint: str) -> Cluster:
    cluster, _ = Cluster.objects.update_or_create(
        name="demo-eu-west",
        defaults={
            "display_name": "Demo EU-West (simulated)",
            "region": "eu-west",
            "api_url": api_url,
            "simulated": True,
            "database_admin_url": database_admin_url,
            "s3_endpoint": s3_endpoint,
            "s3_region": "us-east-1",
            "s3_access_key": "demo-access-key",
            "s3_secret_key": "demo-secret-key",
            "egress_cidrs": ["10.0.0.0/8"],
        },
    )
    return cluster


@transaction.atomic
def ensure_fleet(cluster: Cluster) -> list[Registry]:
    created = []
    for item in DEMO_FLEET:
        tenant, _ = Tenant.objects.get_or_create(slug=item.tenant, defaults={"name": item.tenant_name})
        existing = Registry.objects.filter(tenant=tenant, name=item.name).first()
        if existing is not None:
            continue
        created.append(
            registries.create_registry(
                actor="demo",
                via=Via.SYSTEM,
                cache_mode=CacheMode.MANAGED,
                tenant=tenant,
                name=item.name,
                plan=Plan.objects.get(name=item.plan),
                cluster=cluster,
                harbor_version=item.version,
                hostname=f"{item.name}.{item.tenant}.registry.demo.example",
            )
        )
    return created


def ensure_admin(username: str = "admin") -> str:
    """Create (or reset) the demo admin and return its new password."""
    password = random_string(16)
    user, _ = User.objects.get_or_create(username=username, defaults={"email": "admin@demo.example"})
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name="admin"))
    for role in ("operator", "viewer"):
        demo_user, _ = User.objects.get_or_create(username=role)
        demo_user.set_password(password)
        demo_user.save()
        demo_user.groups.set([Group.objects.get(name=role)])
    return password

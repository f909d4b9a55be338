"""A typed client generated from the committed schema (docs/openapi.yaml) with openapi-python-client, offline and
with no hand edits, drives a registry's whole life against the live server: create, upgrade (step by step, followed
to its end), suspend, resume, delete and purge, each reconciled by a real Celery worker on the Kubernetes API
emulator; a webhook subscribed through the same client receives each event on a local receiver, signed and in
order."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings

from provisioning.events import signing
from provisioning.models import ApiToken
from tests import factories
from tests.fixtures.webhooks import SECRET, Receiver

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS)),
]

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
GENERATOR = str(Path(sys.executable).with_name("openapi-python-client"))
PACKAGE = "hc_client"
RUN_TIMEOUT_SECONDS = 120
ENDED = {"succeeded", "failed", "skipped"}


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[ModuleType]:
    """The client package, generated into a temporary directory and importable for this test only."""
    config = tmp_path / "config.yaml"
    config.write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
    command = [GENERATOR, "generate", "--path", str(COMMITTED), "--meta", "none", "--config", str(config)]
    result = subprocess.run(
        [*command, "--output-path", str(tmp_path / PACKAGE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def wait_for_run(client: Any, run_id: int) -> Any:
    """Poll the run (through the client) until it ends; it must succeed."""
    retrieve = api("runs.v1_runs_retrieve")
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while True:
        run = retrieve.sync(run_id, client=client)
        if str(run.status) in ENDED or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert str(run.status) == "succeeded", (run.status, run.error_message)
    return run


def operate(client: Any, operation: str, registry_id: int, etag: str | None = None, **kwargs: Any) -> Any:
    """Start an operation (202 with the run), check its Location, and wait for its run to end."""
    module = api(f"registries.v1_registries_{operation}")
    response = module.sync_detailed(registry_id, client=client, **kwargs)
    assert response.status_code == 202, response.content[:300]
    run = response.parsed
    assert response.headers["Location"] == run.url
    return wait_for_run(client, run.id)


def upgrade(client: Any, registry_id: int, version: str, **kwargs: Any) -> Any:
    """Upgrade (202 with the step-by-step upgrade), follow it at its Location until it ends (it must succeed),
    then wait until the registry is Ready at the new version."""
    response = api("registries.v1_registries_upgrade_create").sync_detailed(
        registry_id,
        client=client,
        body=model("UpgradeRequest")(target_version=model("HarborVersionEnum")(version)),
        **kwargs,
    )
    assert response.status_code == 202, response.content[:300]
    started = response.parsed
    assert response.headers["Location"] == started.url and f"/api/v1/upgrades/{started.id}/" in started.url
    assert [step["name"] for step in started.steps][:2] == ["preflight", "migration"]
    retrieve = api("upgrades.v1_upgrades_retrieve")
    deadline = time.monotonic() + 2 * RUN_TIMEOUT_SECONDS
    current = started
    while str(current.status) == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
        current = retrieve.sync(started.id, client=client)
    assert str(current.status) == "succeeded", (current.status, current.reason)
    while time.monotonic() < deadline:
        registry, _ = read(client, registry_id)
        if registry.deployed_version == version and str(registry.phase) == "Ready":
            return current
        time.sleep(0.5)
    raise AssertionError(
        f"the registry is {registry.phase} at {registry.deployed_version}, not Ready at {version}"
    )


def read(client: Any, registry_id: int) -> tuple[Any, str]:
    response = api("registries.v1_registries_retrieve").sync_detailed(registry_id, client=client)
    assert response.status_code == 200
    return response.parsed, response.headers["ETag"]


def test_a_generated_client_drives_the_whole_lifecycle(
    generated, live_server, celery_worker_factory, make_emulated_cluster, admin_user, settings, receiver
):
    settings.PURGE_RETENTION_DAYS = 0
    queue = f"gen-{uuid.uuid4().hex[:8]}"  # one worker runs the reconciles and the webhook deliveries
    settings.WEBHOOK_QUEUE = queue
    celery_worker = celery_worker_factory(queue=queue, env={"WEBHOOK_QUEUE": queue})
    cluster = make_emulated_cluster(
        name=f"gen-{factories.RUN}", region="test", queue=celery_worker.queue, backup_marker="PITR, 7 days"
    )
    _, raw = ApiToken.issue(admin_user, "generated client")
    client = generated.AuthenticatedClient(
        base_url=live_server.url, token=raw, raise_on_unexpected_status=True
    )
    slug = f"t{factories.RUN}-gen"
    hook = api("webhooks.v1_webhooks_create").sync_detailed(
        client=client,
        body=model("WebhookSubscriptionRequest")(name="pipeline", target_url=receiver.url, secret=SECRET),
    )
    assert hook.status_code == 201 and "secret" not in json.loads(hook.content)

    tenant = api("tenants.v1_tenants_create").sync_detailed(
        client=client, body=model("TenantRequest")(slug=slug, name="Generated Client Inc")
    )
    assert tenant.status_code == 201

    body = model("RegistryCreateRequest")(
        tenant=slug,
        name="main",
        plan="s",
        cluster=cluster.name,
        hostname=f"main.{slug}.registry.example.com",
        harbor_version=model("HarborVersionEnum")("2.14.4"),
    )
    created = api("registries.v1_registries_create").sync_detailed(
        client=client, body=body, idempotency_key=f"create-{slug}"
    )
    assert created.status_code == 201 and created.headers["ETag"]
    registry = created.parsed
    assert isinstance(registry.id, int) and created.headers["Location"] == registry.url
    replay = api("registries.v1_registries_create").sync_detailed(
        client=client, body=body, idempotency_key=f"create-{slug}"
    )
    assert replay.parsed.id == registry.id and replay.headers["ETag"] == created.headers["ETag"]

    wait_for_run(client, registry.latest_run.id)
    current, etag = read(client, registry.id)
    assert str(current.phase) == "Ready"

    upgrade(client, registry.id, "2.15.2", if_match=etag)
    current, etag = read(client, registry.id)
    assert current.harbor_version == "2.15.2" and current.deployed_version == "2.15.2"
    assert str(current.phase) == "Ready"

    operate(client, "suspend_create", registry.id, if_match=etag)
    assert str(read(client, registry.id)[0].phase) == "Suspended"
    operate(client, "resume_create", registry.id)
    assert str(read(client, registry.id)[0].phase) == "Ready"
    operate(client, "destroy", registry.id)
    assert str(read(client, registry.id)[0].phase) == "Deleted"
    operate(client, "purge_create", registry.id, body=model("PurgeRequest")(force=True))
    assert str(read(client, registry.id)[0].phase) == "Purged"

    events = api("audit.v1_audit_events_list").sync(client=client, registry=registry.id, limit=200)
    actions = [event.action for event in events.results]
    for action in ("create", "upgrade", "suspend", "resume", "delete", "purge"):
        assert action in actions, actions

    delivered = wait_for_event(receiver, "io.harbor-console.registry.purged")
    for headers, body in receiver.received:  # each delivery signed with the subscription's secret
        assert signing.verify(
            SECRET,
            headers["x-harborconsole-timestamp"],
            body,
            headers["x-harborconsole-signature"],
            time.time(),
        )
    mine = [event for event in delivered if event["subject"] == str(registry.id)]
    sequence = [event["registrysequence"] for event in mine]
    assert sequence == sorted(set(sequence)), sequence  # in order, each once
    asked = [event["type"].removeprefix("io.harbor-console.registry.") for event in mine]
    asked = [kind for kind in asked if kind in LIFECYCLE]
    assert asked == list(LIFECYCLE), asked


LIFECYCLE = ("created", "upgraded", "suspended", "resumed", "deleted", "purge_requested", "purged")
"""The registry events of the lifecycle, in the order the test asks for them (phase changes and runs between)."""


def wait_for_event(receiver: Receiver, event_type: str, timeout: float = 60.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = receiver.events()
        if any(event["type"] == event_type for event in events):
            return events
        time.sleep(0.2)
    raise AssertionError(
        f"no {event_type} delivered in {timeout} s: {[e['type'] for e in receiver.events()]}"
    )

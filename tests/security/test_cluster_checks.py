"""Saving a cluster checks it against the cluster itself, the same through the web form and the API: the API server
answers /version with the CA given, the kubeconfig is safe, names and placement are well-formed, and a queue without
a worker is a warning. What the save observed is recorded on the cluster."""

from __future__ import annotations

import re

import pytest
import yaml
from django.urls import reverse

from kubeemulator import KubeEmulator
from provisioning.choices import ClusterHealth, Via
from provisioning.models import AuditEvent, Cluster
from provisioning.services.clusters import save_cluster
from tests import factories
from tests.api.conftest import token_client
from tests.ui.conftest import logged_in

pytestmark = pytest.mark.django_db


def form(**overrides):
    return factories.cluster_form(
        **{"name": f"c{factories.RUN}-{next(factories._seq)}", "queue": "default", **overrides}
    )


def ui_errors(admin_user, **fields) -> dict[str, list[str]]:
    response = logged_in(admin_user).post(reverse("provisioning:cluster-create"), form(**fields))
    assert response.status_code == 400, response.status_code
    assert not Cluster.objects.filter(name=response.context["form"].data["name"]).exists()
    return {name: list(messages) for name, messages in response.context["form"].errors.items()}


def api_errors(admin_user, **fields) -> dict[str, list[str]]:
    body = form(**fields)
    for name in ("node_selector", "tolerations", "egress_cidrs"):
        body[name] = yaml.safe_load(body[name]) if isinstance(body[name], str) else body[name]
    body["capacity"] = int(body["capacity"])
    response = token_client(admin_user).post("/api/v1/clusters/", body, format="json")
    assert response.status_code == 400, response.json()
    return response.json()["error"]["fields"]


def both(admin_user, **fields) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    return ui_errors(admin_user, **fields), api_errors(admin_user, **fields)


def test_an_api_server_that_does_not_answer_is_refused_on_its_field(admin_user):
    ui, api = both(admin_user, api_url="http://127.0.0.1:1")

    for errors in (ui, api):
        message = " ".join(errors["api_url"])
        assert "http://127.0.0.1:1 could not be reached" in message and "Connection refused" in message, (
            errors
        )


def test_a_server_that_accepts_but_never_answers_cannot_hang_the_save(admin_user, silent_server, settings):
    settings.CLUSTER_CHECK_TIMEOUT_SECONDS = 0.5

    errors = ui_errors(admin_user, api_url=silent_server)

    assert "timed out" in " ".join(errors["api_url"]) and "waited 0.5 s" in " ".join(errors["api_url"])


def test_saving_against_the_emulator_records_what_the_api_server_answered(admin_user, kube_emulator):
    response = logged_in(admin_user).post(
        reverse("provisioning:cluster-create"), form(name="seen", api_url=kube_emulator.url)
    )

    assert response.status_code == 302
    cluster = Cluster.objects.get(name="seen")
    assert cluster.api_reachable is True and cluster.api_version.startswith("v1.")
    assert cluster.last_contact_at is not None and cluster.api_latency_ms is not None
    assert cluster.health().state == ClusterHealth.HEALTHY


def test_wrong_credentials_are_refused_on_the_token(admin_user):
    emulator = KubeEmulator(port=0, ready_delay=0, token="the-right-one").start()
    try:
        ui, api = both(admin_user, api_url=emulator.url, token="a-wrong-one")
        saved = logged_in(admin_user).post(
            reverse("provisioning:cluster-create"),
            form(name="right", api_url=emulator.url, token="the-right-one"),
        )
    finally:
        emulator.stop()

    for errors in (ui, api):
        assert "refused the credentials (401" in " ".join(errors["token"]), errors
        assert "a-wrong-one" not in str(errors)
    assert saved.status_code == 302


def test_the_ca_is_used_and_a_tls_failure_is_reported_as_such(admin_user, tls_api_server):
    ui, api = both(admin_user, api_url=tls_api_server.url, ca_certificate=tls_api_server.other_ca_pem)

    for errors in (ui, api):
        message = " ".join(errors["ca_certificate"])
        assert "TLS connection to the API server" in message and "certificate verify failed" in message, (
            errors
        )

    cluster = save_cluster(
        Cluster(name="tls-ok", api_url=tls_api_server.url, ca_certificate=tls_api_server.ca_pem),
        actor=admin_user,
        via=Via.API,
    ).cluster
    assert cluster.api_version == "v1.31.4"


def test_a_ca_that_is_not_pem_is_refused_before_anything_is_asked(admin_user):
    ui, api = both(
        admin_user, api_url="http://127.0.0.1:1", ca_certificate="-----BEGIN CERTIFICATE-----\nnope"
    )

    for errors in (ui, api):
        assert "not a PEM certificate bundle" in " ".join(errors["ca_certificate"]), errors
        assert "api_url" not in errors


def test_a_kubeconfig_with_an_exec_plugin_is_refused_on_save_through_ui_and_api(admin_user, tmp_path):
    marker = tmp_path / "ran"
    kubeconfig = yaml.safe_dump(
        {
            "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
            "users": [
                {"name": "ops", "user": {"exec": {"command": "/bin/sh", "args": ["-c", f"touch {marker}"]}}}
            ],
            "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "ops"}}],
            "current-context": "ctx",
        }
    )

    ui, api = both(admin_user, api_url="", kubeconfig=kubeconfig)

    for errors in (ui, api):
        assert "user 'ops': 'exec' is not accepted (it runs a program" in " ".join(errors["kubeconfig"]), (
            errors
        )
    assert not marker.exists()


def test_a_kubeconfig_reaching_the_emulator_is_saved(admin_user, kube_emulator):
    kubeconfig = yaml.safe_dump(
        {
            "clusters": [{"name": "c", "cluster": {"server": kube_emulator.url}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "ctx",
        }
    )

    saved = save_cluster(Cluster(name="by-kubeconfig", kubeconfig=kubeconfig), actor=admin_user, via=Via.UI)

    assert saved.cluster.api_reachable is True


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"ingress_class": "Nginx_Class"}, "ingress_class", "not a Kubernetes object name"),
        ({"storage_class": "fast ssd"}, "storage_class", "not a Kubernetes object name"),
        ({"cert_issuer": "-letsencrypt"}, "cert_issuer", "not a Kubernetes object name"),
        ({"ingress_namespace": "Ingress"}, "ingress_namespace", "not a valid name"),
        ({"queue": "two words"}, "queue", "not a queue name"),
        (
            {"tolerations": '[{"key": "a", "operator": "Sometimes"}]'},
            "tolerations",
            "Exists or Equal|valid choice",
        ),
        ({"tolerations": '[{"operator": "Exists", "value": "x"}]'}, "tolerations", "takes no value"),
        (
            {"tolerations": '[{"key": "k", "tolerationSeconds": 5}]'},
            "tolerations",
            "only to the effect NoExecute",
        ),
        ({"node_selector": '{"bad key!": "x"}'}, "node_selector", "not a label key"),
        ({"node_selector": '{"zone": "not valid!"}'}, "node_selector", "not a label value"),
        ({"egress_cidrs": '["10.0.0.0/33"]'}, "egress_cidrs", "not a CIDR"),
    ],
)
def test_names_and_placement_get_the_same_checks_in_the_form_and_the_api(admin_user, fields, field, says):
    ui, api = both(admin_user, **fields)

    assert re.search(says, " ".join(ui[field])), ui
    assert any(
        re.search(says, message)
        for name, messages in api.items()
        if name.startswith(field)
        for message in messages
    ), api


def test_a_queue_without_a_worker_is_a_warning_shown_on_save(admin_user, kube_emulator, settings):
    settings.QUEUE_CHECK_TIMEOUT_SECONDS = 0.3
    queue = f"nobody-{factories.RUN}"
    client = logged_in(admin_user)

    response = client.post(
        reverse("provisioning:cluster-create"),
        form(name="lonely", api_url=kube_emulator.url, queue=queue),
        follow=True,
    )
    api = token_client(admin_user).post(
        "/api/v1/clusters/",
        {"name": "lonely-api", "api_url": kube_emulator.url, "queue": queue},
        format="json",
    )

    assert response.status_code == 200 and Cluster.objects.filter(name="lonely").exists()
    shown = [str(message) for message in response.context["messages"]]
    assert any(f"No running Celery worker consumes the queue {queue!r}" in message for message in shown), (
        shown
    )
    assert api.status_code == 201 and f"queue {queue!r}" in api.json()["warnings"][0]
    assert token_client(admin_user).get(api.json()["url"]).json()["warnings"] == []


@pytest.mark.django_db(transaction=True)
def test_a_queue_with_a_live_worker_gives_no_warning(admin_user, kube_emulator, celery_worker):
    saved = save_cluster(
        Cluster(name="served", api_url=kube_emulator.url, queue=celery_worker.queue),
        actor=admin_user,
        via=Via.UI,
    )

    assert saved.warnings == []


def test_an_unchanged_access_is_not_asked_again_so_an_outage_does_not_block_an_edit(admin_user):
    cluster = factories.cluster(api_url="http://127.0.0.1:1")
    cluster.capacity = 7

    save_cluster(cluster, actor=admin_user, via=Via.UI)

    assert Cluster.objects.get(pk=cluster.pk).capacity == 7
    assert AuditEvent.objects.filter(target_type="cluster", action="update").count() == 1


def test_a_refused_edit_changes_nothing(admin_user, kube_emulator):
    cluster = save_cluster(
        Cluster(name="kept", api_url=kube_emulator.url), actor=admin_user, via=Via.UI
    ).cluster
    cluster.api_url = "http://127.0.0.1:1"
    cluster.capacity = 3

    with pytest.raises(Exception, match="could not be reached"):
        save_cluster(cluster, actor=admin_user, via=Via.UI)

    stored = Cluster.objects.get(pk=cluster.pk)
    assert stored.api_url == kube_emulator.url and stored.capacity != 3 and stored.api_reachable is True

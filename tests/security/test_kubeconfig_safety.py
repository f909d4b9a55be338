"""A kubeconfig can never make the console run a program or read a local file, whether it is being saved or was
stored before the rule existed: only inline credentials are accepted, and every other entry is named in the error."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from provisioning.kube.access import ClusterAccess, build_configuration
from provisioning.kube.errors import KubeConfigError
from provisioning.kube.kubeconfig import check_kubeconfig

CA_DATA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()


def kubeconfig(user: dict | None = None, cluster: dict | None = None, **top) -> str:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster or {"server": "http://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": user if user is not None else {"token": "t"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    document.update(top)
    return yaml.safe_dump(document)


def exec_plugin(marker: Path) -> dict:
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "/bin/sh",
            "args": ["-c", f'touch {marker}; echo \'{{"status": {{"token": "x"}}}}\''],
            "interactiveMode": "Never",
        }
    }


def test_a_stored_exec_plugin_never_runs_when_the_client_is_built(tmp_path):
    marker = tmp_path / "ran"
    access = ClusterAccess(kubeconfig=kubeconfig(user=exec_plugin(marker)))

    with pytest.raises(KubeConfigError, match=r"user 'u'.*'exec'"):
        build_configuration(access)

    assert not marker.exists()


def test_a_stored_token_file_is_never_read(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("stolen")
    access = ClusterAccess(kubeconfig=kubeconfig(user={"tokenFile": str(secret)}))

    with pytest.raises(KubeConfigError, match=r"user 'u'.*'tokenFile'"):
        build_configuration(access)


@pytest.mark.parametrize(
    ("user", "cluster", "named"),
    [
        ({"exec": {"command": "id"}}, None, "user 'u': 'exec'"),
        ({"auth-provider": {"name": "gcp"}}, None, "user 'u': 'auth-provider'"),
        ({"tokenFile": "/etc/passwd"}, None, "user 'u': 'tokenFile'"),
        ({"client-certificate": "/tmp/c.crt", "client-key-data": CA_DATA}, None, "'client-certificate'"),
        ({"client-certificate-data": CA_DATA, "client-key": "/tmp/k"}, None, "user 'u': 'client-key'"),
        ({"username": "a", "password": "b"}, None, "user 'u': 'password'"),
        ({"as": "system:admin", "token": "t"}, None, "user 'u': 'as'"),
        (
            None,
            {"server": "https://k", "certificate-authority": "/etc/ca.pem"},
            "cluster 'c': 'certificate-authority'",
        ),
        (None, {"server": "https://k", "proxy-url": "http://proxy:3128"}, "cluster 'c': 'proxy-url'"),
        (None, {"server": "https://k", "insecure-skip-tls-verify": True}, "insecure-skip-tls-verify"),
        (None, {"server": "https://k", "certificate-authority-data": "%%% not base64"}, "not base64"),
        ({"token": "t", "client-key-data": "!!"}, None, "user 'u': 'client-key-data' is not base64"),
    ],
)
def test_anything_but_inline_credentials_is_refused_with_the_entry_named(user, cluster, named):
    with pytest.raises(KubeConfigError) as refused:
        check_kubeconfig(kubeconfig(user=user, cluster=cluster))

    assert named in str(refused.value)


def test_every_entry_of_the_file_is_checked_not_only_the_current_context():
    text = kubeconfig()
    document = yaml.safe_load(text)
    document["users"].append({"name": "other", "user": {"exec": {"command": "id"}}})

    with pytest.raises(KubeConfigError, match="user 'other': 'exec'"):
        check_kubeconfig(yaml.safe_dump(document))


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"current-context": "nope"}, "context 'nope' is not among the contexts (ctx)"),
        ({"current-context": ""}, "names no current-context"),
        ({"contexts": [{"name": "ctx", "context": {"cluster": "gone", "user": "u"}}]}, "cluster 'gone'"),
        ({"contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "gone"}}]}, "user 'gone'"),
        ({"clusters": "c"}, "'clusters' must be a list"),
        ({"users": [{"user": {"token": "t"}}]}, "users entry 1 has no name"),
        ({"preferences": {}, "exotic": 1}, "'exotic'"),
    ],
)
def test_the_contexts_users_and_clusters_named_must_exist(change, says):
    with pytest.raises(KubeConfigError) as refused:
        check_kubeconfig(kubeconfig(**change))

    assert says in str(refused.value)


def test_inline_credentials_are_accepted_and_summarised():
    text = kubeconfig(
        user={"client-certificate-data": CA_DATA, "client-key-data": CA_DATA},
        cluster={"server": "https://k.example:6443", "certificate-authority-data": CA_DATA},
    )

    summary = check_kubeconfig(text)

    assert summary.context == "ctx" and summary.server == "https://k.example:6443"
    assert summary.contexts == ["ctx"] and summary.users == ["u"] and summary.clusters == ["c"]


def test_a_named_context_other_than_the_current_one_is_used():
    document = yaml.safe_load(kubeconfig())
    document["clusters"].append({"name": "c2", "cluster": {"server": "http://127.0.0.1:2"}})
    document["contexts"].append({"name": "second", "context": {"cluster": "c2", "user": "u"}})

    summary = check_kubeconfig(yaml.safe_dump(document), context="second")

    assert summary.context == "second" and summary.server == "http://127.0.0.1:2"

"""How to reach one cluster: a plain dataclass, turned into a ``kubernetes.client.Configuration``."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass

from kubernetes import config as kube_config
from kubernetes.client import Configuration
from kubernetes.config.config_exception import ConfigException

from provisioning.kube.errors import KubeConfigError
from provisioning.kube.kubeconfig import check_document, parse_kubeconfig


@dataclass(frozen=True)
class ClusterAccess:
    """One of: a kubeconfig (text, optionally a context), an API URL with bearer token and CA, or in-cluster.

    A kubeconfig wins over the URL; in-cluster wins over both.
    """

    api_url: str = ""
    token: str = ""
    ca_pem: str = ""
    kubeconfig: str = ""
    context: str = ""
    in_cluster: bool = False

    @property
    def mode(self) -> str:
        if self.in_cluster:
            return "in-cluster"
        if self.kubeconfig:
            return "kubeconfig"
        return "url"

    def fingerprint(self) -> str:
        """A digest of every field: the same access, the same client (secrets never leave this digest)."""
        text = "\0".join((self.mode, self.api_url, self.token, self.ca_pem, self.kubeconfig, self.context))
        return hashlib.sha256(text.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"ClusterAccess(mode={self.mode!r}, api_url={self.api_url!r})"


class BuiltConfiguration:
    """A ``Configuration`` and the temporary files it points at, removed by ``cleanup()``."""

    def __init__(self, configuration: Configuration, paths: list[str]) -> None:
        self.configuration = configuration
        self._paths = paths

    def cleanup(self) -> None:
        for path in self._paths:
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else _unlink(path)
        self._paths = []


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def build_configuration(access: ClusterAccess) -> BuiltConfiguration:
    """The client configuration for ``access``; raises ``KubeConfigError`` naming what is unusable.

    A kubeconfig is checked again here (see :mod:`provisioning.kube.kubeconfig`) before the client loads it, so one
    stored before the rule existed can never run a program or read a file.
    """
    configuration = Configuration()
    files: list[str] = []
    try:
        if access.in_cluster:
            kube_config.load_incluster_config(client_configuration=configuration)
        elif access.kubeconfig:
            document = parse_kubeconfig(access.kubeconfig)
            check_document(document, access.context)
            temp_dir = tempfile.mkdtemp(prefix="hc-kubeconfig-")
            kube_config.load_kube_config_from_dict(
                document,
                context=access.context or None,
                client_configuration=configuration,
                persist_config=False,
                temp_file_path=temp_dir,
            )
            files.append(temp_dir)
        elif access.api_url:
            configuration.host = access.api_url.rstrip("/")
            if access.token:
                configuration.api_key = {"authorization": f"Bearer {access.token}"}
            if access.ca_pem:
                configuration.ssl_ca_cert = _write_temp(access.ca_pem, files)
        else:
            raise KubeConfigError("No way to reach the cluster: give an API URL, a kubeconfig or in-cluster.")
    except ConfigException as error:
        raise KubeConfigError(
            f"The cluster access settings cannot be used ({access.mode}): {error}"
        ) from None
    return BuiltConfiguration(configuration, files)


def _write_temp(content: str, files: list[str]) -> str:
    handle = tempfile.NamedTemporaryFile("w", prefix="hc-ca-", suffix=".pem", delete=False)  # noqa: SIM115
    with handle:
        handle.write(content)
    files.append(handle.name)
    return handle.name

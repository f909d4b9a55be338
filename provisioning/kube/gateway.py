"""``KubeGateway``: the only code that sends requests to a Kubernetes API server.

Requests go through the official client's ``ApiClient`` (its configuration, authentication, TLS and connection
pool), so the code that runs against the emulator in tests is the code that runs against a real cluster.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from provisioning.kube.access import ClusterAccess, build_configuration
from provisioning.kube.errors import KubeApiError, KubeError, KubeUnreachable
from provisioning.kube.resources import WELL_KNOWN, Resource, resources_from_discovery

APPLY_PATCH = "application/apply-patch+yaml"
LIST_PAGE_SIZE = 500


class KubeGateway:
    """One cluster's client: list by label selector, server-side apply, get and delete plain-dict objects."""

    def __init__(
        self, access: ClusterAccess, *, field_manager: str, timeout: float = 10.0, retries: int | None = None
    ) -> None:
        """``retries``: how often a failed connection is tried again (the client's default when None; 0 bounds a
        probe to one ``timeout``)."""
        if not field_manager:
            raise ValueError("field_manager is required: server-side apply tracks ownership by it.")
        self.access = access
        self.field_manager = field_manager
        self.timeout = timeout
        self._built = build_configuration(access)
        if retries is not None:
            self._built.configuration.retries = retries
        self._api = ApiClient(self._built.configuration)
        self._api.user_agent = f"{field_manager}/1"
        self._discovered: dict[str, dict[str, Resource]] = {}
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return str(self._built.configuration.host)

    def close(self) -> None:
        self._api.close()
        self._built.cleanup()

    # ---- kinds -------------------------------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> Resource:
        """Where ``kind`` lives; kinds beyond the well-known ones are discovered once per API group version."""
        known = WELL_KNOWN.get((api_version, kind))
        if known is not None:
            return known
        with self._lock:
            table = self._discovered.get(api_version)
        if table is None:
            prefix = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
            try:
                document = self._request("discover", api_version, "GET", prefix)
            except KubeApiError as error:
                if error.not_found:
                    raise KubeApiError(
                        404,
                        "NotFound",
                        f"the server does not serve {api_version}",
                        verb="discover",
                        what=kind,
                    ) from None
                raise
            table = resources_from_discovery(api_version, document)
            with self._lock:
                self._discovered[api_version] = table
        try:
            return table[kind]
        except KeyError:
            raise KubeApiError(
                404,
                "NotFound",
                f"the server does not serve {kind} in {api_version}",
                verb="discover",
                what=f"{kind}.{api_version}",
            ) from None

    # ---- verbs -------------------------------------------------------------------------------------------

    def server_version(self) -> str:
        """The API server's ``gitVersion`` (``GET /version``), e.g. ``v1.31.2``."""
        document = self._request("version", "of the API server", "GET", "/version")
        return str(document.get("gitVersion") or "")

    def list(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
    ) -> list[dict[str, Any]]:
        """Every object of ``kind`` matching the selectors (in ``namespace``, or cluster-wide); pages followed."""
        resource = self.resource(api_version, kind)
        path = resource.collection_path(namespace)
        query: dict[str, str] = {"limit": str(LIST_PAGE_SIZE)}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        items: list[dict[str, Any]] = []
        while True:
            page = self._request("list", f"{kind} in {namespace or 'all namespaces'}", "GET", path, query)
            for item in page.get("items") or []:
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
                items.append(item)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = token

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        resource = self.resource(api_version, kind)
        try:
            return self._request(
                "get", _what(kind, namespace, name), "GET", resource.object_path(name, namespace)
            )
        except KubeApiError as error:
            if error.not_found:
                return None
            raise

    def apply(self, manifest: Mapping[str, Any], *, force: bool = True) -> dict[str, Any]:
        """Server-side apply of ``manifest`` under this gateway's field manager; returns the live object."""
        api_version, kind = str(manifest["apiVersion"]), str(manifest["kind"])
        metadata = manifest["metadata"]
        name, namespace = str(metadata["name"]), str(metadata.get("namespace", ""))
        resource = self.resource(api_version, kind)
        query = {"fieldManager": self.field_manager}
        if force:
            query["force"] = "true"
        return self._request(
            "apply",
            _what(kind, namespace, name),
            "PATCH",
            resource.object_path(name, namespace),
            query,
            body=dict(manifest),
            content_type=APPLY_PATCH,
        )

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str = "",
        *,
        propagation: str = "Background",
    ) -> bool:
        """Delete one object (dependents per ``propagation``); False when it was already gone."""
        resource = self.resource(api_version, kind)
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
        try:
            self._request(
                "delete",
                _what(kind, namespace, name),
                "DELETE",
                resource.object_path(name, namespace),
                body=body,
            )
        except KubeApiError as error:
            if error.not_found:
                return False
            raise
        return True

    # ---- transport ---------------------------------------------------------------------------------------

    def _request(
        self,
        verb: str,
        what: str,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        *,
        body: dict[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            method, url, headers, _, _ = self._api.param_serialize(
                method,
                path,
                query_params=list((query or {}).items()),
                header_params=headers,
                auth_settings=["BearerToken"],
            )
            response = self._api.call_api(
                method, url, header_params=headers, body=body, _request_timeout=(self.timeout, self.timeout)
            )
            response.read()
        except ApiException as error:
            raise KubeUnreachable(
                f"{verb} {what}: the API server at {self.host} could not be reached ({error.reason}).",
                verb=verb,
                what=what,
            ) from None
        except urllib3.exceptions.HTTPError as error:
            if tls_error := _tls_failure(error):
                raise KubeUnreachable(
                    f"{verb} {what}: the TLS connection to the API server at {self.host} failed "
                    f"({_tls_cause(tls_error)}).",
                    verb=verb,
                    what=what,
                    tls=True,
                ) from None
            raise KubeUnreachable(
                f"{verb} {what}: the API server at {self.host} could not be reached ({_cause(error)}).",
                verb=verb,
                what=what,
            ) from None
        payload = _decode(response.data)
        if 200 <= response.status < 300:
            return payload if isinstance(payload, dict) else {}
        raise _api_error(response.status, payload, verb, what, response.getheader("Retry-After"))


def _what(kind: str, namespace: str, name: str) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _decode(data: bytes | None) -> Any:
    if not data:
        return {}
    try:
        return json.loads(data)
    except ValueError:
        return {"message": data.decode("utf-8", "replace")[:500]}


def _tls_failure(error: BaseException) -> BaseException | None:
    """The TLS error the connection failed with (an unverifiable certificate, a handshake error), if any."""
    seen: BaseException | None = error
    found: BaseException | None = None
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLError | urllib3.exceptions.SSLError):
            found = seen
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else seen.__cause__ or seen.__context__
    return found


def _tls_cause(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return str(error.reason or error.strerror or error)
    return str(error)[:300]


def _cause(error: urllib3.exceptions.HTTPError) -> str:
    reason = getattr(error, "reason", None)
    return str(reason or error).split(": ", 1)[-1][:300]


def _api_error(status: int, payload: Any, verb: str, what: str, retry_after: str | None) -> KubeApiError:
    body = payload if isinstance(payload, dict) else {}
    try:
        delay = float(retry_after) if retry_after else None
    except ValueError:
        delay = None
    return KubeApiError(
        status,
        str(body.get("reason") or "Unknown"),
        str(body.get("message") or "no message"),
        verb=verb,
        what=what,
        details=body.get("details") if isinstance(body.get("details"), dict) else None,
        retry_after=delay,
    )


_CACHE_SIZE = 64
_gateways: OrderedDict[tuple[str, str, float], KubeGateway] = OrderedDict()
_gateways_lock = threading.Lock()


def gateway_for(access: ClusterAccess, *, field_manager: str, timeout: float = 10.0) -> KubeGateway:
    """A gateway for ``access``, shared within the process so connections are pooled across runs."""
    key = (access.fingerprint(), field_manager, timeout)
    with _gateways_lock:
        gateway = _gateways.get(key)
        if gateway is not None:
            _gateways.move_to_end(key)
            return gateway
    gateway = KubeGateway(access, field_manager=field_manager, timeout=timeout)
    with _gateways_lock:
        existing = _gateways.get(key)
        if existing is not None:
            gateway.close()
            return existing
        _gateways[key] = gateway
        while len(_gateways) > _CACHE_SIZE:
            _, evicted = _gateways.popitem(last=False)
            evicted.close()
    return gateway


def close_gateways() -> None:
    """Close every shared gateway (tests, worker shutdown)."""
    with _gateways_lock:
        for gateway in _gateways.values():
            gateway.close()
        _gateways.clear()


__all__ = ["KubeError", "KubeGateway", "close_gateways", "gateway_for"]

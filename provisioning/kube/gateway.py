"""``KubeGateway``: the only code that sends requests to a Kubernetes API server.

Requests go through the official client's ``ApiClient`` (its configuration, authentication, TLS and connection
pool), so the code that runs against the emulator in tests is the code that runs against a real cluster. Besides
lists, gets, server-side applies and deletes, it reads a list's collection ``resourceVersion`` and follows watches
from it (``list_with_version`` then ``watch``: what an informer is made of).
"""

from __future__ import annotations

import builtins
import json
import ssl
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from harborconsole import tracing
from provisioning.kube.access import ClusterAccess, build_configuration
from provisioning.kube.errors import KubeApiError, KubeError, KubeUnreachable, KubeWatchExpired
from provisioning.kube.resources import WELL_KNOWN, Resource, resources_from_discovery
from provisioning.kube.watching import WatchEvent, decode_event

APPLY_PATCH = "application/apply-patch+yaml"
LIST_PAGE_SIZE = 500
WATCH_SECONDS = 300
"""How long one watch request lasts by default; the caller watches again from the last resourceVersion."""


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
        if table is None or kind not in table:
            table = self.discover(api_version)
            if table is None:
                raise KubeApiError(
                    404,
                    "NotFound",
                    f"the server does not serve {api_version}",
                    verb="discover",
                    what=kind,
                )
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

    def discover(self, api_version: str) -> dict[str, Resource] | None:
        """The kinds the server serves in ``api_version`` now (None when it serves no such group version).

        Asked afresh each time (and remembered for ``resource``): a CustomResourceDefinition may come or go.
        """
        prefix = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        try:
            document = self._request("discover", api_version, "GET", prefix)
        except KubeApiError as error:
            if error.not_found:
                with self._lock:
                    self._discovered.pop(api_version, None)
                return None
            raise
        table = resources_from_discovery(api_version, document)
        with self._lock:
            self._discovered[api_version] = table
        return table

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
        items, _ = self.list_with_version(
            api_version,
            kind,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
        )
        return items

    def list_with_version(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
    ) -> tuple[builtins.list[dict[str, Any]], str]:
        """``list`` and the collection's ``resourceVersion`` (of its first page): a watch from it misses nothing."""
        resource = self.resource(api_version, kind)
        path = resource.collection_path(namespace)
        query: dict[str, str] = {"limit": str(LIST_PAGE_SIZE)}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        items: list[dict[str, Any]] = []
        version = ""
        while True:
            page = self._request("list", f"{kind} in {namespace or 'all namespaces'}", "GET", path, query)
            version = version or str((page.get("metadata") or {}).get("resourceVersion", ""))
            for item in page.get("items") or []:
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
                items.append(item)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items, version
            query["continue"] = token

    def watch(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        resource_version: str = "",
        timeout_seconds: int = WATCH_SECONDS,
        bookmarks: bool = True,
    ) -> Iterator[WatchEvent]:
        """Follow changes of ``kind`` after ``resource_version`` (from now, with ADDED for what exists, when empty).

        Yields ``WatchEvent``s (ADDED, MODIFIED, DELETED and, with ``bookmarks``, BOOKMARK carrying only a
        resourceVersion) until the server ends the stream after ``timeout_seconds``; then watch again from the last
        event's resource version. A resourceVersion the server no longer keeps raises ``KubeWatchExpired``: list
        again (``list_with_version``) and watch from the list's version. Closing the generator closes the stream.
        """
        resource = self.resource(api_version, kind)
        what = f"{kind} in {namespace or 'all namespaces'}"
        query = {"watch": "true", "timeoutSeconds": str(timeout_seconds)}
        if bookmarks:
            query["allowWatchBookmarks"] = "true"
        for name, value in (
            ("resourceVersion", resource_version),
            ("labelSelector", label_selector),
            ("fieldSelector", field_selector),
        ):
            if value:
                query[name] = value
        response = self._send(
            "watch",
            what,
            "GET",
            resource.collection_path(namespace),
            query,
            (self.timeout, timeout_seconds + self.timeout),
        )
        stream = response.response
        finished = False
        try:
            if not 200 <= response.status < 300:
                payload = _decode(response.read())
                finished = True
                raise _api_error(response.status, payload, "watch", what, response.getheader("Retry-After"))
            for line in _lines(stream, "watch", what, self.host):
                event = decode_event(line, api_version, kind, what)
                if event is not None:
                    yield event
            finished = True
        finally:
            if not finished:
                stream.close()  # a half-read stream cannot go back to the pool: the server sees it closed
            stream.release_conn()

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

    @tracing.traced_kube_request
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
        response = self._send(
            verb, what, method, path, query, (self.timeout, self.timeout), body, content_type
        )
        try:
            response.read()
        except urllib3.exceptions.HTTPError as error:
            raise self._unreachable(verb, what, _cause(error)) from None
        payload = _decode(response.data)
        if 200 <= response.status < 300:
            return payload if isinstance(payload, dict) else {}
        raise _api_error(response.status, payload, verb, what, response.getheader("Retry-After"))

    def _send(
        self,
        verb: str,
        what: str,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        timeout: tuple[float, float],
        body: dict[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request; the response's body is left unread."""
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
            return self._api.call_api(method, url, header_params=headers, body=body, _request_timeout=timeout)
        except ApiException as error:
            raise self._unreachable(verb, what, str(error.reason)) from None
        except urllib3.exceptions.HTTPError as error:
            if tls_error := _tls_failure(error):
                raise KubeUnreachable(
                    f"{verb} {what}: the TLS connection to the API server at {self.host} failed "
                    f"({_tls_cause(tls_error)}).",
                    verb=verb,
                    what=what,
                    tls=True,
                ) from None
            raise self._unreachable(verb, what, _cause(error)) from None

    def _unreachable(self, verb: str, what: str, cause: str) -> KubeUnreachable:
        return KubeUnreachable(
            f"{verb} {what}: the API server at {self.host} could not be reached ({cause}).",
            verb=verb,
            what=what,
        )


def _lines(stream: Any, verb: str, what: str, host: str) -> Iterator[bytes]:
    """The newline-separated lines of a streamed body, as they arrive."""
    buffer = b""
    try:
        for chunk in stream.stream(amt=None, decode_content=False):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    yield line
    except (urllib3.exceptions.HTTPError, OSError) as error:
        why = _cause(error) if isinstance(error, urllib3.exceptions.HTTPError) else str(error)
        raise KubeUnreachable(
            f"{verb} {what}: the watch on {host} broke off ({why}).",
            verb=verb,
            what=what,
        ) from None
    if buffer.strip():
        yield buffer


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
    error_class = KubeWatchExpired if status == 410 else KubeApiError
    return error_class(
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

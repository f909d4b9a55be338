"""``KubeEmulator``: the in-process handle on one emulated API server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import seed
from .controllers import Controllers
from .discovery import GIT_VERSION, version_info
from .errors import ApiError
from .faults import FaultInjector, FaultRule
from .kinds import find_by_kind
from .readiness import BrokenRule, Readiness
from .server import EmulatorHTTPServer
from .stats import RequestStats
from .store import Store

TICK_SECONDS = 0.05
"""How often the background ticker lets due controller work (readiness, namespace drains) happen."""

if TYPE_CHECKING:
    from kubernetes.client import ApiClient, Configuration


class KubeEmulator:
    """A Kubernetes API server emulator listening on ``host:port`` (``port=0`` picks a free port).

    ``ready_delay`` is how long (seconds, on ``clock``) workloads take to become ready after a spec change;
    ``token``, when given, is the only bearer token accepted (anything else gets a 401). It starts as an installed
    cluster (see ``seed``) unless ``bare``. ``namespace_drain_delay`` is how long a deleted namespace stays
    ``Terminating`` before its content and itself are gone; ``watch_history`` how many changes a watch can resume
    from (older resourceVersions get 410 Gone); ``bookmark_interval`` how often (seconds) idle watches that asked
    for bookmarks get one; ``kubernetes_version`` the ``gitVersion`` that ``/version`` answers.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_delay: float = 0.0,
        token: str | None = None,
        *,
        clock: Callable[[], float] | None = None,
        bare: bool = False,
        namespace_drain_delay: float = 1.0,
        watch_history: int = 10_000,
        bookmark_interval: float = 1.0,
        kubernetes_version: str = GIT_VERSION,
    ):
        if namespace_drain_delay < 0 or bookmark_interval <= 0:
            raise ValueError(
                "namespace_drain_delay must not be negative and bookmark_interval must be positive"
            )
        version_info(kubernetes_version)
        self.host = host
        self.token = token
        self.bare = bare
        self.kubernetes_version = kubernetes_version
        self.bookmark_interval = bookmark_interval
        self.readiness = Readiness(ready_delay, clock)
        self.request_stats = RequestStats()
        self.faults = FaultInjector()
        self.store = Store(
            self.readiness,
            self.request_stats,
            watch_history=watch_history,
            namespace_drain_delay=namespace_drain_delay,
        )
        self.controllers = Controllers(self.store)
        if not bare:
            seed.install(self.store)
        self._address = (host, port)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lifecycle = threading.Lock()

    # ---- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> KubeEmulator:
        """Bind and serve from a background thread; returns ``self``."""
        with self._lifecycle:
            if self._server is not None:
                return self
            self._stopping.clear()
            self._server = EmulatorHTTPServer(self._address, self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="kubeemulator",
                daemon=True,
            )
            self._thread.start()
            self._ticker = threading.Thread(target=self._tick, name="kubeemulator-ticker", daemon=True)
            self._ticker.start()
            return self

    def stop(self) -> None:
        """Stop serving: open watches end, pooled connections are dropped."""
        with self._lifecycle:
            server, self._server = self._server, None
            if server is None:
                return
            self._stopping.set()
            self.store.watches.close_all()
            server.shutdown()
            server.close_connections()
            server.server_close()
            for thread in (self._thread, self._ticker):
                if thread is not None:
                    thread.join(timeout=5)
            self._thread, self._ticker = None, None

    @property
    def running(self) -> bool:
        return not self._stopping.is_set()

    def _tick(self) -> None:
        """Let time-driven controller work happen even when no request comes (watchers see it at once)."""
        while not self._stopping.wait(TICK_SECONDS):
            due = self.controllers.next_deadline()
            if due is not None and due <= self.readiness.clock():
                with self.store.lock:
                    self.store.settle()

    def __enter__(self) -> KubeEmulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def configuration(self) -> Configuration:
        """A ``kubernetes.client.Configuration`` pointing at this emulator (with the token, if any)."""
        from kubernetes.client import Configuration

        configuration = Configuration(host=self.url)
        if self.token is not None:
            configuration.api_key = {"authorization": f"Bearer {self.token}"}
        return configuration

    def api_client(self) -> ApiClient:
        from kubernetes.client import ApiClient

        return ApiClient(self.configuration())

    # ---- accounting --------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters: total, reads, writes, mutations, by_verb, by_kind... (see ``RequestStats``)."""
        return self.request_stats.snapshot()

    def reset_stats(self) -> None:
        self.request_stats.reset()

    # ---- faults ------------------------------------------------------------------------------------------

    def set_faults(
        self,
        error_rate: float = 1.0,
        codes: Iterable[int] = (500,),
        latency_ms: int = 0,
        verbs: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
        seed: int = 0,
    ) -> None:
        """Replace every fault rule by one: fail ``error_rate`` of matching requests with one of ``codes``.

        ``verbs`` holds ``read``, ``write`` or exact verbs (get, list, create, update, patch, apply, delete);
        ``kinds`` holds kind names. ``seed`` makes the sequence of failures repeatable.
        """
        rule = FaultRule(error_rate, tuple(codes), latency_ms, _set(verbs), _set(kinds))
        self.faults.set([rule], seed=seed)

    def fail_next(
        self,
        count: int,
        code: int = 500,
        verbs: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> None:
        """Fail the next ``count`` matching requests with ``code`` (added to the current rules)."""
        self.faults.add(FaultRule(1.0, (code,), 0, _set(verbs), _set(kinds), count=count))

    def add_fault(self, rule: FaultRule) -> None:
        self.faults.add(rule)

    def clear_faults(self) -> None:
        self.faults.clear()

    def faults_config(self) -> dict[str, Any]:
        return {"seed": self.faults.seed, "rules": [rule.to_dict() for rule in self.faults.rules()]}

    # ---- readiness ---------------------------------------------------------------------------------------

    @property
    def ready_delay(self) -> float:
        return self.readiness.delay

    @ready_delay.setter
    def ready_delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("ready_delay must not be negative")
        with self.store.lock:
            self.readiness.delay = seconds

    @property
    def namespace_drain_delay(self) -> float:
        return self.store.namespace_drain_delay

    @namespace_drain_delay.setter
    def namespace_drain_delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("namespace_drain_delay must not be negative")
        with self.store.lock:
            self.store.namespace_drain_delay = seconds

    def break_workload(
        self,
        namespace: str,
        name: str,
        reason: str = "ImagePullBackOff",
        message: str = "Back-off pulling image",
        kind: str | None = None,
    ) -> None:
        """Keep matching workloads (shell patterns; any simulated kind unless ``kind``) from being ready."""
        with self.store.lock:
            self.readiness.break_workload(BrokenRule(namespace, name, reason, message, kind))
        self.store.rules_changed()

    def heal_workload(self, namespace: str, name: str, kind: str | None = None) -> int:
        """Drop the broken rules given with these patterns; healed workloads are ready after the delay."""
        return self.store.heal(namespace, name, kind)

    def broken_workloads(self) -> list[dict[str, Any]]:
        with self.store.lock:
            return [rule.to_dict() for rule in self.readiness.broken]

    # ---- objects -----------------------------------------------------------------------------------------

    def objects(self, kind: str | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects, each with apiVersion and kind; ``kind`` is a kind name such as ``Deployment``.

        Like any read, this lets simulated readiness move on (statuses and resourceVersions may change).
        """
        found = None
        if kind is not None:
            found = find_by_kind(kind)
            if found is None:
                raise ApiError(404, f"the emulator serves no kind {kind!r}")
        return self.store.objects(found, namespace)

    def reset(self) -> None:
        """Back to the cluster it started as: every object deleted, the seed re-installed unless bare.

        Counters, faults and broken rules stay; open watches see nothing of it (watch again after a reset).
        """
        self.store.reset()
        if not self.bare:
            seed.install(self.store)


def _set(values: Iterable[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    return frozenset([values] if isinstance(values, str) else values)

"""Each tenant's own Redis: one from the provider's Redis service, or one the console runs in the namespace.

Two Harbors never share a Redis (HARBOR.md "Isolation": ACLs cannot fence database numbers and core needs db 0).

- ``provider`` mode: staff or automation record the endpoint and credentials the provider's Redis service handed out;
  the console checks them (AUTH, PING, latency, memory against maxmemory). It rotates the password itself when
  the instance lets it (Redis 6+ ACLs): a Redis user may hold several passwords at once, so rotation *adds* the new
  one (``ACL SETUSER u >new``), the pods roll, and ``revoke_previous`` removes the old one (``<old``). Each change is
  persisted with ``ACL SAVE`` or ``CONFIG REWRITE``; when neither works the change is undone and rotation refused,
  since a restart would otherwise bring back a password nobody holds any more.
- ``managed`` mode: rendering runs Redis as a StatefulSet with a password Secret and a NetworkPolicy; here the
  console only generates and stores that password and the in-cluster address (rotation: see ``ManagedRedis``).
  The console cannot reach into the cluster network, so the check reports the StatefulSet readiness the reconciler
  observed, and says so.

The URLs Harbor's components use (one db index per use) come from ``provisioning.rendering.redis_urls``.

Ownership (provider mode): an endpoint belongs to one registry. The console marks it with a key
(``harbor-console:owner`` in db 0, naming the installation and the registry) the first time it uses it — when the
instance is empty, or when the binding was provisioned before marks existed — and refuses an endpoint marked for
another registry, or unmarked but holding data. A purge removes only what this registry put there: the keys in the
databases Harbor uses, then the mark; never ``FLUSHALL`` or ``FLUSHDB``, and never another database's keys. The
console creates no ACL user on a provider's Redis (Harbor 2.13 and 2.14's registry cannot log in with one), so
there is none of its own to remove.
"""

from __future__ import annotations

from typing import Any

import redis
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    NoPermissionError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from provisioning.choices import BindingStatus, CacheMode, ComponentKind, WhoseMove
from provisioning.crypto import random_string
from provisioning.external.base import (
    CheckResult,
    DependencyMisconfigured,
    DependencyUnreachable,
    RotationNotSupported,
    Stopwatch,
    short,
)
from provisioning.external.ownership import Owner, must_mark, parse_text, refuse_if_shared
from provisioning.models import CacheBinding, Component
from provisioning.rendering.redis_urls import (
    DB_CACHE_LAYER,
    DB_CORE,
    DB_HARBOR,
    DB_JOBSERVICE,
    DB_REGISTRY,
    DB_TRIVY,
)

PASSWORD_LENGTH = 32
MANAGED_PORT = 6379
MEMORY_DEGRADED_RATIO = 0.9
HARBOR_DATABASES = (DB_CORE, DB_JOBSERVICE, DB_REGISTRY, DB_TRIVY, DB_HARBOR, DB_CACHE_LAYER)
"""The database indexes Harbor's components use: all that a purge empties."""
MARKER_KEY = "harbor-console:owner"
MARKER_DB = DB_CORE
UNLINK_BATCH = 500


def generate_password() -> str:
    return random_string(PASSWORD_LENGTH)


def managed_host(binding: CacheBinding) -> str:
    """The managed Redis Service inside the tenant's namespace, as rendering names it."""
    registry = binding.registry
    return f"{registry.name}-redis.{registry.namespace}.svc"


def client(
    host: str, port: int, username: str, password: str, *, tls: bool, timeout: float, db: int = 0
) -> redis.Redis:
    return redis.Redis(
        host=host,
        port=port,
        db=db,
        username=username or None,
        password=password or None,
        ssl=tls,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),  # one attempt: a check reports what it sees, the next check tries again
        client_name="harbor-console",
    )


def memory_status(info: dict[str, Any]) -> tuple[bool, int, int]:
    """(above the degraded threshold, used bytes, maxmemory bytes; 0 = no limit) from ``INFO memory``."""
    used = int(info.get("used_memory", 0))
    limit = int(info.get("maxmemory", 0))
    return (limit > 0 and used > limit * MEMORY_DEGRADED_RATIO), used, limit


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class ProviderRedis:
    """A dedicated Redis instance from the provider's Redis service, reached directly by the console."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def _client(self, binding: CacheBinding, password: str, db: int = 0) -> redis.Redis:
        if binding.sentinel_master:
            raise DependencyMisconfigured(
                "Redis Sentinel endpoints are not checked by the console yet: check the master "
                f"{binding.sentinel_master} at the provider.",
                whose_move=WhoseMove.PROVIDER,
            )
        return client(
            binding.host,
            binding.port,
            binding.username,
            password,
            tls=binding.tls,
            timeout=self.timeout,
            db=db,
        )

    def _where(self, binding: CacheBinding) -> str:
        return f"{binding.host}:{binding.port}"

    def _call(
        self, binding: CacheBinding, password: str, *commands: tuple[Any, ...], db: int = 0
    ) -> list[Any]:
        """Run commands on one connection; connection and auth failures become dependency errors."""
        where = self._where(binding)
        conn = self._client(binding, password, db)
        try:
            return [conn.execute_command(*command) for command in commands]
        except (AuthenticationError, AuthorizationError) as error:
            raise DependencyMisconfigured(
                f"refuses the stored credentials at {where} ({short(error)}): enter the credentials the "
                "provider's Redis service gave for this tenant."
            ) from error
        except (RedisConnectionError, RedisTimeoutError) as error:
            raise DependencyUnreachable(f"unreachable: {short(error)} at {where}.") from error
        finally:
            conn.close()

    def ensure(self, binding: CacheBinding, *, reset_credentials: bool = False) -> None:
        """Nothing to create (the provider hands the instance out); during a rotation, make sure both work."""
        if not binding.host or not binding.password:
            raise DependencyMisconfigured(
                "has no endpoint or password yet: record the Redis the provider's Redis service handed out for "
                "this tenant (host, port, password) on the registry's cache binding."
            )
        if binding.previous_password and binding.rotation_started_at:
            try:
                self._call(binding, binding.password, ("PING",))
            except (
                DependencyMisconfigured
            ):  # the new password was lost (instance restarted unsaved): add it again
                user = binding.username or "default"
                self._call(
                    binding, binding.previous_password, ("ACL", "SETUSER", user, f">{binding.password}")
                )
                self._persist(binding, binding.password)
        self._claim(binding)
        if binding.provisioned_at is None:
            binding.provisioned_at = timezone.now()

    # -- ownership ---------------------------------------------------------------------------------------------

    def _marked(self, binding: CacheBinding, *commands: tuple[Any, ...], db: int = MARKER_DB) -> list[Any]:
        """Commands of the ownership rule; a user not allowed them is the provider's to fix."""
        try:
            return self._call(binding, binding.password, *commands, db=db)
        except ResponseError as error:
            raise DependencyMisconfigured(
                f"at {self._where(binding)} does not let the console read or write its mark ({short(error)}): "
                "the tenant's user needs GET, SET, DEL, DBSIZE, SCAN and UNLINK on every key.",
                whose_move=WhoseMove.PROVIDER,
            ) from error

    def _holds_keys(self, binding: CacheBinding) -> bool:
        """Whether any database Harbor uses holds a key."""
        return any(self._marked(binding, ("DBSIZE",), db=db)[0] for db in HARBOR_DATABASES)

    def _needs_mark(self, binding: CacheBinding, *, fresh_counts: bool) -> bool:
        """Whether the endpoint still needs this registry's mark; NotOwned when it is not this registry's.

        An unmarked endpoint is this registry's when the binding was provisioned before marks existed, or (with
        ``fresh_counts``) when it is empty: a fresh instance the provider handed out.
        """
        found = parse_text(self._marked(binding, ("GET", MARKER_KEY))[0])
        vouched = binding.provisioned_at is not None
        if found is None and not vouched and fresh_counts:
            vouched = not self._holds_keys(binding)
        where = self._where(binding)
        return must_mark(f"Redis {where}", where, found, Owner.of(binding), vouched=vouched)

    def _claim(self, binding: CacheBinding) -> None:
        if not self._needs_mark(binding, fresh_counts=True):
            return
        owner = Owner.of(binding)
        if not self._marked(binding, ("SET", MARKER_KEY, owner.text, "NX"))[0]:
            self._needs_mark(binding, fresh_counts=False)  # someone marked it in between: theirs or ours

    def check(self, binding: CacheBinding) -> CheckResult:
        if not binding.host or not binding.password:
            return CheckResult(
                BindingStatus.MISCONFIGURED,
                "has no endpoint or password yet: record the provider's Redis for this tenant on the binding.",
                WhoseMove.PROVIDER,
            )
        where = self._where(binding)
        clock = Stopwatch()
        conn = None
        try:
            conn = self._client(binding, binding.password)
            conn.ping()
            latency = clock.ms
            try:
                server, memory = conn.info("server"), conn.info("memory")
            except NoPermissionError:
                server, memory = {}, {}  # a user without INFO: reachable, figures unknown
        except (AuthenticationError, AuthorizationError, ResponseError) as error:
            return CheckResult(
                BindingStatus.MISCONFIGURED,
                f"refuses the stored credentials at {where} ({short(error)}): enter the credentials the "
                "provider's Redis service gave for this tenant.",
                WhoseMove.PROVIDER,
                clock.ms,
            )
        except (RedisConnectionError, RedisTimeoutError) as error:
            return CheckResult(
                BindingStatus.UNREACHABLE,
                f"unreachable: {short(error)} at {where}.",
                WhoseMove.PROVIDER,
                clock.ms,
            )
        except DependencyMisconfigured as error:
            return error.as_result()
        finally:
            if conn is not None:
                conn.close()
        high, used, limit = memory_status(memory)
        version = str(server.get("redis_version", ""))
        details = {"server_version": version, "used_memory": used, "maxmemory": limit}
        binding.server_version, binding.used_memory_bytes, binding.maxmemory_bytes = (
            version,
            used,
            limit or None,
        )
        if high:
            return CheckResult(
                BindingStatus.DEGRADED,
                f"at {where} uses {_human(used)} of its {_human(limit)} maxmemory (over "
                f"{MEMORY_DEGRADED_RATIO:.0%}): enlarge the instance at the provider's Redis service.",
                WhoseMove.PROVIDER,
                latency,
                details,
            )
        room = f"{_human(used)} of {_human(limit)}" if limit else f"{_human(used)}, no maxmemory"
        return CheckResult(
            BindingStatus.OK,
            f"reachable at {where} (Redis {version}, {room}).",
            WhoseMove.NONE,
            latency,
            details,
        )

    def _persist(self, binding: CacheBinding, password: str) -> bool:
        """Write the ACL change where a restart finds it: the ACL file, else the configuration file."""
        conn = self._client(binding, password)
        try:
            for command in (("ACL", "SAVE"), ("CONFIG", "REWRITE")):
                try:
                    conn.execute_command(*command)
                    return True
                except ResponseError:
                    continue
            return False
        finally:
            conn.close()

    def rotate(self, binding: CacheBinding) -> None:
        """Add a new password to the tenant's Redis user; the current one keeps working until revoked."""
        user = binding.username or "default"
        new_password = generate_password()
        try:
            self._call(binding, binding.password, ("ACL", "SETUSER", user, f">{new_password}"))
        except ResponseError as error:  # NOPERM, unknown command on Redis < 6
            raise RotationNotSupported(
                f"the provider's Redis at {self._where(binding)} does not let the console change its password "
                f"({short(error)}): rotate it at the provider's Redis service and record the new credentials."
            ) from error
        if not self._persist(binding, new_password):
            self._call(binding, binding.password, ("ACL", "SETUSER", user, f"<{new_password}"))
            raise RotationNotSupported(
                f"the provider's Redis at {self._where(binding)} cannot save a password change (no ACL file, no "
                "writable configuration file), so a restart would undo it: rotate it at the provider."
            )
        binding.previous_password, binding.password = binding.password, new_password

    def revoke_previous(self, binding: CacheBinding) -> None:
        if binding.previous_password and binding.previous_password != binding.password:
            user = binding.username or "default"
            try:
                self._call(
                    binding, binding.password, ("ACL", "SETUSER", user, f"<{binding.previous_password}")
                )
            except NoPermissionError as error:
                raise RotationNotSupported(
                    f"the provider's Redis at {self._where(binding)} refused to remove the previous password "
                    f"({short(error)}): remove it at the provider."
                ) from error
            self._persist(binding, binding.password)
        binding.previous_password = ""

    # -- purge -------------------------------------------------------------------------------------------------

    def check_purge(self, binding: CacheBinding, force: bool = False) -> None:
        """Raise when the endpoint is not reachable, not this registry's, or named by another registry too."""
        self._purge_refusal(binding)

    def _purge_refusal(self, binding: CacheBinding) -> bool:
        """Whether the endpoint holds anything of this registry's to remove; raise what forbids removing it."""
        if not binding.host or not binding.password:
            return False
        refuse_if_shared(
            binding,
            f"Redis {self._where(binding)}",
            mode=CacheMode.PROVIDER,
            host__iexact=binding.host,
            port=binding.port,
        )
        if (
            binding.provisioned_at is None
            and parse_text(self._marked(binding, ("GET", MARKER_KEY))[0]) is None
        ):
            return False  # never used by the console: nothing of this registry's is there
        self._needs_mark(binding, fresh_counts=False)
        return True

    def purge(self, binding: CacheBinding, force: bool = False) -> None:
        """Remove this registry's keys from the databases Harbor uses, then its mark; the instance itself goes
        back to the provider's Redis service. The preconditions are checked again first."""
        if self._purge_refusal(binding):
            for db in HARBOR_DATABASES:
                self._unlink_all(binding, db)
            self._marked(binding, ("DEL", MARKER_KEY))
        binding.password = binding.previous_password = ""
        binding.provisioned_at = None

    def _unlink_all(self, binding: CacheBinding, db: int) -> None:
        conn = self._client(binding, binding.password, db)
        try:
            batch: list[bytes] = []
            for key in conn.scan_iter(count=UNLINK_BATCH):
                if db == MARKER_DB and key == MARKER_KEY.encode():
                    continue
                batch.append(key)
                if len(batch) >= UNLINK_BATCH:
                    conn.unlink(*batch)
                    batch.clear()
            if batch:
                conn.unlink(*batch)
        except (RedisConnectionError, RedisTimeoutError) as error:
            raise DependencyUnreachable(f"unreachable: {short(error)} at {self._where(binding)}.") from error
        except ResponseError as error:
            raise DependencyMisconfigured(
                f"at {self._where(binding)} refused to remove the registry's keys in database {db} "
                f"({short(error)}): the tenant's user needs SCAN and UNLINK there.",
                whose_move=WhoseMove.PROVIDER,
            ) from error
        finally:
            conn.close()


class ManagedRedis:
    """The Redis rendered into the tenant's namespace; the console holds its password and address."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def ensure(self, binding: CacheBinding, *, reset_credentials: bool = False) -> None:
        binding.host = managed_host(binding)
        binding.port = MANAGED_PORT
        binding.tls = False
        binding.sentinel_master = ""
        if not binding.password:
            binding.password = generate_password()
        if binding.provisioned_at is None:
            binding.provisioned_at = timezone.now()

    def check(self, binding: CacheBinding) -> CheckResult:
        """The StatefulSet readiness the reconciler read: the console cannot reach into the cluster network."""
        note = "read from its StatefulSet; the console cannot reach into the cluster network to PING it"
        component = Component.objects.filter(
            registry_id=binding.registry_id, kind=ComponentKind.REDIS
        ).first()
        if not binding.password:
            return CheckResult(BindingStatus.UNKNOWN, "is not provisioned yet.")
        if component is None or component.observed_at is None:
            return CheckResult(
                BindingStatus.UNKNOWN,
                f"managed Redis is not observed yet: it is rolled out with the stack ({note}).",
                details={"source": "statefulset"},
            )
        details = {
            "source": "statefulset",
            "ready_replicas": component.ready_replicas,
            "desired_replicas": component.desired_replicas,
        }
        if component.available is None:
            return CheckResult(
                BindingStatus.UNKNOWN,
                f"managed Redis is not known: the cluster could not be read at the last look ({note}).",
                details=details,
            )
        if component.available:
            return CheckResult(
                BindingStatus.OK,
                f"managed Redis is ready ({component.ready_replicas}/{component.desired_replicas}, {note}).",
                details=details,
            )
        reason = f": {component.message}" if component.message else ""
        return CheckResult(
            BindingStatus.DEGRADED,
            f"managed Redis is not ready ({component.ready_replicas}/{component.desired_replicas}{reason}; {note}).",
            WhoseMove.TRANSIENT,
            details=details,
        )

    def rotate(self, binding: CacheBinding) -> None:
        """A new password for the rendered Redis, the previous one kept on ``previous_password``.

        Rendering lists both passwords on the Redis ACL line while the rotation is under way, so pods not yet
        rolled keep their cache; ``revoke_previous`` (once the rollout is Ready) drops the old one, and the reconcile
        that ``complete_rotations`` requests renders the configuration with the new password alone.
        """
        binding.previous_password, binding.password = binding.password, generate_password()

    def revoke_previous(self, binding: CacheBinding) -> None:
        binding.previous_password = ""

    def check_purge(self, binding: CacheBinding, force: bool = False) -> None:
        """Nothing to check: the managed Redis lives in the registry's own namespace."""

    def purge(self, binding: CacheBinding, force: bool = False) -> None:
        """Its data lives in the namespace's volume claim, which goes with the namespace; forget the password."""
        binding.password = binding.previous_password = ""
        binding.provisioned_at = None


def redis_provider(binding: CacheBinding, timeout: float) -> ProviderRedis | ManagedRedis:
    return ManagedRedis(timeout) if binding.mode == CacheMode.MANAGED else ProviderRedis(timeout)

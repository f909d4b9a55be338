"""Each tenant's PostgreSQL database and roles, made through the region's admin connection.

Roles, for a database ``D`` (names from the binding):

- ``owner_role`` (NOLOGIN) owns ``D``; nobody logs in as it.
- two login roles ``<owner>_a`` and ``<owner>_b``, members of the owner, each with ``SET role = <owner>`` so that
  whatever Harbor creates belongs to the owner, never to a login role. Harbor uses one of them (``username``).

Rotation therefore never changes a password under a running pod: it gives the *other* login role a fresh password
and points the binding at it, while the previous role keeps working for the pods not yet rolled. Once the rollout is
Ready, ``revoke_previous`` drops the previous role (it owns nothing, so nothing is lost).

Isolation: ``CONNECT`` and ``TEMPORARY`` on ``D`` are revoked from ``PUBLIC``, so only members of the owner reach it;
tenants' roles are members of their own owner only, and each login role may hold at most the plan's
``database_connection_limit`` connections. PostgreSQL still shows every role the names in its shared catalogs
(``pg_database``, ``pg_roles``, comments included) through any database the role may connect to, such as the
server's ``postgres`` database unless the provider revokes ``CONNECT`` on it from ``PUBLIC``: names only, no data.

Ownership: every role and the database carry a comment naming the console installation and the registry
(:mod:`provisioning.external.ownership`); anything of the same name without this registry's mark is refused, never
adopted, re-passworded or dropped. Roles are created together with their comment in one transaction; a database
(which cannot be created inside one) found unmarked but owned by the registry's marked owner role was made by an
interrupted run, and is marked then.

Every statement is composed with ``psycopg.sql`` (``Identifier``/``Literal``); passwords travel as SCRAM-SHA-256
verifiers computed here, so the plaintext never reaches the server's statement log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.utils import timezone
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from provisioning.choices import BindingStatus, WhoseMove
from provisioning.crypto import random_string
from provisioning.external.base import (
    CheckResult,
    DependencyMisconfigured,
    DependencyUnreachable,
    PurgeBlocked,
    RotationNotSupported,
    Stopwatch,
    short,
)
from provisioning.external.ownership import Owner, must_mark, parse_text, refuse_if_shared
from provisioning.models import DatabaseBinding

APPLICATION_NAME = "harbor-console"
PASSWORD_LENGTH = 32
SCRAM_ITERATIONS = 4096
MAX_IDENTIFIER = 63


def generate_password() -> str:
    return random_string(PASSWORD_LENGTH)


def scram_verifier(password: str, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 7677; as libpq's ``PQencryptPassword``)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def login_roles(owner: str) -> tuple[str, str]:
    """The two login roles that take turns across rotations."""
    stem = owner[: MAX_IDENTIFIER - 2]
    return f"{stem}_a", f"{stem}_b"


def other_login_role(binding: DatabaseBinding) -> str:
    first, second = login_roles(binding.owner_role)
    return second if binding.username == first else first


# What a failed connection says, matched on the server's message (libpq reports most of these without SQLSTATE).
_FAILURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("password authentication failed",), "password"),
    (('role "', "does not exist"), "role"),
    (('database "', "does not exist"), "database"),
    (("permission denied for database",), "connect"),
    (("not permitted to log in",), "login"),
    (("too many connections",), "busy"),
    (("remaining connection slots",), "busy"),
    (("no pg_hba.conf entry",), "hba"),
)


def reason(error: BaseException) -> str:
    """The server's or libpq's own words, without psycopg's "connection to server at … failed:" preamble."""
    text = short(error, limit=400)
    text = text.rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
    return (text[:1].lower() + text[1:])[:200] if text else type(error).__name__


def failure_kind(error: BaseException) -> str:
    text = str(error).lower()
    for words, kind in _FAILURES:
        if all(word in text for word in words):
            return kind
    return "unreachable"


_BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
NOT_A_URL = (
    "This is not a PostgreSQL URL: give postgres://ROLE:PASSWORD@HOST:5432/postgres for an administrator role of "
    "the region's PostgreSQL service."
)
ENCODE_PASSWORD = (
    "The role name or password in this URL holds a character that must be percent-encoded, or the URL's parts "
    "cannot be told apart: write @ as %40, / as %2F, ? as %3F, # as %23 and % as %25 (a : may stay)."
)
UNREADABLE = (
    "This URL cannot be read: check its form, postgres://ROLE:PASSWORD@HOST:5432/postgres, and percent-encode "
    "special characters of the password."
)


def url_shape_problem(url: str) -> str | None:
    """What keeps an admin URL from being read safely, in words that repeat no part of it; None when it reads well.

    A password holding ``@``, ``/``, ``?``, ``#`` or a bare ``%`` moves the URL's boundaries: drivers then take part
    of the password for the host, the port or the database, and print it in their errors. Such URLs are refused
    before anything connects with them.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in ("postgres", "postgresql"):
        return NOT_A_URL
    if "@" in rest:
        userinfo = rest.rsplit("@", 1)[0]
        if any(character in userinfo for character in "@/?#") or _BARE_PERCENT.search(userinfo):
            return ENCODE_PASSWORD
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return UNREADABLE
    if not params.get("host"):
        return NOT_A_URL
    if not str(params.get("port") or "5432").isdigit():
        return "The port in this URL is not a number: give HOST:5432."
    return None


def _without_password(message: str, url: str) -> str:
    """``message`` with the URL's password, raw or decoded, replaced by a mask (drivers may echo either); a password
    shorter than three characters is left, as masking it would garble every word."""
    secrets_in_url = {url.partition("://")[2].rpartition("@")[0].partition(":")[2]}
    try:
        secrets_in_url.add(str(conninfo_to_dict(url).get("password") or ""))
    except psycopg.ProgrammingError:
        pass
    for secret in sorted((s for s in secrets_in_url if len(s) >= 3), key=len, reverse=True):
        message = message.replace(secret, "••••••")
    return message


def connection_limit(binding: DatabaseBinding) -> int:
    """CONNECTION LIMIT of each login role: the registry's plan says."""
    return int(binding.registry.plan.database_connection_limit)


class PostgresProvider:
    """PostgreSQL through an admin URL (``postgres://admin:pw@host:5432/postgres``).

    Without an admin URL the console can only check credentials staff entered on the binding.
    """

    def __init__(self, admin_url: str, timeout: int) -> None:
        self.admin_url = admin_url
        self.timeout = timeout

    # -- connections -------------------------------------------------------------------------------------------

    def _admin_target(self) -> str:
        params = conninfo_to_dict(self.admin_url)
        return f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"

    @contextmanager
    def admin(self, dbname: str | None = None) -> Iterator[psycopg.Cursor[Any]]:
        """An autocommit cursor as the admin role (on ``dbname`` if given); connection failures become ours."""
        if not self.admin_url:
            raise DependencyMisconfigured(
                "has no PostgreSQL admin connection on this cluster: set the cluster's database admin URL (or "
                "SHARED_DATABASE_ADMIN_URL) so the console can create the tenant's database."
            )
        problem = url_shape_problem(self.admin_url)
        if problem:
            raise DependencyMisconfigured(
                f"admin URL of this cluster cannot be used. {problem} Correct the cluster's database admin URL."
            )
        extra: dict[str, Any] = {"dbname": dbname} if dbname else {}
        try:
            conn = psycopg.connect(
                self.admin_url,
                autocommit=True,
                connect_timeout=self.timeout,
                application_name=APPLICATION_NAME,
                **extra,
            )
        except psycopg.OperationalError as error:
            kind = failure_kind(error)
            where = self._admin_target()
            cause = _without_password(reason(error), self.admin_url)
            if kind in ("password", "role", "hba", "database"):
                raise DependencyMisconfigured(
                    f"admin connection to {where} is refused ({cause}): correct the cluster's database admin URL."
                ) from error
            raise DependencyUnreachable(
                f"unreachable: {cause} at {where}, through the console's admin connection."
            ) from error
        except psycopg.ProgrammingError as error:
            raise DependencyMisconfigured(
                f"admin URL of this cluster cannot be used. {UNREADABLE} Correct the cluster's database admin URL."
            ) from error
        try:
            with conn.cursor() as cur:
                yield cur
        except psycopg.errors.InsufficientPrivilege as error:
            raise DependencyMisconfigured(
                f"admin role may not provision ({short(error)}): "
                "it needs CREATEROLE and CREATEDB on the tenant's server."
            ) from error
        except psycopg.OperationalError as error:
            raise DependencyUnreachable(
                f"unreachable: {reason(error)} at {self._admin_target()}, while provisioning."
            ) from error
        finally:
            conn.close()

    # -- provisioning ------------------------------------------------------------------------------------------

    def _fill_names(self, binding: DatabaseBinding) -> None:
        if not binding.owner_role:
            binding.owner_role = binding.name
        if binding.username not in login_roles(binding.owner_role):
            binding.username = login_roles(binding.owner_role)[0]
        if self.admin_url and url_shape_problem(self.admin_url) is None:
            self._follow_admin_connection(binding)

    def _follow_admin_connection(self, binding: DatabaseBinding) -> None:
        """Point the binding at the server the admin connection reaches now.

        The tenant's database lives where the admin makes it, so host, port and sslmode are taken from the current
        admin URL on every pass: a URL corrected after a failed first attempt moves the binding with it.
        """
        params = conninfo_to_dict(self.admin_url)
        binding.host = str(params.get("host", "")) or "localhost"
        binding.port = int(params.get("port") or 5432)
        sslmode = params.get("sslmode")
        if sslmode in ("disable", "require", "verify-ca", "verify-full"):
            binding.sslmode = str(sslmode)

    @staticmethod
    def _where(binding: DatabaseBinding) -> str:
        return f"{binding.host}:{binding.port}"

    def ensure(self, binding: DatabaseBinding, *, reset_credentials: bool = False) -> None:
        """Owner role, login role, database, isolation: each made only if missing, so a broken run resumes.

        What exists must carry this registry's mark (or be vouched for by the binding, and is marked then). A login
        role that exists while the binding is not yet provisioned (a run that failed after creating it) gets the
        stored password again, as it does when ``reset_credentials`` asks for it.
        """
        if not self.admin_url and binding.password and binding.host:
            return  # credentials entered by staff: nothing the console can provision
        if not binding.name:
            raise DependencyMisconfigured("has no database name on its binding.")
        self._fill_names(binding)
        if not binding.password:
            binding.password = generate_password()
        owner, limit = Owner.of(binding), connection_limit(binding)
        with self.admin() as cur:
            self.ensure_owner_role(cur, binding)
            self.ensure_login_role(
                cur,
                binding,
                binding.username,
                binding.password,
                set_password=reset_credentials or binding.provisioned_at is None,
                limit=limit,
            )
            if binding.previous_username:
                self.ensure_login_role(
                    cur, binding, binding.previous_username, binding.previous_password, False, limit
                )
            self.ensure_database(cur, binding, owner)
            self.ensure_isolated(cur, binding.name)
        if binding.provisioned_at is None:
            binding.provisioned_at = timezone.now()

    @staticmethod
    def role_exists(cur: psycopg.Cursor[Any], role: str) -> bool:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        return cur.fetchone() is not None

    @staticmethod
    def role_mark(cur: psycopg.Cursor[Any], role: str) -> tuple[bool, Owner | None]:
        """(whether the role exists, the owner its comment names)."""
        cur.execute("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (role,))
        row = cur.fetchone()
        return (row is not None, parse_text(row[0]) if row else None)

    def _claim_role(
        self, cur: psycopg.Cursor[Any], binding: DatabaseBinding, role: str, create: sql.Composed
    ) -> bool:
        """Create ``role`` and its mark in one transaction, or check the existing one is this registry's.

        Returns True when the role was created now. An unmarked role the binding vouches for is marked.
        """
        owner = Owner.of(binding)
        mark = sql.SQL("COMMENT ON ROLE {} IS {}").format(sql.Identifier(role), sql.Literal(owner.text))
        exists, found = self.role_mark(cur, role)
        if not exists:
            with cur.connection.transaction():
                cur.execute(create)
                cur.execute(mark)
            return True
        vouched = binding.provisioned_at is not None
        if must_mark(f"role {role}", self._where(binding), found, owner, vouched=vouched):
            cur.execute(mark)
        return False

    def ensure_owner_role(self, cur: psycopg.Cursor[Any], binding: DatabaseBinding) -> None:
        role = binding.owner_role
        self._claim_role(cur, binding, role, sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        cur.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,))
        row = cur.fetchone()
        if not (row and row[0]):
            # CREATE DATABASE ... OWNER needs the admin to be a member of the owner (superusers always are).
            cur.execute(sql.SQL("GRANT {} TO current_user").format(sql.Identifier(role)))

    def ensure_login_role(
        self,
        cur: psycopg.Cursor[Any],
        binding: DatabaseBinding,
        role: str,
        password: str,
        set_password: bool,
        limit: int,
    ) -> None:
        owner = binding.owner_role
        verifier = sql.Literal(scram_verifier(password))
        create = sql.SQL("CREATE ROLE {} LOGIN INHERIT CONNECTION LIMIT {} PASSWORD {} IN ROLE {}").format(
            sql.Identifier(role), sql.Literal(limit), verifier, sql.Identifier(owner)
        )
        if self._claim_role(cur, binding, role, create):
            acts_as_owner = False
        else:
            cur.execute(
                "SELECT rolcanlogin, rolinherit, pg_has_role(rolname, %s, 'MEMBER'), rolconfig, rolconnlimit "
                "FROM pg_roles WHERE rolname = %s",
                (owner, role),
            )
            row = cur.fetchone()
            assert row is not None
            can_login, inherit, member, config, current_limit = row
            if not can_login or not inherit:
                cur.execute(sql.SQL("ALTER ROLE {} LOGIN INHERIT").format(sql.Identifier(role)))
            if current_limit != limit:
                cur.execute(
                    sql.SQL("ALTER ROLE {} CONNECTION LIMIT {}").format(
                        sql.Identifier(role), sql.Literal(limit)
                    )
                )
            if not member:
                cur.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(owner), sql.Identifier(role)))
            if set_password:
                cur.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), verifier))
            acts_as_owner = f"role={owner}" in (config or [])
        if not acts_as_owner:
            cur.execute(
                sql.SQL("ALTER ROLE {} SET role = {}").format(sql.Identifier(role), sql.Literal(owner))
            )

    @staticmethod
    def database_state(cur: psycopg.Cursor[Any], name: str) -> tuple[int, str, Owner | None] | None:
        """(oid, owning role, the owner its comment names) of database ``name``; None when there is none."""
        cur.execute(
            "SELECT oid, pg_get_userbyid(datdba), shobj_description(oid, 'pg_database') "
            "FROM pg_database WHERE datname = %s",
            (name,),
        )
        row = cur.fetchone()
        return (int(row[0]), str(row[1]), parse_text(row[2])) if row else None

    def _check_database_owned(
        self, binding: DatabaseBinding, state: tuple[int, str, Owner | None], owner: Owner
    ) -> bool:
        """Whether the existing database still needs its mark; NotOwned when it is not this registry's.

        An unmarked database owned by the registry's (marked) owner role was made by an interrupted run.
        """
        _oid, owning_role, found = state
        vouched = binding.provisioned_at is not None or owning_role == binding.owner_role
        needs_mark = must_mark(
            f"database {binding.name}", self._where(binding), found, owner, vouched=vouched
        )
        if owning_role != binding.owner_role:
            raise DependencyMisconfigured(
                f"{binding.name} exists on {self._where(binding)} but belongs to role {owning_role}, not "
                f"{binding.owner_role}: ownership was changed outside the console; give it back "
                f"(ALTER DATABASE {binding.name} OWNER TO {binding.owner_role})."
            )
        return needs_mark

    def ensure_database(self, cur: psycopg.Cursor[Any], binding: DatabaseBinding, owner: Owner) -> None:
        mark = sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(binding.name), sql.Literal(owner.text)
        )
        state = self.database_state(cur, binding.name)
        if state is None:
            if binding.provisioned_at is not None:
                raise DependencyMisconfigured(
                    f"{binding.name} has disappeared from {self._where(binding)} (it was created on "
                    f"{binding.provisioned_at:%Y-%m-%d}): restore it from the provider's backups; the console "
                    "does not recreate it empty on its own."
                )
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(binding.name), sql.Identifier(binding.owner_role)
                )
            )
            cur.execute(mark)
        elif self._check_database_owned(binding, state, owner):
            cur.execute(mark)

    @staticmethod
    def ensure_isolated(cur: psycopg.Cursor[Any], dbname: str) -> None:
        cur.execute(
            "SELECT has_database_privilege('public', %s, 'CONNECT') "
            "OR has_database_privilege('public', %s, 'TEMPORARY')",
            (dbname, dbname),
        )
        row = cur.fetchone()
        if row and row[0]:
            cur.execute(
                sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(dbname))
            )

    # -- checking ----------------------------------------------------------------------------------------------

    def check(self, binding: DatabaseBinding) -> CheckResult:
        """Connect as the tenant's login role to its database, run a query; latency and server version."""
        if not (binding.host and binding.username and binding.password):
            return CheckResult(BindingStatus.UNKNOWN, "is not provisioned yet.")
        where = f"{binding.host}:{binding.port}"
        clock = Stopwatch()
        try:
            with psycopg.connect(
                host=binding.host,
                port=binding.port,
                dbname=binding.name,
                user=binding.username,
                password=binding.password,
                sslmode=binding.sslmode,
                connect_timeout=self.timeout,
                application_name=APPLICATION_NAME,
            ) as conn:
                row = conn.execute(
                    "SELECT current_setting('server_version'), current_user, current_database()"
                ).fetchone()
        except psycopg.OperationalError as error:
            return self._failed_check(binding, error, clock.ms)
        assert row is not None
        full_version, current_user, database = row
        version = str(full_version).split()[0]
        binding.server_version = version
        details = {"server_version": version, "role": binding.username, "database": database}
        if current_user != binding.owner_role and binding.owner_role:
            return CheckResult(
                BindingStatus.MISCONFIGURED,
                f"role {binding.username} does not act as {binding.owner_role} on login: tables Harbor creates "
                "would belong to the login role; the console resets it.",
                WhoseMove.TRANSIENT if self.admin_url else WhoseMove.PROVIDER,
                clock.ms,
                details,
                repairable=bool(self.admin_url),
            )
        return CheckResult(
            BindingStatus.OK,
            f"reachable at {where} as {binding.username} (PostgreSQL {version}).",
            WhoseMove.NONE,
            clock.ms,
            details,
        )

    def _failed_check(self, binding: DatabaseBinding, error: BaseException, latency: float) -> CheckResult:
        where = f"{binding.host}:{binding.port}"
        kind = failure_kind(error)
        can_repair = bool(self.admin_url)
        repair_move = WhoseMove.TRANSIENT if can_repair else WhoseMove.PROVIDER
        repair_note = (
            "the console resets it on the next reconcile."
            if can_repair
            else "enter the current credentials on the binding."
        )
        if kind == "password":
            message = (
                f"refuses the stored password of role {binding.username} at {where} "
                f"(changed outside the console?): {repair_note}"
            )
        elif kind == "role":
            message = f"role {binding.username} no longer exists at {where}: {repair_note}"
        elif kind in ("connect", "login"):
            message = (
                f"role {binding.username} may no longer connect to {binding.name} at {where}: {repair_note}"
            )
        elif kind == "database":
            return CheckResult(
                BindingStatus.MISCONFIGURED,
                f"{binding.name} does not exist at {where}: restore it from the provider's backups.",
                WhoseMove.PROVIDER,
                latency,
            )
        elif kind == "busy":
            return CheckResult(
                BindingStatus.DEGRADED,
                f"at {where} has no connection slot left ({reason(error)}).",
                WhoseMove.PROVIDER,
                latency,
            )
        elif kind == "hba":
            return CheckResult(
                BindingStatus.MISCONFIGURED,
                f"at {where} does not accept connections from the console ({reason(error)}): "
                "allow it in the server's pg_hba.conf.",
                WhoseMove.PROVIDER,
                latency,
            )
        else:
            return CheckResult(
                BindingStatus.UNREACHABLE,
                f"unreachable: {reason(error)} at {where}.",
                WhoseMove.PROVIDER,
                latency,
            )
        return CheckResult(BindingStatus.MISCONFIGURED, message, repair_move, latency, repairable=can_repair)

    # -- rotation ----------------------------------------------------------------------------------------------

    def rotate(self, binding: DatabaseBinding) -> None:
        """Give the other login role a fresh password and switch the binding to it; the current role stays."""
        if not self.admin_url:
            raise RotationNotSupported(
                "the console has no admin connection to this PostgreSQL, so it cannot rotate the password: "
                "set the cluster's database admin URL, or rotate at the provider and enter the new credentials."
            )
        self._fill_names(binding)
        new_role, new_password = other_login_role(binding), generate_password()
        with self.admin() as cur:
            self.ensure_login_role(
                cur, binding, new_role, new_password, set_password=True, limit=connection_limit(binding)
            )
        binding.previous_username, binding.previous_password = binding.username, binding.password
        binding.username, binding.password = new_role, new_password

    def revoke_previous(self, binding: DatabaseBinding) -> None:
        """Drop the previous login role (its sessions are ended first when the admin may end them)."""
        previous = binding.previous_username
        if previous and previous != binding.username:
            with self.admin() as cur:
                self.drop_login_role(cur, previous, binding)
        binding.previous_username = ""
        binding.previous_password = ""

    def _require_owned_role(self, cur: psycopg.Cursor[Any], binding: DatabaseBinding, role: str) -> bool:
        """Whether ``role`` exists; NotOwned when it carries no mark of this registry the binding can vouch for."""
        exists, found = self.role_mark(cur, role)
        if exists:
            vouched = binding.provisioned_at is not None
            must_mark(f"role {role}", self._where(binding), found, Owner.of(binding), vouched=vouched)
        return exists

    def drop_login_role(self, cur: psycopg.Cursor[Any], role: str, binding: DatabaseBinding) -> None:
        if not self._require_owned_role(cur, binding, role):
            return
        try:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
        except psycopg.errors.InsufficientPrivilege:
            pass  # its sessions end with their pods; the role can be dropped regardless
        try:
            cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
        except psycopg.errors.DependentObjectsStillExist:
            # Something was created without the owner role (a session that ran RESET ROLE): hand it over.
            with self.admin(binding.name) as db_cur:
                db_cur.execute(
                    sql.SQL("REASSIGN OWNED BY {} TO {}").format(
                        sql.Identifier(role), sql.Identifier(binding.owner_role)
                    )
                )
                db_cur.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

    # -- purge -------------------------------------------------------------------------------------------------

    @staticmethod
    def _roles(binding: DatabaseBinding) -> list[str]:
        """Every role of the binding, owner last (it is dropped after its members)."""
        logins = (*login_roles(binding.owner_role), binding.previous_username, binding.username)
        return [*dict.fromkeys(role for role in logins if role), binding.owner_role]

    def check_purge(self, binding: DatabaseBinding, force: bool = False) -> None:
        """Raise the first precondition of a purge that fails; change nothing."""
        if not self.admin_url and binding.provisioned_at is None:
            return
        self._require_admin_for_purge(binding)
        self._fill_names(binding)
        with self.admin() as cur:
            self._purge_refusal(cur, binding)

    def _require_admin_for_purge(self, binding: DatabaseBinding) -> None:
        if not self.admin_url:
            raise DependencyMisconfigured(
                f"the console has no admin connection to drop database {binding.name}: set the cluster's "
                "database admin URL, or drop it at the provider."
            )

    def _purge_refusal(self, cur: psycopg.Cursor[Any], binding: DatabaseBinding) -> None:
        """Raise when the database or a role is not this registry's, or when anything else still uses them."""
        where, owner = self._where(binding), Owner.of(binding)
        refuse_if_shared(
            binding,
            f"database {binding.name} at {where}",
            host=binding.host,
            port=binding.port,
            name=binding.name,
        )
        roles = [role for role in self._roles(binding) if self._require_owned_role(cur, binding, role)]
        state = self.database_state(cur, binding.name)
        database_oid = None
        if state is not None:
            self._check_database_owned(binding, state, owner)
            database_oid = state[0]
            cur.execute(
                "SELECT DISTINCT usename FROM pg_stat_activity WHERE datid = %s AND usename IS NOT NULL "
                "AND usename <> ALL(%s) AND pid <> pg_backend_pid() ORDER BY 1",
                (database_oid, roles),
            )
            others = [row[0] for row in cur.fetchall()]
            if others:
                raise PurgeBlocked(
                    f"database {binding.name} at {where} has open sessions of {', '.join(others)}, which "
                    "are not this registry's roles: wait until they end (a backup?) or end them, then purge again.",
                    whose_move=WhoseMove.PROVIDER,
                )
        cur.execute(
            "SELECT DISTINCT coalesce(d.datname, 'the server itself') FROM pg_shdepend s "
            "LEFT JOIN pg_database d ON d.oid = s.dbid "
            "WHERE s.refclassid = 'pg_authid'::regclass "
            "AND s.refobjid IN (SELECT oid FROM pg_roles WHERE rolname = ANY(%(roles)s)) "
            "AND s.dbid IS DISTINCT FROM %(db)s "
            "AND NOT (s.dbid = 0 AND s.classid = 'pg_database'::regclass AND s.objid IS NOT DISTINCT FROM %(db)s) "
            "ORDER BY 1",
            {"roles": roles, "db": database_oid},
        )
        elsewhere = [row[0] for row in cur.fetchall()]
        if elsewhere:
            raise PurgeBlocked(
                f"roles of database {binding.name} at {where} own or hold privileges on objects in "
                f"{', '.join(elsewhere)}, outside this registry's database: move or revoke those first "
                "(REASSIGN OWNED / REVOKE there), then purge again.",
                whose_move=WhoseMove.PROVIDER,
            )
        cur.execute(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
            "JOIN pg_roles o ON o.oid = m.roleid WHERE o.rolname = %s AND r.rolname <> ALL(%s) "
            "AND NOT (r.rolsuper OR r.rolcreaterole) ORDER BY 1",
            (binding.owner_role, roles),
        )
        members = [row[0] for row in cur.fetchall()]
        if members:
            raise PurgeBlocked(
                f"role {binding.owner_role} at {where} was granted to {', '.join(members)}, which are not this "
                "registry's: revoke it from them first, then purge again.",
                whose_move=WhoseMove.PROVIDER,
            )

    def purge(self, binding: DatabaseBinding, force: bool = False) -> None:
        """Drop the database (open sessions are ended), both login roles and the owner role, once every
        precondition holds again on the same connection."""
        if not self.admin_url and binding.provisioned_at is None:
            return  # without an admin connection the console never created anything
        self._require_admin_for_purge(binding)
        self._fill_names(binding)
        with self.admin() as cur:
            self._purge_refusal(cur, binding)
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(binding.name))
            )
            for role in self._roles(binding):
                if self.role_exists(cur, role):
                    cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
        binding.password = binding.previous_password = binding.previous_username = ""
        binding.provisioned_at = None


def admin_url_problem(url: str, timeout: int) -> str | None:
    """What is wrong with an admin URL, as a sentence that never repeats any part of its password; None when it
    works.

    The URL must read unambiguously, reach the server, log in, and belong to a role that may create roles and
    databases.
    """
    problem = url_shape_problem(url)
    if problem:
        return problem
    params = conninfo_to_dict(url)
    where = f"{params['host']}:{params.get('port') or 5432}"
    role = str(params.get("user") or "?")
    try:
        with psycopg.connect(url, connect_timeout=timeout, application_name=APPLICATION_NAME) as conn:
            row = conn.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.OperationalError as error:
        return _without_password(_refusal(error, where, role), url)
    except psycopg.Error as error:
        return _without_password(f"PostgreSQL at {where} refused the connection ({reason(error)}).", url)
    superuser, create_role, create_db = row if row else (False, False, False)
    if not superuser and not (create_role and create_db):
        missing = " and ".join(
            p for p, ok in (("CREATEROLE", create_role), ("CREATEDB", create_db)) if not ok
        )
        return (
            f"Role {role} at {where} may not create tenants' roles and databases: grant it {missing} "
            f"(ALTER ROLE {role} {missing.replace(' and ', ' ')}), or use another administrator role."
        )
    return None


def _refusal(error: psycopg.OperationalError, where: str, role: str) -> str:
    kind = failure_kind(error)
    if kind in ("password", "role"):
        return (
            f"PostgreSQL at {where} refused the login of role {role} ({reason(error)}): correct the role name "
            "or the password."
        )
    if kind == "database":
        return f"PostgreSQL at {where} has no such database ({reason(error)}): end the URL with /postgres."
    if kind == "hba":
        return (
            f"PostgreSQL at {where} does not accept the console ({reason(error)}): allow it in pg_hba.conf."
        )
    return (
        f"PostgreSQL at {where} does not answer ({reason(error)}): check the host and port, and that the "
        "console's network may reach it."
    )

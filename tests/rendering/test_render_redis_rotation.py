"""Managed Redis during a rotation: both password hashes on the ACL line, the new one alone afterwards."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

from provisioning.rendering import render_stack
from provisioning.rendering.redis import redis_conf
from tests.rendering.specs import MANAGED_CACHE, build_spec

NEW, OLD = "New-Redis-Pass-2", "Old-Redis-Pass-1"


def acl_line(conf: str) -> str:
    return next(line for line in conf.splitlines() if line.startswith("user ") and " on " in line)


def sha(password: str) -> str:
    return "#" + hashlib.sha256(password.encode()).hexdigest()


def test_both_passwords_are_accepted_while_a_rotation_is_under_way() -> None:
    spec = build_spec(cache=replace(MANAGED_CACHE, password=NEW, previous_password=OLD))
    line = acl_line(redis_conf(spec))
    assert line == f"user default on {sha(NEW)} {sha(OLD)} ~* &* +@all"


def test_an_acl_user_holds_both_passwords_and_the_default_user_stays_off() -> None:
    spec = build_spec(
        harbor_version="2.15.2",
        cache=replace(MANAGED_CACHE, password=NEW, previous_password=OLD, username="harbor"),
    )
    conf = redis_conf(spec)
    assert "user default off" in conf.splitlines()
    assert acl_line(conf) == f"user harbor on {sha(NEW)} {sha(OLD)} ~* &* +@all"


def test_without_a_rotation_or_with_the_same_password_one_hash_is_listed() -> None:
    for previous in ("", NEW):
        spec = build_spec(cache=replace(MANAGED_CACHE, password=NEW, previous_password=previous))
        assert acl_line(redis_conf(spec)) == f"user default on {sha(NEW)} ~* &* +@all"


def test_neither_password_appears_in_the_rendered_stack() -> None:
    spec = build_spec(cache=replace(MANAGED_CACHE, password=NEW, previous_password=OLD))
    objects = render_stack(spec)
    redis_secret = next(
        o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "harbor-redis"
    )
    conf = base64.b64decode(redis_secret["data"]["redis.conf"]).decode()
    assert OLD not in conf and NEW not in conf
    assert all(OLD not in str(obj) for obj in objects), "the previous password reaches no client"


def test_finishing_the_rotation_restarts_redis_without_the_old_password() -> None:
    during = render_stack(build_spec(cache=replace(MANAGED_CACHE, password=NEW, previous_password=OLD)))
    after = render_stack(build_spec(cache=replace(MANAGED_CACHE, password=NEW)))

    def checksum(objects):
        redis = next(
            o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "harbor-redis"
        )
        return redis["spec"]["template"]["metadata"].get("annotations")

    assert checksum(during) != checksum(after)

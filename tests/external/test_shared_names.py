"""Names of a registry's share of the shared services and of its namespace: unique, within limits, readable.

Invariants over the whole range of inputs (installation ids, registry ids, tenant slugs and registry names of every
allowed length and shape), pure and fast. The clash on real services is in ``test_shared_service_clash``.
"""

from __future__ import annotations

import itertools
import re

from provisioning.external.postgres import login_roles
from provisioning.naming import namespace_name, service_names
from provisioning.validators import validate_dns_label

INSTALLATIONS = ("abcd", "z0123456789a")
REGISTRY_IDS = (1, 9, 10, 12, 123, 2**31 - 1)
SLUGS = ("a", "a-b", "b", "b-c", "c", "t" * 30, "x-" * 14 + "yz", "a" * 29 + "b")
NAMES = ("a", "b", "c", "b-c", "reg-1", "r" * 30, "n-" * 14 + "zz", "r" * 29 + "s", "s3alias", "q--x-s3")

S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
IAM_USER = re.compile(r"^[\w+=,.@-]{1,64}$")


def all_names():
    for installation, registry_id, slug, name in itertools.product(INSTALLATIONS, REGISTRY_IDS, SLUGS, NAMES):
        yield (installation, registry_id, slug, name), service_names(installation, registry_id, slug, name)


def test_every_name_fits_its_service_and_carries_the_installation_and_registry():
    for (installation, registry_id, _slug, _name), names in all_names():
        assert len(names.database.encode()) <= 63 and names.owner_role == names.database
        for role in (names.owner_role, *login_roles(names.owner_role)):
            assert len(role.encode()) <= 63 and re.fullmatch(r"[a-z0-9_]+", role), role
        assert login_roles(names.owner_role)[0].startswith(names.owner_role), "login roles are never cut"
        assert S3_BUCKET.match(names.bucket), names.bucket
        assert not names.bucket.startswith(("xn--", "sthree-"))
        assert not names.bucket.endswith(("-s3alias", "--ol-s3", "--x-s3", "--table-s3"))
        assert IAM_USER.match(names.iam_user), names.iam_user
        for name in (names.database, names.bucket, names.iam_user):
            assert installation in name and str(registry_id) in name


def test_no_two_registries_share_a_name_whatever_their_tenant_and_name():
    seen: dict[str, dict[str, tuple]] = {"database": {}, "bucket": {}, "iam_user": {}}
    for key, names in all_names():
        owner = key[:2]
        for kind in seen:
            value = getattr(names, kind)
            assert seen[kind].setdefault(value, owner) == owner, (
                f"{kind} {value} of {owner} and {seen[kind][value]}"
            )


def test_the_issues_pair_gets_different_names_that_support_staff_can_read():
    first = service_names("abcd", 7, "a-b", "c")
    second = service_names("abcd", 8, "a", "b-c")

    assert first.database != second.database and first.bucket != second.bucket
    assert first.database == "hc_abcd_7_a_b_c" and second.bucket == "hc-abcd-8-a-b-c"


def test_a_long_tenant_and_name_keep_the_unique_part_and_lose_only_readable_characters():
    names = service_names("z0123456789a", 2**31 - 1, "t" * 30, "r" * 30)

    assert names.database.startswith(f"hc_z0123456789a_{2**31 - 1}_tttt")
    assert names.bucket.startswith(f"hc-z0123456789a-{2**31 - 1}-tttt")


# -- namespaces ------------------------------------------------------------------------------------------------


def test_a_namespace_is_harbor_tenant_name_whenever_that_fits():
    for slug, name in itertools.product(SLUGS, NAMES):
        wanted = f"harbor-{slug}-{name}"
        if len(wanted) <= 63:
            assert namespace_name(slug, name) == wanted


def test_a_namespace_that_does_not_fit_keeps_a_readable_prefix_and_a_stable_hash_and_never_collides():
    """Only names that are written out in full can meet (``a-b``/``c`` and ``a``/``b-c``): that clash is refused
    on the registry's name field; a shortened one never meets another."""
    seen: dict[str, tuple[str, str]] = {}
    slugs = (*SLUGS, "q" * 30, "q" * 29 + "r")
    names = (*NAMES, "m" * 30, "m" * 29 + "n")
    for slug, name in itertools.product(slugs, names):
        namespace = namespace_name(slug, name)
        validate_dns_label(namespace)
        assert namespace.startswith(f"harbor-{slug[:8]}")
        assert namespace_name(slug, name) == namespace, "stable"
        other = seen.setdefault(namespace, (slug, name))
        if other != (slug, name):
            assert namespace == f"harbor-{slug}-{name}" == "harbor-{}-{}".format(*other)

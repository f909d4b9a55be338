"""A PostgreSQL admin URL's errors never show any part of its password, whatever characters it holds (issue #11, 9).

A password with ``/``, ``@``, ``?``, ``#`` or a bare ``%`` written into the URL unencoded moves the URL's
boundaries: drivers take part of it for the host, port or database and print it. Such a URL is refused with a
sentence saying how to encode it, on cluster save (service, UI, API) and when a reconcile uses it; a correctly
encoded one works.
"""

from __future__ import annotations

import itertools
import re
from urllib.parse import quote

import psycopg
import pytest
from django.core.exceptions import ValidationError
from psycopg import sql
from rest_framework.test import APIClient

from provisioning.choices import Via
from provisioning.external import prepare_dependencies
from provisioning.external.postgres import admin_url_problem
from provisioning.models import Cluster
from provisioning.services.clusters import save_cluster
from tests import factories
from tests.external.conftest import fresh, registry_with

pytestmark = pytest.mark.django_db

FRAGMENTS = ("Qx7", "Zk9", "Vw3", "Jm5")
"""Pieces of the password between its special characters: none may appear in any message."""
SPECIALS = ("/", "@", ":", "%", "?", "#")
HOSTS = ("127.0.0.1:1", "127.0.0.1:5432")
API_URL = "http://127.0.0.1:1"
"""A Kubernetes API URL that refuses at once: saving a cluster never sends traffic off the machine."""


def passwords() -> list[str]:
    """Every special character alone and in pairs, between distinctive fragments."""
    found = [f"{FRAGMENTS[0]}{c}{FRAGMENTS[1]}" for c in SPECIALS]
    found += [
        f"{FRAGMENTS[0]}{a}{FRAGMENTS[1]}{b}{FRAGMENTS[2]}" for a, b in itertools.permutations(SPECIALS, 2)
    ]
    found.append(f"{FRAGMENTS[3]}%2{FRAGMENTS[0]}")  # a % that looks half-encoded
    return found


def leaks(message: str, password: str) -> list[str]:
    pieces = [piece for piece in re.split(r"[/@:%?#]", password) if len(piece) >= 3] + [password]
    return [piece for piece in pieces if piece in message]


@pytest.mark.parametrize("host", HOSTS)
def test_no_error_shows_any_part_of_an_unencoded_password(host):
    for password in passwords():
        url = f"postgres://admin:{password}@{host}/postgres"
        problem = admin_url_problem(url, timeout=2)
        assert problem, url
        assert not leaks(problem, password), (url, problem)


def test_an_unencoded_password_is_told_how_to_encode_itself():
    problem = admin_url_problem("postgres://admin:Qx7/Zk9@127.0.0.1:5432/postgres", timeout=2)

    assert problem is not None and "must be percent-encoded" in problem and "/ as %2F" in problem


def test_an_encoded_password_with_every_special_character_works(db, password_postgres_admin_url):
    password = "Qx7/Zk9@Vw3:Jm5%Qx7?Zk9#Vw3"
    role = f"hc_t{factories.RUN}_special"
    with psycopg.connect(password_postgres_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    where = password_postgres_admin_url.split("@", 1)[1]

    assert admin_url_problem(f"postgres://{role}:{quote(password, safe='')}@{where}", timeout=3) is None

    wrong = admin_url_problem(f"postgres://{role}:{quote(password + 'x', safe='')}@{where}", timeout=3)
    assert wrong is not None and "refused the login" in wrong and not leaks(wrong, password)


def test_saving_a_cluster_through_the_ui_and_the_api_never_shows_the_password(admin_user, client):
    password = "Qx7@Zk9/Vw3"
    url = f"postgres://admin:{password}@127.0.0.1:1/postgres"
    cluster = Cluster(name=f"c{factories.RUN}-u", api_url=API_URL, database_admin_url=url)
    with pytest.raises(ValidationError) as refused:
        save_cluster(cluster, actor=admin_user, via=Via.UI)
    assert not leaks(str(refused.value.message_dict), password)

    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post(
        "/api/v1/clusters/",
        {"name": f"c{factories.RUN}-a", "api_url": API_URL, "database_admin_url": url},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "database_admin_url" in response.json()["error"]["fields"]
    assert not leaks(response.content.decode(), password)

    client.force_login(admin_user)
    form = {
        "name": f"c{factories.RUN}-w",
        "region": "eu",
        "api_url": API_URL,
        "capacity": 100,
        "queue": "edge",
        "ingress_class": "nginx",
        "ingress_namespace": "ingress-nginx",
        "monitoring_namespace": "monitoring",
        "cert_issuer": "letsencrypt",
        "node_selector": "{}",
        "tolerations": "[]",
        "egress_cidrs": "[]",
        "database_admin_url": url,
    }
    page = client.post("/clusters/new/", form)
    assert page.status_code == 400
    assert "must be percent-encoded" in page.content.decode()
    assert not leaks(page.content.decode(), password)


def test_a_reconcile_with_an_unencoded_password_says_so_without_showing_it():
    password = "Qx7/Zk9@Vw3"
    registry = registry_with(database_admin_url=f"postgres://admin:{password}@127.0.0.1:5432/postgres")

    report = prepare_dependencies(registry)

    binding = fresh(registry.database)
    assert "must be percent-encoded" in binding.status_message
    assert not leaks(binding.status_message + report.message + binding.host + str(binding.port), password)

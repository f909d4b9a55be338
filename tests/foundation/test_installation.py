"""The installation id: chosen once, the same on every read, shown to users and to automation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from provisioning.models import Installation, installation_id
from provisioning.models.installation import INSTALLATION_ID_PATTERN, new_installation_id

pytestmark = pytest.mark.django_db


def test_the_id_is_stable_and_well_formed():
    first = installation_id()
    assert INSTALLATION_ID_PATTERN.match(first)
    assert Installation.current().uid == first
    assert Installation.objects.count() == 1


def test_a_database_without_its_row_gets_one_again_with_the_configured_id(settings):
    Installation.objects.all().delete()
    settings.INSTALLATION_ID = "abc123"
    assert Installation.current().uid == "abc123"


@override_settings(INSTALLATION_ID="")
def test_without_configuration_the_id_is_random():
    ids = {new_installation_id() for _ in range(20)}
    assert len(ids) == 20 and all(INSTALLATION_ID_PATTERN.match(value) for value in ids)


@pytest.mark.parametrize("bad", ["ABC1", "1abc", "ab", "abc_def", "a" * 13])
def test_a_malformed_configured_id_stops_with_its_name(settings, bad):
    settings.INSTALLATION_ID = bad
    with pytest.raises(ImproperlyConfigured, match="INSTALLATION_ID"):
        new_installation_id()


def test_the_api_root_and_every_page_name_the_installation(client, viewer):
    client.force_login(viewer)
    root = client.get("/api/v1/").json()
    assert root["installation"] == installation_id()
    assert "registries" in root["collections"]
    page = client.get("/tenants/").content.decode()
    assert '<code title="Marks every object this console owns' in page and installation_id() in page

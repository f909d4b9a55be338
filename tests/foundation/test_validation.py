"""Invalid input is refused with a message naming the field, and nothing stored changes."""

import pytest
from django.core.exceptions import ValidationError

from provisioning.choices import Via
from provisioning.models import Registry
from provisioning.services import registries
from provisioning.services.errors import ActionRefused
from tests import factories

pytestmark = pytest.mark.django_db


def create(**fields):
    return factories.registry(**fields)


@pytest.mark.parametrize(
    "hostname", ["not a host", "https://x.example.com", "UPPER..example", "nodot", "a.b:443"]
)
def test_bad_hostname_is_refused(hostname):
    with pytest.raises(ValidationError) as err:
        create(hostname=hostname)
    assert "hostname" in err.value.message_dict
    assert "not a valid host name" in err.value.message_dict["hostname"][0]
    assert Registry.objects.count() == 0


def test_duplicate_hostname_is_refused_and_first_registry_unchanged():
    first = create(hostname="dup.example.com")
    with pytest.raises(ValidationError) as err:
        create(hostname="dup.example.com")
    assert "hostname" in err.value.message_dict
    assert Registry.objects.count() == 1
    first.refresh_from_db()
    assert first.hostname == "dup.example.com"


def test_unknown_harbor_version_is_refused():
    with pytest.raises(ValidationError) as err:
        create(harbor_version="2.9.0")
    assert "not supported" in err.value.message_dict["harbor_version"][0]
    assert "2.15.2" in err.value.message_dict["harbor_version"][0]


def test_quota_above_plan_is_refused_on_update_and_nothing_changes():
    registry = create(plan=factories.plan("s"))
    before = Registry.objects.get(pk=registry.pk).spec_snapshot()
    with pytest.raises(ValidationError) as err:
        registries.update_registry(registry, {"storage_quota_gib": 999}, actor=None, via=Via.SYSTEM)
    assert "storage_quota_gib" in err.value.message_dict
    assert "limit of 200 GiB" in err.value.message_dict["storage_quota_gib"][0]
    assert Registry.objects.get(pk=registry.pk).spec_snapshot() == before


def test_bad_name_is_refused():
    with pytest.raises(ValidationError) as err:
        create(name="Bad_Name")
    assert "name" in err.value.message_dict


def test_downgrade_is_refused_with_reason():
    registry = create(harbor_version="2.15.2")
    with pytest.raises(ActionRefused) as err:
        registries.upgrade(registry, "2.14.4", actor=None, via=Via.SYSTEM)
    assert "cannot be downgraded" in err.value.message
    registry.refresh_from_db()
    assert registry.harbor_version == "2.15.2"


def test_effective_settings_resolve_overrides_over_plan():
    registry = create(plan=factories.plan("m"), storage_quota_gib=700, trivy_enabled=False)
    eff = registry.effective()
    assert eff.storage_quota_gib == 700
    assert eff.trivy_enabled is False
    assert eff.replicas == registry.plan.replicas

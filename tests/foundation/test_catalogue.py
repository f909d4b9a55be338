"""Which Harbor versions are offered and which upgrade paths are allowed."""

from provisioning import catalogue


def test_supported_versions_cover_the_three_maintained_minors():
    assert {v.rsplit(".", 1)[0] for v in catalogue.SUPPORTED_VERSIONS} == {"2.13", "2.14", "2.15"}
    assert catalogue.DEFAULT_VERSION == "2.15.2"


def test_upgrade_paths():
    assert catalogue.upgrade_refusal("2.14.0", "2.14.4") is None
    assert catalogue.upgrade_refusal("2.13.5", "2.15.2") is None
    assert "downgraded" in (catalogue.upgrade_refusal("2.15.0", "2.14.4") or "")
    assert "already runs" in (catalogue.upgrade_refusal("2.14.4", "2.14.4") or "")
    assert "not supported" in (catalogue.upgrade_refusal("2.14.4", "2.16.0") or "")
    assert catalogue.upgrade_targets("2.15.2") == []
    assert catalogue.upgrade_targets("2.15.0") == ["2.15.2", "2.15.1"]

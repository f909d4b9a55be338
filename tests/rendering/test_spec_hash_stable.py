"""The spec hash is the canonical JSON of the rendered object (no YAML round trip), and it must not change between
console releases by accident: every live object carries it, and a new hash would rewrite every converged stack of
the fleet on the first sweep after an upgrade (issue #15)."""

from __future__ import annotations

import json

from provisioning.reconcile.compare import SPEC_HASH_ANNOTATION, spec_hash, with_spec_hash
from provisioning.rendering import render_stack
from tests.rendering.specs import build_spec

PINNED = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "reg-core", "namespace": "harbor-x", "labels": {"app": "harbor"}},
    "data": {"config.yml": "a: 1\nb: é\n", "n": "0.5"},
}
PINNED_HASH = "366d7f8c7ecc9ec72894002c1740a81977de32703665693ac4270ba60f34ad7d"


def test_the_hash_of_a_manifest_is_the_one_earlier_releases_wrote():
    # Changing this value means every stack is re-applied once after the upgrade: make it a decision, and say so
    # in the release notes.
    assert spec_hash(PINNED) == PINNED_HASH


def test_key_order_and_the_annotation_itself_do_not_change_the_hash():
    shuffled = json.loads(json.dumps(PINNED, sort_keys=True))
    assert spec_hash(shuffled) == PINNED_HASH
    annotated, digest = with_spec_hash(PINNED)
    assert digest == PINNED_HASH
    assert annotated["metadata"]["annotations"] == {SPEC_HASH_ANNOTATION: PINNED_HASH}


def test_every_rendered_object_gets_a_distinct_repeatable_hash():
    objects = render_stack(build_spec(harbor_version="2.15.2", ha=True, trivy_enabled=True))
    digests = [with_spec_hash(obj)[1] for obj in objects]
    assert len(set(digests)) == len(objects)
    assert digests == [
        with_spec_hash(obj)[1]
        for obj in render_stack(build_spec(harbor_version="2.15.2", ha=True, trivy_enabled=True))
    ]

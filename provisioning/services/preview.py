"""Manifest preview: what an edit would apply, as a diff against the manifests the console last applied.

Nothing here talks to Kubernetes or writes to the database. The proposed objects are rendered from an in-memory
copy of the registry with the unsaved changes laid over it, by the engine's ``desired_objects`` (its spec and
rendering's ``render_stack``); the live side is ``ManagedResource.manifest``, the last applied manifest the
engine keeps.
Both sides have every Secret value redacted, so a preview never shows a secret; a Secret whose values alone
change is reported as changed, with its values hidden.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from provisioning.choices import CacheMode
from provisioning.kube import object_key
from provisioning.models import ManagedResource, Registry, SecretName
from provisioning.reconcile.compare import SPEC_HASH_ANNOTATION, spec_hash
from provisioning.reconcile.errors import InvalidSpec
from provisioning.reconcile.redaction import redact
from provisioning.reconcile.spec import desired_objects
from provisioning.rendering import render_yaml
from provisioning.services.errors import ActionRefused
from provisioning.services.registries import EDITABLE_FIELDS
from provisioning.services.secrets import generate_values

Change = Literal["added", "removed", "changed", "unchanged"]
Key = tuple[str, str, str, str]
PLACEHOLDER_PASSWORD = "preview-only-placeholder-password"
TOP_LEVEL_ORDER = dict.fromkeys(("apiVersion", "kind", "metadata", "spec", "data", "stringData"))


@dataclass(frozen=True)
class ObjectChange:
    """One Kubernetes object and what the edit would do to it."""

    api_version: str
    kind: str
    namespace: str
    name: str
    change: Change
    diff: list[tuple[str, str]] = field(default_factory=list)
    """Lines of a unified diff, each with its CSS class (add, del, hunk or ctx)."""
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass(frozen=True)
class ManifestPreview:
    objects: list[ObjectChange]
    changed_fields: list[str]
    live_recorded: bool
    """False when the console has not applied (and so not recorded) this registry's objects yet."""

    def of(self, change: Change) -> list[ObjectChange]:
        return [obj for obj in self.objects if obj.change == change]

    @property
    def added(self) -> list[ObjectChange]:
        return self.of("added")

    @property
    def removed(self) -> list[ObjectChange]:
        return self.of("removed")

    @property
    def changed(self) -> list[ObjectChange]:
        return self.of("changed")

    @property
    def unchanged(self) -> list[ObjectChange]:
        return self.of("unchanged")

    @property
    def affected(self) -> list[ObjectChange]:
        return [obj for obj in self.objects if obj.change != "unchanged"]


def proposed_registry(registry: Registry, changes: Mapping[str, Any]) -> Registry:
    """An unsaved copy of ``registry`` with ``changes`` applied and validated like a save would."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ActionRefused(
            f"These fields cannot be previewed: {', '.join(sorted(unknown))}.",
            code="not_editable",
            status=400,
        )
    proposed = copy.copy(registry)  # Django copies the instance state and its cache of related rows
    for name, value in changes.items():
        setattr(proposed, name, value)
    proposed.full_clean()
    return proposed


def _secrets_for(registry: Registry) -> dict[str, str]:
    """The registry's stored secrets, read only; throwaway values (never saved) for any not generated yet."""
    stored = {secret.name: secret.value for secret in registry.secrets.all()}
    if all(stored.get(name) for name in SecretName.values):
        return {name: stored[name] for name in SecretName.values}
    generated = generate_values(registry)
    if not (stored.get(SecretName.REGISTRY_PASSWORD) and stored.get(SecretName.REGISTRY_HTPASSWD)):
        stored.pop(SecretName.REGISTRY_PASSWORD, None)  # the password and its htpasswd line go together
        stored.pop(SecretName.REGISTRY_HTPASSWD, None)
    return {name: stored.get(name) or generated[name] for name in SecretName.values}


def _proposed_objects(proposed: Registry) -> list[dict[str, Any]]:
    cache = getattr(proposed, "cache", None)
    if cache is not None and cache.mode == CacheMode.MANAGED and not cache.password:
        cache = copy.copy(cache)
        cache.password = PLACEHOLDER_PASSWORD  # build_spec would otherwise generate and save one
        proposed._state.fields_cache["cache"] = cache
    try:
        return desired_objects(proposed, secrets=_secrets_for(proposed))
    except InvalidSpec as error:
        raise ActionRefused(
            f"The change cannot be rendered: {error}", code="invalid_spec", status=400
        ) from None


def _without_hash(manifest: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(manifest))
    annotations = (result.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(SPEC_HASH_ANNOTATION, None)
        if not annotations:
            del result["metadata"]["annotations"]
    return result


def _diff_lines(before: str, after: str) -> list[tuple[str, str]]:
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), fromfile="live", tofile="proposed", lineterm="", n=3
    )
    styled = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        css = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "ctx")
        styled.append((css, line))
    return styled


def _yaml(manifest: Mapping[str, Any]) -> str:
    return render_yaml([manifest]).removeprefix("---\n")


def aligned(value: Any, model: Any) -> Any:
    """``value`` with its mappings' keys in ``model``'s order (keys ``model`` lacks last, sorted).

    The database returns a stored manifest with its keys reordered; laid out like the proposed one again, the
    diff shows only what changes.
    """
    if isinstance(value, Mapping):
        template = model if isinstance(model, Mapping) else {}
        keys = [k for k in template if k in value] + sorted(k for k in value if k not in template)
        return {k: aligned(value[k], template.get(k)) for k in keys}
    if isinstance(value, list):
        models = model if isinstance(model, list) else []
        return [aligned(item, models[i] if i < len(models) else None) for i, item in enumerate(value)]
    return value


def preview_changes(registry: Registry, changes: Mapping[str, Any]) -> ManifestPreview:
    """Every object the registry would have after ``changes``, compared with what was last applied."""
    proposed = proposed_registry(registry, changes)
    desired = {object_key(obj): obj for obj in _proposed_objects(proposed)}
    live_rows = {
        (row.api_version, row.kind, row.namespace, row.name): row
        for row in ManagedResource.objects.filter(registry=registry).order_by("apply_order", "kind", "name")
    }
    objects: list[ObjectChange] = []
    for key, obj in desired.items():
        row = live_rows.get(key)
        shown = _without_hash(redact(obj))
        if row is None:
            objects.append(ObjectChange(*key, change="added", diff=_diff_lines("", _yaml(shown))))
            continue
        live = _without_hash(row.manifest) if row.manifest else {}
        same_content = live == shown
        same_hash = row.spec_hash == spec_hash(obj) if row.spec_hash else same_content
        if same_content and same_hash:
            objects.append(ObjectChange(*key, change="unchanged"))
        elif same_content:
            objects.append(
                ObjectChange(*key, change="changed", note="Only secret values change; they are not shown.")
            )
        else:
            note = "" if live else "The last applied manifest was not recorded: the whole object is shown."
            objects.append(
                ObjectChange(
                    *key,
                    change="changed",
                    diff=_diff_lines(_yaml(aligned(live, shown)) if live else "", _yaml(shown)),
                    note=note,
                )
            )
    for key, row in live_rows.items():
        if key not in desired:
            before = _yaml(aligned(_without_hash(row.manifest), TOP_LEVEL_ORDER)) if row.manifest else ""
            objects.append(ObjectChange(*key, change="removed", diff=_diff_lines(before, "")))
    return ManifestPreview(objects=objects, changed_fields=sorted(changes), live_recorded=bool(live_rows))

"""Raise the seeded plans' namespace ceilings so each plan's largest registry fits (rollouts included).

Figures from ``Plan.largest_registry_needs()`` on the seeded S/M/L figures (CPU limits 7.6, 18.6, 44.6; memory
limits 5.9, 15.9, 40.9 GiB), rounded up. A plan whose ceilings a provider already changed (anything but a
default the field ever had) is left alone.
"""

from django.db import migrations

OLD = ("8", "16Gi")
DEFAULTS = (OLD, ("20", "20Gi"))
"""The field defaults before and since this change."""
CEILINGS = {"s": ("8", "16Gi"), "m": ("20", "20Gi"), "l": ("48", "48Gi")}


def forwards(apps, schema_editor):
    Plan = apps.get_model("provisioning", "Plan")
    for name, (cpu, memory) in CEILINGS.items():
        for old_cpu, old_memory in DEFAULTS:
            Plan.objects.filter(name=name, namespace_cpu_limit=old_cpu, namespace_memory_limit=old_memory).update(
                namespace_cpu_limit=cpu, namespace_memory_limit=memory
            )


def backwards(apps, schema_editor):
    Plan = apps.get_model("provisioning", "Plan")
    for name, (cpu, memory) in CEILINGS.items():
        Plan.objects.filter(name=name, namespace_cpu_limit=cpu, namespace_memory_limit=memory).update(
            namespace_cpu_limit=OLD[0], namespace_memory_limit=OLD[1]
        )


class Migration(migrations.Migration):
    dependencies = [("provisioning", "0008_b_cluster_network")]
    operations = [migrations.RunPython(forwards, backwards)]

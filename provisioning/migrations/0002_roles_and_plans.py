"""Create the role groups and the standard S / M / L plans."""

from django.db import migrations

ROLES = ("viewer", "operator", "admin")
PLANS = [
    # name, display, quota, max quota, replicas, max replicas, trivy, parallel, ha, cpu_req, cpu_lim, mem_req, mem_lim
    ("s", "Small", 200, 200, 1, 1, False, 15, False, "100m", "500m", "128Mi", "512Mi"),
    ("m", "Medium", 600, 1000, 2, 3, True, 45, True, "250m", "1", "256Mi", "1Gi"),
    ("l", "Large", 5120, 5120, 3, 5, True, 90, True, "500m", "2", "512Mi", "2Gi"),
]


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Plan = apps.get_model("provisioning", "Plan")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    for name, display, quota, max_quota, replicas, max_replicas, trivy, parallel, ha, cr, cl, mr, ml in PLANS:
        Plan.objects.get_or_create(
            name=name,
            defaults=dict(
                display_name=display,
                storage_quota_gib=quota,
                max_storage_quota_gib=max_quota,
                replicas=replicas,
                max_replicas=max_replicas,
                trivy_enabled=trivy,
                parallel_request_limit=parallel,
                ha=ha,
                cpu_request=cr,
                cpu_limit=cl,
                memory_request=mr,
                memory_limit=ml,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("provisioning", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

"""Login throttling counters; API tokens get a scope and an expiry.

Tokens that exist before this migration keep working: their scope is ``admin`` (what they could do before, since a
token is always capped by its owner's role at use, an admin-scoped token of a viewer still only views) and they
expire 365 days after the migration — long enough for every automation to move to a new token it chooses, short
enough that no token lives forever. The account page and the API show the date.
"""

from datetime import timedelta

import django.utils.timezone
from django.db import migrations, models

EXISTING_TOKEN_DAYS = 365


def give_existing_tokens_an_expiry(apps, schema_editor):
    ApiToken = apps.get_model("provisioning", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(
        expires_at=django.utils.timezone.now() + timedelta(days=EXISTING_TOKEN_DAYS)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0005_installation_and_cluster_observation"),
    ]

    operations = [
        migrations.CreateModel(
            name="LoginThrottle",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "scope",
                    models.CharField(
                        choices=[("account", "Account name"), ("address", "Client address")], max_length=8
                    ),
                ),
                (
                    "key",
                    models.CharField(
                        help_text="The account name in lower case, or the client address.", max_length=150
                    ),
                ),
                ("failures", models.PositiveIntegerField(default=0)),
                ("window_started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_failure_at", models.DateTimeField(blank=True, null=True)),
                ("locked_until", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("scope", "key"), name="login_throttle_scope_key")
                ],
            },
        ),
        migrations.AddField(
            model_name="apitoken",
            name="scope",
            field=models.CharField(
                choices=[("read-only", "Read-only"), ("operator", "Operator"), ("admin", "Admin")],
                default="admin",
                help_text="What the token may do, never more than its owner's role at the time of use.",
                max_length=16,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True, help_text="After this the token is refused."),
        ),
        migrations.RunPython(give_existing_tokens_an_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(help_text="After this the token is refused."),
        ),
    ]

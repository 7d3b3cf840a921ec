"""Keep only SHA-256 hashes of tracking and callback tokens.

Existing tokens are hashed in place of being kept, so every link already emailed and every
callback address already configured keeps working. Each case's one token becomes its first
`TrackingLink`. Reversing gives every case and source a fresh random token: the old ones
cannot be rebuilt from their hashes, so links sent before must then be sent again.
"""

import hashlib
import secrets

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def _digest(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hash_tokens(apps, schema_editor):
    Case = apps.get_model("diagnosis", "Case")
    TrackingLink = apps.get_model("diagnosis", "TrackingLink")
    StatusSource = apps.get_model("diagnosis", "StatusSource")
    cases = Case.objects.exclude(tracking_token=None).values_list("pk", "tracking_token", "created_at")
    for chunk_start in range(0, cases.count(), 2000):
        TrackingLink.objects.bulk_create(
            TrackingLink(case_id=pk, token_hash=_digest(token), created_at=created_at)
            for pk, token, created_at in cases.order_by("pk")[chunk_start : chunk_start + 2000]
        )
    for source in StatusSource.objects.exclude(token=None):
        source.token_hash = _digest(source.token)
        source.save(update_fields=["token_hash"])


def fresh_tokens(apps, schema_editor):
    Case = apps.get_model("diagnosis", "Case")
    StatusSource = apps.get_model("diagnosis", "StatusSource")
    for case in Case.objects.filter(tracking_token=None).only("pk"):
        Case.objects.filter(pk=case.pk).update(tracking_token=secrets.token_urlsafe(32))
    for source in StatusSource.objects.filter(token=None).only("pk"):
        StatusSource.objects.filter(pk=source.pk).update(token=secrets.token_urlsafe(32))


class Migration(migrations.Migration):
    dependencies = [
        ("diagnosis", "0015_event_kind_without_report"),
    ]

    operations = [
        migrations.CreateModel(
            name="TrackingLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tracking_links",
                        to="diagnosis.case",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="statussource",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        # Nullable before removal, so that a reversal adds the columns empty and fills each row
        # with its own token (one shared default would break the unique constraint).
        migrations.AlterField(
            model_name="case",
            name="tracking_token",
            field=models.CharField(editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="statussource",
            name="token",
            field=models.CharField(editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(hash_tokens, fresh_tokens),
        migrations.RemoveField(model_name="case", name="tracking_token"),
        migrations.RemoveField(model_name="statussource", name="token"),
        migrations.AlterField(
            model_name="statussource",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]

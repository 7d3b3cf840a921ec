from __future__ import annotations

from django.db import migrations, models
from django.db.models.functions import Now


class Migration(migrations.Migration):
    dependencies = [
        ("diagnosis", "0011_outbound_email_lease"),
    ]

    operations = [
        # Reports stored before this change were matched when they arrived: the column is
        # added with the migration's time as their value (PostgreSQL keeps a constant
        # default in the catalogue, without rewriting the table), then the default is
        # dropped so new reports start unmatched.
        migrations.AddField(
            model_name="statusreport",
            name="matched_at",
            field=models.DateTimeField(blank=True, db_default=Now(), editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="statusreport",
            name="matched_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="statusreport",
            index=models.Index(
                condition=models.Q(("matched_at__isnull", True)),
                fields=["received_at"],
                name="diagnosis_report_unmatched",
            ),
        ),
    ]

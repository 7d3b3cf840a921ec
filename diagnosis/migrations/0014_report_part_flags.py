from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("diagnosis", "0013_test_messages"),
    ]

    operations = [
        # Reports stored before this change were refused when their part numbers did not
        # add up, so every existing row is consistent: False is right for all of them.
        migrations.AddField(
            model_name="statusreport",
            name="parts_inconsistent",
            field=models.BooleanField(default=False, db_default=False),
        ),
        # Widening a varchar is a catalogue change in PostgreSQL: no table rewrite.
        migrations.AlterField(
            model_name="statusreport",
            name="origin",
            field=models.CharField(
                blank=True,
                choices=[("1", "SMS platform"), ("2", "SMS center (carrier)"), ("3", "Huawei platform")],
                max_length=16,
            ),
        ),
    ]

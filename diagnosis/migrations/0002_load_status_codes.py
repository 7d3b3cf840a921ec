"""Load the status-code catalogue from diagnosis/data/status_codes.csv."""

import csv
from pathlib import Path

from django.db import migrations

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "status_codes.csv"


def load(apps, schema_editor):
    StatusCode = apps.get_model("diagnosis", "StatusCode")
    with CATALOGUE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            StatusCode.objects.update_or_create(
                code=row["code"],
                defaults={
                    "match": row["match"],
                    "branch": row["branch"],
                    "final": row["final"] == "yes",
                    "origin": row["origin"],
                    "summary": row["summary"],
                    "advice": row["advice"],
                    "documented": True,
                },
            )


def unload(apps, schema_editor):
    apps.get_model("diagnosis", "StatusCode").objects.filter(documented=True).delete()


class Migration(migrations.Migration):
    dependencies = [("diagnosis", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]

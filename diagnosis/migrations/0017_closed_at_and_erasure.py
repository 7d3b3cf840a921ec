from __future__ import annotations

from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce


def fill_closed_at(apps, schema_editor):
    """Closed cases get the time of the event that closed them (their last change when none says)."""
    Case = apps.get_model("diagnosis", "Case")
    Event = apps.get_model("diagnosis", "Event")
    closing = Event.objects.filter(case=OuterRef("pk"), kind="state", data__state="closed").order_by(
        "-at", "-pk"
    )
    Case.objects.filter(state="closed").update(
        closed_at=Coalesce(Subquery(closing.values("at")[:1]), "updated_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("diagnosis", "0016_hashed_tokens"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="event",
            name="diagnosis_event_kind_valid",
        ),
        migrations.AddField(
            model_name="case",
            name="closed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="case",
            name="erased_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_closed_at, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="event",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Case opened"),
                    ("state", "State changed"),
                    ("answered", "Step answered"),
                    ("revised", "Answer revised"),
                    ("assigned", "Assigned"),
                    ("note", "Note"),
                    ("customer_message", "Message from the customer"),
                    ("reply", "Reply to the customer"),
                    ("wait_started", "Waiting for report"),
                    ("wait_ended", "Wait ended"),
                    ("escalated", "Escalated"),
                    ("outcome", "Outcome reached"),
                    ("test_sms", "Test SMS sent"),
                    ("erased", "Personal data erased"),
                ],
                max_length=24,
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("erased_at__isnull", True), ("state", "closed")),
                fields=["closed_at"],
                name="diagnosis_case_erase_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "created",
                            "state",
                            "answered",
                            "revised",
                            "assigned",
                            "note",
                            "customer_message",
                            "reply",
                            "wait_started",
                            "wait_ended",
                            "escalated",
                            "outcome",
                            "test_sms",
                            "erased",
                        ],
                    )
                ),
                name="diagnosis_event_kind_valid",
            ),
        ),
    ]

from __future__ import annotations

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("diagnosis", "0014_report_part_flags"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # "report" was never written (reports show in the case's reports table, not its history),
    # so no row holds it and the constraint is simply replaced; a row that did would make
    # the new constraint fail to apply rather than be changed silently.
    operations = [
        migrations.RemoveConstraint(
            model_name="event",
            name="diagnosis_event_kind_valid",
        ),
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
                ],
                max_length=24,
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
                        ],
                    )
                ),
                name="diagnosis_event_kind_valid",
            ),
        ),
    ]

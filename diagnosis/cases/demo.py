"""Example cases for `seed_demo`: one in every state, walked through the real services."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from diagnosis.cases import services
from diagnosis.delivery import numbers
from diagnosis.models import Case, ReportChannel, StatusReport

DEMO_DOMAIN = "demo.example.com"

# (customer, number, message id, hours since sending, answers to give, final report status or "")
EXAMPLES = [
    ("Ana Souza", "+55 11 91234-5678", "demo-0001", 2, [], ""),
    ("Ben Okafor", "+234 803 123 4567", "demo-0002", 5, [("report_returned", "report_present")], "UNDELIV"),
    (
        "Chen Wei",
        "+86 138 0013 8000",
        "demo-0003",
        20,
        [("report_returned", "no_report"), ("dial_recipient", "yes")],
        "",
    ),
    (
        "Dara Nolan",
        "+353 85 123 4567",
        "demo-0004",
        30,
        [("report_returned", "report_present"), ("status_is_delivrd", "limit"), ("frequency_limit", "yes")],
        "LIMIT",
    ),
    (
        "Eva Lind",
        "+46 70 123 45 67",
        "demo-0005",
        50,
        [("report_returned", "report_present"), ("status_is_delivrd", "delivered"), ("junk_folder", "yes")],
        "DELIVRD",
    ),
    (
        "Femi Ade",
        "+44 7400 123456",
        "demo-0006",
        80,
        [("report_returned", "report_present"), ("status_is_delivrd", "number"), ("number_dead", "yes")],
        "UNDELIV",
    ),
]


def seed_cases(agent: User) -> int:
    """Create the example cases once; returns how many were created."""
    if Case.objects.filter(reporter_email__endswith="@" + DEMO_DOMAIN).exists():
        return 0
    now = timezone.now()
    for index, (name, number, msg_id, hours, answers, status) in enumerate(EXAMPLES):
        sent_at = now - timedelta(hours=hours)
        case = services.open_case(
            services.NewCase(
                reporter_name=name,
                reporter_email=f"{name.split()[0].lower()}@{DEMO_DOMAIN}",
                numbers=[numbers.normalise(number)],
                msg_ids=[msg_id],
                sent_at=sent_at,
                sender="ACME",
                description="The verification code never arrived on the customer's phone.",
            )
        )
        if status:
            StatusReport(
                msg_id=msg_id,
                status=status,
                updated_at=sent_at + timedelta(seconds=30),
                channel=ReportChannel.CALLBACK,
                origin="2",
                raw={"smsMsgId": msg_id, "status": status},
                matched_at=now,  # the example's answers below tell what the report did
            ).save()
        if index:
            services.assign(case.pk, assignee=agent, actor=agent, claim=True)
        for node, value in answers:
            services.answer_step(case.pk, node=node, value=value, actor=agent)
        if index == len(EXAMPLES) - 1:
            services.close_case(case.pk, actor=agent)
    return len(EXAMPLES)

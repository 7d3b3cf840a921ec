"""Example cases for `seed_demo`: one in every state, walked through the real services."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from diagnosis.cases import services
from diagnosis.delivery import numbers
from diagnosis.models import Case, ReportChannel, StatusReport

DEMO_DOMAIN = "demo.example.com"


def demo_msg_id(number: int) -> str:
    """A message id in the platform's shape (UUID, underscore, sequence), as the public form wants it."""
    return f"de30de30-0000-4000-8000-{number:012d}_{1000 + number}"


# A delivered message that no case mentions: typing it on the public form shows the self-help.
SELF_HELP_MSG_ID = demo_msg_id(100)

# (customer, number, message id, hours since sending, answers to give, final report status or "")
EXAMPLES = [
    ("Ana Souza", "+55 11 91234-5678", demo_msg_id(1), 2, [], ""),
    (
        "Ben Okafor",
        "+234 803 123 4567",
        demo_msg_id(2),
        5,
        [("report_returned", "report_present")],
        "UNDELIV",
    ),
    (
        "Chen Wei",
        "+86 138 0013 8000",
        demo_msg_id(3),
        20,
        [("report_returned", "no_report"), ("dial_recipient", "yes")],
        "",
    ),
    (
        "Dara Nolan",
        "+353 85 123 4567",
        demo_msg_id(4),
        30,
        [("report_returned", "report_present"), ("status_is_delivrd", "limit"), ("frequency_limit", "yes")],
        "LIMIT",
    ),
    (
        "Eva Lind",
        "+46 70 123 45 67",
        demo_msg_id(5),
        50,
        [("report_returned", "report_present"), ("status_is_delivrd", "delivered"), ("junk_folder", "yes")],
        "DELIVRD",
    ),
    (
        "Femi Ade",
        "+44 7400 123456",
        demo_msg_id(6),
        80,
        [("report_returned", "report_present"), ("status_is_delivrd", "number"), ("number_dead", "yes")],
        "UNDELIV",
    ),
]


def seed_self_help_report() -> str:
    """Store a DELIVRD report for SELF_HELP_MSG_ID once; returns the id."""
    if not StatusReport.objects.filter(msg_id=SELF_HELP_MSG_ID).exists():
        sent_at = timezone.now() - timedelta(hours=1)
        StatusReport(
            msg_id=SELF_HELP_MSG_ID,
            status="DELIVRD",
            updated_at=sent_at + timedelta(seconds=20),
            channel=ReportChannel.CALLBACK,
            origin="2",
            raw={"smsMsgId": SELF_HELP_MSG_ID, "status": "DELIVRD"},
            matched_at=timezone.now(),  # no case to match
        ).save()
    return SELF_HELP_MSG_ID


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

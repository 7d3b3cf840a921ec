"""Every email the portal writes, word for word: plain text, never HTML-escaped.

Names, replies and notes carry &, <, > and quotes on purpose: a text template that
forgot to switch autoescaping off would turn them into entities.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone, translation
from django.utils.formats import date_format

from diagnosis.cases import notifications, services
from diagnosis.delivery import numbers
from diagnosis.models import Case, OutboundEmail, StaffPreference, StatusReport, TrackingLink
from diagnosis.support import tickets
from tests.diagnosis.conftest import MSG_ID, route_to, store_report, walk_to

NAME = "Zoë O'Neil & <Partners>"
FOOTER = "if you have anything to add.\n\nSMS delivery support\n"


def shown(moment: datetime | None) -> str:
    """A time as the portal shows one in text: its date format, in its time zone, zone named."""
    assert moment is not None
    local = timezone.localtime(moment)
    return f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


@pytest.fixture
def case(db: None) -> Case:
    return services.open_case(
        services.NewCase(
            reporter_name=NAME,
            reporter_email="zoe@example.com",
            numbers=[numbers.normalise("+4915123456789")],
            msg_ids=(MSG_ID,),
            sent_at=timezone.now() - timedelta(hours=1),
            sender='ACME & "Sons"',
        )
    )


def test_a_reply_email(case: Case, agent: User) -> None:
    services.send_reply(case.pk, text="Check <Spam> & 'Junk'.\nThen restart.", actor=agent)

    email = OutboundEmail.objects.get(case=case)
    assert email.subject == f"Update on your SMS delivery case {case.reference}"
    assert email.body == (
        f"Hello {NAME},\n\nCheck <Spam> & 'Junk'.\nThen restart.\n\n"
        f"Your case reference is {case.reference}. Reply to this email or use your tracking link " + FOOTER
    )


def test_the_ticket_received_email(db: None) -> None:
    ticket = tickets.Ticket(
        name=NAME,
        email="zoe@example.com",
        numbers=[numbers.normalise("+4915123456789")],
        msg_ids=[],
        sent_at=None,
        sender="",
        template_id="",
        description="",
        screenshot=None,
        self_help={},
    )

    filed = tickets.file_ticket(ticket)

    assert filed.emailed
    case, token = filed.case, filed.token
    email = OutboundEmail.objects.get(case=case)
    assert email.subject == f"We received your report {case.reference}"
    assert email.body == (
        f"Hello {NAME},\n\n"
        f"Thank you for your report. Its reference is {case.reference}.\n\n"
        "Numbers: +49 1512 3456789\n\n"
        "Follow it here (keep this link private, it opens your ticket):\n"
        f"{settings.PORTAL_BASE_URL}/support/t/{token}/\n\n"
        "SMS delivery support\n"
    )


def test_the_find_my_tickets_email(case: Case) -> None:
    OutboundEmail.objects.all().delete()
    other = services.open_case(
        services.NewCase(
            reporter_name="Zoë",
            reporter_email="ZOE@example.com",
            numbers=[numbers.normalise("+4915123456789")],
        )
    )

    assert tickets.resend_links("zoe@example.com ") == 2

    email = OutboundEmail.objects.get()
    assert (email.to, email.subject) == ("ZOE@example.com", "Your SMS delivery support tickets")
    base = re.escape(settings.PORTAL_BASE_URL)
    match = re.fullmatch(
        "Hello,\n\nHere are the links to your tickets:\n"
        f"- {other.reference}: {base}/support/t/(?P<other>[\\w-]{{43}})/\n"
        f"- {case.reference}: {base}/support/t/(?P<case>[\\w-]{{43}})/\n\n"
        "SMS delivery support\n",
        email.body,
    )
    assert match is not None, email.body
    assert TrackingLink.find_case(match["other"]) == other
    assert TrackingLink.find_case(match["case"]) == case


def test_the_assignee_email_when_a_case_resumes(case: Case, agent: User) -> None:
    services.assign(case.pk, assignee=agent, actor=agent)
    StaffPreference.objects.create(user=agent, email_when_case_resumes=True)

    notifications.tell_assignee(case.pk)

    email = OutboundEmail.objects.get(to=agent.email)
    assert email.subject == f"{case.reference} resumed: a status report arrived."
    assert email.body == (
        f"{case.reference} resumed: a status report arrived.\n\n"
        f"Open the case: {settings.PORTAL_BASE_URL}/cases/{case.reference}/\n"
    )


def test_the_escalation_email(case: Case, agent: User) -> None:
    report = store_report(status="LIMIT")
    StatusReport.objects.filter(pk=report.pk).update(updated_at=None)  # a report without its time
    services.add_note(case.pk, text='Customer says "nothing" <arrived> & waits', actor=agent)
    route = route_to(case.guide, "E_frequency_limit")
    for node, value in route:  # the code where a step asks for one, a note on the last answer
        evidence = "LIMIT" if case.guide[node].evidence else ""
        notes = "rate & <quota>" if (node, value) == route[-1] else ""
        services.answer_step(case.pk, node=node, value=value, actor=agent, evidence=evidence, notes=notes)

    email = OutboundEmail.objects.get(escalation__case=case)
    assert email.escalation is not None
    package = email.escalation.package
    checks = package["checks"]
    title = case.guide["E_frequency_limit"].title
    assert email.to == settings.CUSTOMER_SERVICE_EMAIL
    assert email.subject == f"[{case.reference}] SMS delivery escalation: {title}"
    text, machine = email.body.split("--- machine-readable copy ---\n")
    assert text == (
        "Hello,\n\n"
        f"We need your help with SMS delivery case {case.reference}: {title}.\n\n"
        "Recipient numbers: +4915123456789\n"
        f"Message ids (smsMsgId): {MSG_ID}\n"
        f"Send time: {shown(case.sent_at)}\n"
        'Sender / channel: ACME & "Sons"\n'
        "Template id: not given\n\n"
        "Status reports seen:\n"
        "  - LIMIT via Status-report callback (update time none)\n\n"
        "Checks done:\n"
        + "".join(
            f"  - {c['step']} {c['question']} -> {c['answer']}"
            + (f" [{c['evidence']}]" if c["evidence"] else "")
            + f" (by Avery at {shown(datetime.fromisoformat(c['at']))})"
            + (f"; note: {c['notes']}" if c["notes"] else "")
            + "\n"
            for c in checks
        )
        + "\n"
        "Agent notes:\n"
        '  - Customer says "nothing" <arrived> & waits\n\n'
        "Please reply with your reference for this request.\n\n"
    )
    # The stored package comes back from jsonb with its keys reordered; the email kept the original order.
    assert json.loads(machine) == package
    assert machine == json.dumps(json.loads(machine), indent=2, ensure_ascii=False) + "\n"
    assert "Zoë" not in machine and '"sender": "ACME & \\"Sons\\""' in machine
    assert checks[-1]["notes"] == "rate & <quota>" and "; note: rate & <quota>\n" in email.body
    assert " [LIMIT] (by Avery at " in email.body


def test_an_escalation_email_without_reports_or_notes_says_none(case: Case, agent: User) -> None:
    route = route_to(case.guide, "E_no_report_after_72h")
    walk_to(case, route, agent)

    body = OutboundEmail.objects.get(escalation__case=case).body

    assert "Status reports seen:\n  none\n\nChecks done:\n  - C1 " in body
    assert "\n\nAgent notes:\n  none\n\nPlease reply with your reference" in body


def test_customer_emails_follow_the_case_language(case: Case, agent: User) -> None:
    Case.objects.filter(pk=case.pk).update(language="zh-hans")

    services.send_reply(case.pk, text="请检查垃圾短信。", actor=agent)

    email = OutboundEmail.objects.get(case=case)
    with translation.override("zh-hans"):
        subject = translation.gettext("Update on your SMS delivery case %(reference)s")
    assert email.subject == subject % {"reference": case.reference}
    assert "请检查垃圾短信。" in email.body


def test_the_assignee_email_follows_the_agent_language(case: Case, agent: User) -> None:
    services.assign(case.pk, assignee=agent, actor=agent)
    StaffPreference.objects.create(user=agent, email_when_case_resumes=True, language="zh-hans")

    notifications.tell_assignee(case.pk)

    email = OutboundEmail.objects.get(to=agent.email)
    with translation.override("zh-hans"):
        subject = translation.gettext("%(reference)s resumed: a status report arrived.")
    assert email.subject == subject % {"reference": case.reference}


def test_the_escalation_email_stays_english_for_a_chinese_case(case: Case, agent: User) -> None:
    Case.objects.filter(pk=case.pk).update(language="zh-hans")
    route = route_to(case.guide, "E_no_report_after_72h")

    with translation.override("zh-hans"):  # an agent working in Chinese
        walk_to(case, route, agent)

    email = OutboundEmail.objects.get(escalation__case=case)
    title = case.guide["E_no_report_after_72h"].title
    with translation.override(settings.LANGUAGE_CODE):
        title = str(title)
    assert email.subject == f"[{case.reference}] SMS delivery escalation: {title}"
    assert email.body.startswith(f"Hello,\n\nWe need your help with SMS delivery case {case.reference}: ")
    assert "\nStatus reports seen:\n" in email.body and "\nChecks done:\n" in email.body

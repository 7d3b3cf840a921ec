"""When the 72-hour wait ends, the customer hears it: one email and one message on the tracking page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from diagnosis.cases import matching, outbox, services, sweep
from diagnosis.models import Case, CaseState, OutboundEmail, StatusReport, StatusSource
from tests.diagnosis.conftest import MSG_ID, tracking_path, walk_to

CALLBACK = f"sequence=1&total=1&updateTime=2026-11-20T10%3A00%3A00Z&source=2&smsMsgId={MSG_ID}&status=DELIVRD"


def waiting_case(make_case: Callable[..., Case], agent: User) -> Case:
    return walk_to(
        make_case(sent_ago=timedelta(0)), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent
    )


def customer_emails(case: Case) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(case=case, to=case.reporter_email))


def tracking_page(client: Client, case: Case) -> str:
    return client.get(tracking_path(case)).content.decode()


def test_a_wait_that_runs_out_emails_the_customer_once(
    make_case: Callable[..., Case], agent: User, client: Client
) -> None:
    case = waiting_case(make_case, agent)

    assert case.wait_deadline is not None
    with time_machine.travel(case.wait_deadline + timedelta(minutes=1), tick=False):
        first, second = sweep.sweep(), sweep.sweep()
        again = services.expire_wait(case.pk)

    case.refresh_from_db()
    assert (first.escalated, second.escalated, again) == (1, 0, False)
    assert case.state == CaseState.ESCALATED
    [email] = customer_emails(case)
    assert email.subject == f"Update on your SMS delivery case {case.reference}"
    assert email.body == (
        "Hello Dana Customer,\n\n"
        "We have still not received a delivery result 72 hours after sending, so we have asked the SMS "
        "provider to investigate. We will update you when they answer.\n\n"
        f"Your case reference is {case.reference}. Reply to this email or use your tracking link "
        "if you have anything to add.\n\nSMS delivery support\n"
    )
    page = tracking_page(client, case)
    assert "No messages yet" not in page
    conversation = page[page.index('id="conversation"') :]
    assert "SMS delivery support" in conversation and "asked the SMS provider to investigate" in conversation

    outbox.deliver_pending()
    sent = [m for m in mail.outbox if m.to == ["dana@example.com"]]
    assert [(m.subject, m.body) for m in sent] == [(email.subject, email.body)]


def test_a_report_posted_to_the_callback_ends_the_wait_and_emails_the_customer_once(
    make_case: Callable[..., Case], agent: User, client: Client
) -> None:
    source = StatusSource.objects.create(name="huawei-eu")
    case = waiting_case(make_case, agent)

    for _ in range(2):  # the platform repeats a report it thinks was lost
        response = client.post(
            source.callback_path(), data=CALLBACK, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200
    # Beat's matcher, run twice, and a duplicate trigger.
    matching.match_unmatched()
    matching.match_unmatched()
    assert matching.reports_arrived([MSG_ID]) == []

    case.refresh_from_db()
    assert StatusReport.objects.count() == 1
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    [email] = customer_emails(case)
    assert email.body == (
        "Hello Dana Customer,\n\n"
        "The mobile network has now reported what happened to your message. We are reading the result "
        "to decide what to check next, and will update you.\n\n"
        f"Your case reference is {case.reference}. Reply to this email or use your tracking link "
        "if you have anything to add.\n\nSMS delivery support\n"
    )
    assert "We are reading the result" in tracking_page(client, case)

    assert outbox.deliver_pending() == 1
    assert [(m.to, m.body) for m in mail.outbox] == [(["dana@example.com"], email.body)]

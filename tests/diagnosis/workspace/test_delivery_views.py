"""Case-page delivery actions, escalation answers, notifications and preferences."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django import Settings

from diagnosis.cases import outbox, services
from diagnosis.models import Case, CaseState, Escalation, StaffPreference, StatusReport
from tests.diagnosis.conftest import MSG_ID, give_details, route_to, walk_to


@pytest.fixture
def waiting(make_case: Callable[..., Case], agent: User) -> Case:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    return walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "no")], agent)


def test_a_status_typed_from_the_console_resumes_the_case(client: Client, agent: User, waiting: Case) -> None:
    client.force_login(agent)

    response = client.post(
        f"/cases/{waiting.reference}/manual-report/", {"msg_id": MSG_ID, "status": "undeliv"}, follow=True
    )

    assert "Status UNDELIV recorded" in response.content.decode()
    assert StatusReport.objects.get().channel == "manual"
    assert StatusReport.objects.get().matched_at is not None  # matched at once, nothing left to catch up
    waiting.refresh_from_db()
    assert (waiting.state, waiting.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    assert "resumed" in client.get("/").content.decode()


def test_a_bad_manual_status_is_refused(client: Client, agent: User, waiting: Case) -> None:
    client.force_login(agent)
    response = client.post(
        f"/cases/{waiting.reference}/manual-report/",
        {"msg_id": "not-on-this-case", "status": "X"},
        follow=True,
    )
    assert "Give the message id and the status code" in response.content.decode()
    assert not StatusReport.objects.exists()


def test_test_sms_without_configuration_says_so(
    client: Client, agent: User, waiting: Case, settings: Settings
) -> None:
    settings.SMS_SENDER = ""
    client.force_login(agent)
    response = client.post(
        f"/cases/{waiting.reference}/test-sms/", {"recipient": waiting.recipients.get().pk}, follow=True
    )
    assert "need SMS_SENDER and SMS_TEST_TEMPLATE_ID" in response.content.decode()


def test_lead_records_customer_service_answer_and_closes(
    client: Client, lead: User, agent: User, make_case: Callable[..., Case]
) -> None:
    case = give_details(walk_to(make_case(), route_to(make_case().guide, "E_virtual_carrier"), agent), agent)
    escalation = Escalation.objects.get(case=case)
    url = f"/cases/{case.reference}/escalations/{escalation.pk}/answer/"
    client.force_login(agent)
    assert client.post(url, {"reference": "CS-1"}).status_code == 403

    client.force_login(lead)
    client.post(url, {"reference": "CS-2024-77", "answer": "Supported since May; resend.", "close": "on"})

    escalation.refresh_from_db()
    assert (escalation.provider_reference, escalation.provider_answer) == (
        "CS-2024-77",
        "Supported since May; resend.",
    )
    assert escalation.closed_at is not None
    assert "Customer service answered" in client.get(f"/cases/{case.reference}/?panels=all").content.decode()


def test_failed_escalation_email_is_retried_and_visible(
    agent: User, make_case: Callable[..., Case], settings: Settings
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    case = give_details(walk_to(make_case(), route_to(make_case().guide, "E_ported_number"), agent), agent)
    email = case.emails.get()

    assert outbox.deliver_pending() == 0
    email.refresh_from_db()
    assert email.sent_at is None and email.attempts == 1 and email.last_error
    assert Escalation.objects.get(case=case).sent_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.deliver_pending() == 1
    assert Escalation.objects.get(case=case).sent_at is not None


def test_email_preference_sends_resume_emails(client: Client, agent: User, waiting: Case) -> None:
    from diagnosis.cases import matching
    from tests.diagnosis.conftest import store_report

    client.force_login(agent)
    client.post("/preferences/", {"email_when_case_resumes": "on"})
    assert StaffPreference.objects.get(user=agent).email_when_case_resumes
    store_report(MSG_ID, "DELIVRD")

    matching.reports_arrived([MSG_ID])

    assert waiting.emails.filter(to=agent.email).count() == 1
    client.post("/notifications/read/")
    assert not agent.notifications.filter(read_at__isnull=True).exists()


@pytest.mark.parametrize("url", ["/notifications/read/", "/preferences/"])
def test_home_actions_need_login_and_post(client: Client, agent: User, url: str) -> None:
    assert client.post(url).status_code == 302 and "/accounts/login/" in client.post(url)["Location"]
    client.force_login(agent)
    assert client.get(url).status_code == 405

"""Through real HTTP and a real Celery worker: a test SMS leaves the portal, the simulated
platform pushes its report to the callback, and the waiting case resumes by itself."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from diagnosis.cases import services, testsms
from diagnosis.delivery import numbers
from diagnosis.huawei import simulator
from diagnosis.models import CaseState, StatusReport, TestMessage

pytestmark = pytest.mark.django_db(transaction=True)


def test_test_sms_report_arrives_over_http_on_the_test_panel_and_leaves_the_case_waiting(
    platform: simulator.SimulatorServer, celery_worker: object, agent: User, client: Client
) -> None:
    case = services.open_case(
        services.NewCase(
            "Kim",
            "kim@example.com",
            numbers=[numbers.normalise("+4915123456789")],
            msg_ids=["customer-message"],
            sent_at=timezone.now() - timedelta(hours=1),
        )
    )
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    services.answer_step(case.pk, node="report_returned", value="no_report", actor=agent)
    services.answer_step(case.pk, node="dial_recipient", value="no", actor=agent)
    client.force_login(agent)

    sent = client.post(
        f"/cases/{case.reference}/test-sms/",
        {"recipient": case.recipients.get().pk},
        headers={"HX-Request": "true"},
    )
    msg_id = TestMessage.objects.get(case=case).msg_id
    assert f"Test SMS sent (message id {msg_id})" in sent.content.decode()

    deadline = time.monotonic() + 30
    panel = ""
    while time.monotonic() < deadline and "The message delivered" not in panel:
        time.sleep(0.2)
        panel = client.get(f"/cases/{case.reference}/test-messages/").content.decode()
    assert "The message delivered" in panel and msg_id in panel
    report = StatusReport.objects.get(msg_id=msg_id)
    assert (report.status, report.channel, report.extend) == ("DELIVRD", "callback", case.reference)
    time.sleep(1)  # the worker has matched the report by now; it must not resume the customer's wait
    case.refresh_from_db()
    assert (case.state, case.current_node) == (CaseState.WAITING, "wait_review_hold")
    assert list(case.messages.values_list("msg_id", flat=True)) == ["customer-message"]
    assert case.events.filter(kind="test_sms").exists()


def test_a_refused_send_is_explained(platform: simulator.SimulatorServer, settings: Any, agent: User) -> None:
    settings.SMS_APP_SECRET = "wrong"
    case = services.open_case(
        services.NewCase("Kim", "kim@example.com", numbers=[numbers.normalise("+4915123456789")])
    )

    with pytest.raises(testsms.TestSmsError, match="refused the test message: E000101"):
        testsms.send_test_sms(case.pk, recipient_id=case.recipients.get().pk, actor=agent)
    assert not case.messages.exists() and not case.test_messages.exists()


def test_missing_configuration_is_explained(settings: Any, agent: User) -> None:
    settings.SMS_SENDER = ""
    case = services.open_case(
        services.NewCase("Kim", "kim@example.com", numbers=[numbers.normalise("+4915123456789")])
    )

    with pytest.raises(testsms.TestSmsError, match="SMS_SENDER and SMS_TEST_TEMPLATE_ID"):
        testsms.send_test_sms(case.pk, recipient_id=case.recipients.get().pk, actor=agent)

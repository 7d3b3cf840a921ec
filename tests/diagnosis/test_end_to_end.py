"""Through real HTTP and a real Celery worker: a test SMS leaves the portal, the simulated
platform pushes its report to the callback, and the waiting case resumes by itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from diagnosis import numbers, services, simulator, testsms
from diagnosis.models import CaseState, StatusReport

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform(settings: Any, live_server: Any) -> Iterator[simulator.SimulatorServer]:
    server = simulator.make_server(
        "127.0.0.1",
        0,
        app_key="e2e-key",
        app_secret="e2e-secret",
        rules=[simulator.Rule.parse("+4915=DELIVRD@0.2")],
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_API_URL = server.url
    settings.SMS_APP_KEY, settings.SMS_APP_SECRET = "e2e-key", "e2e-secret"
    settings.SMS_SENDER, settings.SMS_TEST_TEMPLATE_ID = "csms12345678", "e2e-template"
    settings.PORTAL_BASE_URL = live_server.url
    yield server
    server.shutdown()
    server.server_close()


def test_test_sms_report_arrives_over_http_and_resumes_the_case(
    platform: simulator.SimulatorServer, celery_worker: object, agent: User
) -> None:
    case = services.open_case(
        services.NewCase(
            "Kim",
            "kim@example.com",
            numbers=[numbers.normalise("+4915123456789")],
            sent_at=timezone.now() - timedelta(hours=1),
        )
    )
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    services.answer_step(case.pk, node="report_returned", value="no_report", actor=agent)
    services.answer_step(case.pk, node="dial_recipient", value="no", actor=agent)

    msg_id = testsms.send_test_sms(case.pk, recipient_id=case.recipients.get().pk, actor=agent)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        case.refresh_from_db()
        if case.state != CaseState.WAITING:
            break
        time.sleep(0.2)
    assert platform.sent and platform.pushed
    report = StatusReport.objects.get(msg_id=msg_id)
    assert (report.status, report.channel, report.extend) == ("DELIVRD", "callback", case.reference)
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    assert case.answers.get(node="wait_review_hold").evidence == "DELIVRD"
    assert agent.notifications.filter(case=case).exists()
    assert case.events.filter(kind="test_sms").exists()


def test_a_refused_send_is_explained(platform: simulator.SimulatorServer, settings: Any, agent: User) -> None:
    settings.SMS_APP_SECRET = "wrong"
    case = services.open_case(
        services.NewCase("Kim", "kim@example.com", numbers=[numbers.normalise("+4915123456789")])
    )

    with pytest.raises(testsms.TestSmsError, match="refused the test message: E000101"):
        testsms.send_test_sms(case.pk, recipient_id=case.recipients.get().pk, actor=agent)
    assert not case.messages.exists()


def test_missing_configuration_is_explained(settings: Any, agent: User) -> None:
    settings.SMS_SENDER = ""
    case = services.open_case(
        services.NewCase("Kim", "kim@example.com", numbers=[numbers.normalise("+4915123456789")])
    )

    with pytest.raises(testsms.TestSmsError, match="SMS_SENDER and SMS_TEST_TEMPLATE_ID"):
        testsms.send_test_sms(case.pk, recipient_id=case.recipients.get().pk, actor=agent)

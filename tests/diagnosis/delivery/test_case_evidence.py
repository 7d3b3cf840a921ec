"""Real callbacks into a case, then the case page's proposal: which reports are evidence.

Reports reach the portal through the callback view, are matched by the same
catch-up the beat runs, and the proposal is read off the agent's case page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from pytest_django import DjangoAssertNumQueries

from diagnosis.cases import matching, services
from diagnosis.models import Case, CaseState, StatusCode, StatusSource, TestMessage
from diagnosis.workspace.forms import status_code_choices
from tests.diagnosis.conftest import store_report, walk_to

NUMBER = "+4915123456789"
LONG = "long-sms-b"


@pytest.fixture
def source(db: None) -> StatusSource:
    return StatusSource.objects.create(name="huawei-eu")


@pytest.fixture
def agent_client(client: Client, agent: User) -> Client:
    client.force_login(agent)
    return client


def push(client: Client, source: StatusSource, *reports: dict[str, object]) -> None:
    """One JSON batch, as the platform pushes several reports at once."""
    body = json.dumps({"statusReportList": list(reports)})
    response = client.post(source.callback_path(), data=body, content_type="application/json")
    assert response.status_code == 200, response.content


def push_form(client: Client, source: StatusSource, report: dict[str, object]) -> None:
    body = urlencode(report)
    response = client.post(
        source.callback_path(), data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, response.content


def report(msg_id: str, status: str, sequence: int = 1, total: int = 1, **extra: object) -> dict[str, object]:
    return {
        "smsMsgId": msg_id,
        "status": status,
        "sequence": sequence,
        "total": total,
        "source": "2",
        **extra,
    }


def matched() -> None:
    matching.match_unmatched()


def proposal_on_page(client: Client, case: Case) -> tuple[str, str, str]:
    """(pre-selected answer, status code in the field, the suggestion's reason) on the case page."""
    html = client.get(f"/cases/{case.reference}/").content.decode()
    checked = re.search(r'<input type="radio" name="value" value="([^"]+)"[^>]*checked', html)
    code = re.search(r'<input type="text" name="evidence"[^>]*value="([^"]*)"', html)
    reason = re.search(r"Suggested from stored reports:</strong>(.*?)The suggestion", html, re.S)
    return (
        checked.group(1) if checked else "",
        code.group(1) if code else "",
        " ".join(reason.group(1).split()) if reason else "",
    )


def claimed(case: Case, agent: User) -> Case:
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    return case


# --- A long SMS counts from all of its parts ----------------------------------------------------

LONG_PARTS = [report(LONG, "DELIVRD", 1, 3), report(LONG, "DELIVRD", 2, 3), report(LONG, "UNDELIV", 3, 3)]


@pytest.mark.parametrize(
    "order", [(2, 0, 1), (0, 1, 2), (2, 1, 0)], ids=["failed-first", "in-order", "reversed"]
)
def test_a_long_sms_with_a_failed_part_is_not_delivered_over_single_callbacks(
    agent_client: Client,
    source: StatusSource,
    make_case: Callable[..., Case],
    agent: User,
    order: tuple[int, ...],
) -> None:
    case = claimed(make_case(msg_ids=(LONG,)), agent)
    for index in order:  # one form post each, none with updateTime
        push_form(agent_client, source, LONG_PARTS[index])

    assert proposal_on_page(agent_client, case)[:2] == ("report_present", "UNDELIV")
    services.answer_step(
        case.pk, node="report_returned", value="report_present", evidence="UNDELIV", actor=agent
    )
    value, code, reason = proposal_on_page(agent_client, case)
    assert (value, code) == ("number", "UNDELIV")
    assert "part 3 of 3 failed with UNDELIV" in reason


def test_a_long_sms_in_one_batch_without_update_times_waits_for_its_missing_part(
    agent_client: Client, source: StatusSource, make_case: Callable[..., Case], agent: User
) -> None:
    case = claimed(make_case(msg_ids=(LONG,)), agent)
    walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "no")], agent)
    push(agent_client, source, LONG_PARTS[1], LONG_PARTS[0])
    matched()

    case.refresh_from_db()
    assert case.state == CaseState.WAITING, "two of three parts are not a final status"
    page = agent_client.get(f"/cases/{case.reference}/?panels=all").content.decode()
    assert "no final report yet for part 3 of 3" in page

    push(agent_client, source, LONG_PARTS[2])
    matched()
    case.refresh_from_db()
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    assert proposal_on_page(agent_client, case)[:2] == ("number", "UNDELIV")


# --- The case's own messages decide; other messages to the number are context -------------------


def test_a_later_report_for_another_message_to_the_number_does_not_override_the_own_one(
    agent_client: Client, source: StatusSource, make_case: Callable[..., Case], agent: User
) -> None:
    case = claimed(make_case(msg_ids=("own-message",), number=NUMBER), agent)
    now = timezone.now()
    push(
        agent_client,
        source,
        report("own-message", "UNDELIV", to=NUMBER, updateTime=f"{now:%Y-%m-%dT%H:%M:%SZ}"),
    )
    later = now + timedelta(minutes=5)
    push(
        agent_client,
        source,
        report("other-message", "DELIVRD", to=NUMBER, updateTime=f"{later:%Y-%m-%dT%H:%M:%SZ}"),
    )
    matched()

    assert proposal_on_page(agent_client, case)[:2] == ("report_present", "UNDELIV")
    page = agent_client.get(f"/cases/{case.reference}/?panels=all").content.decode()
    own, context = page.split("Other messages to these numbers around the send time", 1)
    assert "own-message" in own.split('id="reports"', 1)[1] and "other-message" not in own
    assert "other-message" in context.split("</section>", 1)[0]


def test_a_case_without_message_ids_is_proposed_from_its_number_and_says_so(
    agent_client: Client, source: StatusSource, make_case: Callable[..., Case], agent: User
) -> None:
    case = claimed(make_case(msg_ids=(), number=NUMBER, sent_ago=timedelta(hours=2)), agent)
    sent = timezone.now() - timedelta(hours=2)
    long_before = sent - timedelta(days=10)
    push(
        agent_client,
        source,
        report("old-traffic", "UNDELIV", to=NUMBER, updateTime=f"{long_before:%Y-%m-%dT%H:%M:%SZ}"),
        report("around-the-send", "DELIVRD", to=NUMBER, updateTime=f"{sent:%Y-%m-%dT%H:%M:%SZ}"),
    )

    value, code, reason = proposal_on_page(agent_client, case)
    assert (value, code) == ("report_present", "DELIVRD")
    assert "matched only by the recipient number" in reason
    page = agent_client.get(f"/cases/{case.reference}/?panels=all").content.decode()
    assert "around-the-send" in page and "old-traffic" not in page


# --- The agent's own test SMS is never the customer's evidence ------------------------------------


def test_a_test_sms_report_does_not_join_the_case_nor_drive_its_proposal(
    agent_client: Client, source: StatusSource, make_case: Callable[..., Case], agent: User
) -> None:
    case = claimed(make_case(msg_ids=("customer-message",), number=NUMBER), agent)
    walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "no")], agent)
    # What `testsms.send_test_sms` records once the platform accepted the message.
    TestMessage.objects.create(case=case, msg_id="agent-test", recipient=case.recipients.get(), sent_by=agent)
    push(agent_client, source, report("agent-test", "DELIVRD", to=NUMBER, extend=case.reference))
    matched()

    case.refresh_from_db()
    assert case.state == CaseState.WAITING, "the agent's test must not end the customer's wait"
    assert list(case.messages.values_list("msg_id", flat=True)) == ["customer-message"]
    page = agent_client.get(f"/cases/{case.reference}/?panels=all").content.decode()
    reports_card = page.split('id="reports"', 1)[1].split("</section>", 1)[0]
    assert "agent-test" not in reports_card
    panel = agent_client.get(f"/cases/{case.reference}/test-messages/").content.decode()
    assert "agent-test" in panel and "The message delivered" in panel
    assert "every 3s" not in panel, "a settled panel stops polling (it still refreshes when the case changes)"


def test_a_test_sms_report_never_pre_selects_c1(
    agent_client: Client, source: StatusSource, make_case: Callable[..., Case], agent: User
) -> None:
    case = claimed(make_case(msg_ids=(), number=NUMBER), agent)
    TestMessage.objects.create(case=case, msg_id="agent-test", recipient=case.recipients.get(), sent_by=agent)
    push(agent_client, source, report("agent-test", "DELIVRD", to=NUMBER))

    value, _, reason = proposal_on_page(agent_client, case)
    assert value == "no_report", reason


@pytest.mark.django_db(transaction=True)
def test_test_sms_that_joined_message_ids_before_the_upgrade_are_moved_apart() -> None:
    before = [("diagnosis", "0012_status_report_matched_at")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    case = old.get_model("diagnosis", "Case").objects.create(
        reference="SMS-OLD234", tracking_token="t" * 40, reporter_name="R", reporter_email="r@example.com"
    )
    number = old.get_model("diagnosis", "Recipient").objects.create(case=case, e164=NUMBER)
    messages = old.get_model("diagnosis", "Message").objects
    messages.create(case=case, msg_id="customer-message")
    messages.create(case=case, msg_id="agent-test_1.2", recipient=number)
    text = f"Test SMS sent to {NUMBER}; message id agent-test_1.2."
    old.get_model("diagnosis", "Event").objects.create(
        case=case, kind="test_sms", summary=text, data={"text": text}
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Case.objects.get(reference="SMS-OLD234")
    assert list(moved.messages.values_list("msg_id", flat=True)) == ["customer-message"]
    test = moved.test_messages.get()
    assert test.recipient is not None
    assert (test.msg_id, test.recipient.e164) == ("agent-test_1.2", NUMBER)


def test_case_page_and_test_panel_keep_their_query_counts_as_reports_and_tests_grow(
    agent_client: Client,
    make_case: Callable[..., Case],
    agent: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    case = claimed(make_case(msg_ids=("own-message",), number=NUMBER), agent)
    recipient = case.recipients.get()

    def add(i: int) -> None:
        store_report("own-message", "DELIVRD", sequence=i + 1, total=50, to_number=NUMBER)
        store_report(f"other-{i}", "DELIVRD", to_number=NUMBER)
        TestMessage.objects.create(case=case, msg_id=f"test-{i}", recipient=recipient, sent_by=agent)
        store_report(f"test-{i}", "DELIVRD", to_number=NUMBER)

    add(0)
    status_code_choices()  # the catalogue is read once per process, not in either count
    agent_client.get(f"/cases/{case.reference}/")  # the navigation's reply count, cached per agent
    with CaptureQueriesContext(connection) as small_page:
        agent_client.get(f"/cases/{case.reference}/")
    with CaptureQueriesContext(connection) as small_panel:
        agent_client.get(f"/cases/{case.reference}/test-messages/")
    for i in range(1, 30):
        add(i)
    # The counts measured when these ceilings were set: a new query per page must be a choice.
    with django_assert_max_num_queries(11), CaptureQueriesContext(connection) as large_page:
        page = agent_client.get(f"/cases/{case.reference}/")
    with django_assert_max_num_queries(9), CaptureQueriesContext(connection) as large_panel:
        agent_client.get(f"/cases/{case.reference}/test-messages/")

    file = page.context["file"]
    assert (len(file.reports), len(file.number_reports), len(file.tests)) == (30, 30, 30)
    assert len(small_page) == len(large_page), [q["sql"] for q in large_page.captured_queries]
    assert len(small_panel) == len(large_panel), [q["sql"] for q in large_panel.captured_queries]


def test_the_reports_table_names_message_part_number_status_channel_and_both_times(
    agent_client: Client, source: StatusSource, make_case: Callable[..., Case], agent: User
) -> None:
    case = claimed(make_case(msg_ids=("first-id", "second-id"), number=NUMBER), agent)
    push(
        agent_client,
        source,
        report("first-id", "DELIVRD", 2, 3, to=NUMBER, updateTime="2026-11-20T08:00:05Z"),
        report("second-id", "UNDELIV", to=NUMBER),
    )

    page = agent_client.get(f"/cases/{case.reference}/?panels=all").content.decode()
    table = page.split('id="reports"', 1)[1].split("</table>", 1)[0]
    headers = re.findall(r'<th scope="col">([^<]+)</th>', table)
    assert headers == ["Message id", "Part", "Number", "Status", "Channel", "Times"]
    rows = table.split('<tr class="report-row">')[1:]
    first = next(row for row in rows if "first-id" in row)
    assert "2/3" in first and NUMBER in first and "DELIVRD" in first
    assert escape(StatusCode.objects.get(code="DELIVRD").summary) in first
    assert "Status-report callback" in first and "SMS center (carrier)" in first
    assert "Updated <time" in first and "2026-11-20 08:00:05 UTC" in first
    assert re.search(r"Received <time[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>", first)
    second = next(row for row in rows if "second-id" in row)
    assert "1/1" in second and "(no update time)" in second

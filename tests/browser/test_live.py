"""Open pages update by themselves: a status report, a customer's message, a notification.

Each test marks the window after the page loads; the mark surviving proves the page was
never reloaded.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from diagnosis.cases import matching, services
from diagnosis.models import Case, CaseState, StatusSource
from diagnosis.support import tickets
from tests.browser.test_workspace import sign_in
from tests.diagnosis.conftest import MSG_ID, walk_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WITHIN = 10_000  # ms: what the page promises


@pytest.fixture(autouse=True)
def _quick_polls(settings: Any) -> None:
    settings.LIVE_UPDATE_SECONDS = 1


@pytest.fixture
def waiting(make_case: Callable[..., Case], agent: User) -> Case:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    case = walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "no")], agent)
    assert case.state == CaseState.WAITING
    return case


def push_report(live_server: Any, msg_id: str, status: str) -> None:
    """What the SMS platform does: POST the report to the callback, then beat's matcher runs."""
    source = StatusSource.objects.create(name=f"live-{msg_id}")
    body = f"sequence=1&total=1&smsMsgId={msg_id}&status={status}&updateTime=2026-11-20T08%3A00%3A05Z"
    request = urllib.request.Request(
        live_server.url + source.callback_path(),
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the test's own server
        assert answer.status == 200
    assert matching.match_unmatched() == 1


def open_marked(page: Page, path: str) -> None:
    page.goto(path)
    page.evaluate("window.__noReload = true")


def test_a_waiting_case_page_shows_the_report_and_resumes_without_a_reload(
    page: Page, live_server: Any, agent: User, waiting: Case
) -> None:
    sign_in(page, agent)
    open_marked(page, f"/cases/{waiting.reference}/")
    expect(page.locator("#case-state")).to_have_text("Waiting for report")
    expect(page.locator("#step-panel")).to_contain_text("Deadline")
    expect(page.locator("#reports")).not_to_contain_text("DELIVRD")

    push_report(live_server, MSG_ID, "DELIVRD")

    expect(page.locator("#case-state")).to_have_text("In progress", timeout=WITHIN)
    expect(page.locator("#step-panel")).not_to_contain_text("Deadline", timeout=WITHIN)
    expect(page.locator("#reports")).to_contain_text("DELIVRD", timeout=WITHIN)
    expect(page.locator("#case-live")).to_contain_text("a status report arrived")
    assert page.evaluate("window.__noReload") is True, "the page reloaded instead of updating itself"


def test_a_customer_message_shows_up_and_a_half_written_note_is_kept(
    page: Page, agent: User, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    sign_in(page, agent)
    open_marked(page, f"/cases/{case.reference}/")
    expect(page.locator("#timeline")).to_contain_text("Case opened")
    note = page.locator("#note-form textarea")
    note.fill("Console shows nothing yet, ask the")
    page.locator("h1").click()  # the note box loses focus: only its text marks it as being written

    tickets.add_customer_message(case.pk, "The code never came")

    expect(page.locator("#conversation")).to_contain_text("The code never came", timeout=WITHIN)
    expect(page.locator("#case-live")).to_contain_text("the customer wrote")
    expect(note).to_have_value("Console shows nothing yet, ask the")
    assert page.evaluate("window.__noReload") is True


def test_the_home_page_notifications_update_without_a_reload(
    page: Page, live_server: Any, agent: User, waiting: Case
) -> None:
    sign_in(page, agent)
    page.evaluate("window.__noReload = true")
    notifications = page.locator("#notifications")
    expect(notifications).to_contain_text("Nothing new")

    push_report(live_server, MSG_ID, "DELIVRD")  # resumes the case: its agent is told

    expect(notifications).to_contain_text(f"{waiting.reference} resumed", timeout=WITHIN)
    expect(page.locator("#notifications-status")).to_contain_text("1 unread update on your cases")
    assert page.evaluate("window.__noReload") is True


def test_the_agents_own_change_renews_the_token_without_a_second_refresh(
    page: Page, agent: User, make_case: Callable[..., Case], settings: Any
) -> None:
    settings.LIVE_UPDATE_SECONDS = 600  # no timed asks: only the ones this test causes
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    sign_in(page, agent)
    open_marked(page, f"/cases/{case.reference}/")
    expect(page.locator("#timeline")).to_contain_text("Case opened")

    with page.expect_response(lambda r: "/changes/" in r.url and "quiet=1" in r.url) as asked:
        page.locator("#note-form textarea").fill("Asked the customer to restart the phone")
        page.get_by_role("button", name="Add note").click()
    answer = asked.value
    assert answer.status == 200 and "hx-trigger" not in answer.headers
    expect(page.locator("#timeline")).to_contain_text("Asked the customer to restart the phone")

    # The renewed token is current: the next ask finds nothing new.
    with page.expect_response(lambda r: "/changes/" in r.url and "quiet=1" not in r.url) as later:
        page.evaluate("htmx.trigger('#case-live', 'live-check')")
    assert later.value.status == 204
    expect(page.locator("#case-live")).not_to_contain_text("Updated at")
    assert page.evaluate("window.__noReload") is True

"""An agent works seeded cases from the queue to their end with real clicks in Chromium.

Each test marks the window object after the case page loads; the mark surviving
proves the next step arrived by an htmx swap, not by a full page load.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import APIResponse, Page, Route, expect

from diagnosis.models import Case, CaseState
from tests.diagnosis.conftest import MSG_ID, store_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill("pw-" + user.get_username())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def claim_from_queue(page: Page, case: Case) -> None:
    page.goto("/cases/")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=case.reference))
    row.get_by_role("button", name="Claim").click()
    page.wait_for_url(f"**/cases/{case.reference}/")
    expect(page.get_by_text(f"You claimed {case.reference}.")).to_be_visible()
    page.evaluate("window.__noReload = true")


def answer(page: Page, option: str, next_heading: str) -> None:
    page.get_by_label(option, exact=True).check()
    page.get_by_role("button", name="Record answer").click()
    heading = page.locator("#step-heading")
    expect(heading).to_have_text(next_heading)
    expect(heading).to_be_focused()
    assert page.evaluate("window.__noReload") is True, "the page reloaded instead of swapping the step"


@pytest.fixture
def seeded(page: Page, agent: User, make_case: Callable[..., Case]) -> Callable[..., Case]:
    """Seed a case (with a stored report when given a status), sign in and claim it from the queue."""

    def start(status: str = "") -> Case:
        case = make_case()
        if status:
            store_report(MSG_ID, status)
        sign_in(page, agent)
        claim_from_queue(page, case)
        return case

    return start


def test_no_report_then_dial_yes_waits(page: Page, seeded: Callable[..., Case]) -> None:
    case = seeded()

    answer(
        page,
        "No final report yet",
        "Call the recipient: is the number dead, suspended, or the phone switched off?",
    )
    answer(
        page,
        "Yes: dead, suspended or switched off",
        "Waiting for the report: the phone is off or out of service",
    )

    expect(page.locator("#step-panel")).to_contain_text("Deadline")
    expect(page.locator("#case-state")).to_have_text("Waiting for report")
    expect(page.locator("#path-panel")).to_contain_text("Yes: dead, suspended or switched off")
    case.refresh_from_db()
    assert case.state == CaseState.WAITING


def test_delivered_then_phone_checks_reach_a_resolution(page: Page, seeded: Callable[..., Case]) -> None:
    seeded("DELIVRD")

    # Stored reports pre-select the answers to C1 and C3.
    expect(page.get_by_label("Yes, a final report is there", exact=True)).to_be_checked()
    answer(page, "Yes, a final report is there", "Is the report's status DELIVRD?")
    expect(page.get_by_label("Yes: DELIVRD", exact=True)).to_be_checked()
    answer(page, "Yes: DELIVRD", "Is the message in a junk, spam or blocked-messages folder?")
    answer(page, "No", "Does the phone have signal and receive other SMS?")
    answer(page, "Yes: signal is fine and other SMS arrive", "Is the message inbox full?")
    answer(page, "Yes: it was full, now cleared", "The inbox was full")

    expect(page.locator("#case-state")).to_have_text("Resolved")
    reply = page.get_by_label("Reply to the customer")
    expect(reply).to_have_value(
        "The phone's message storage was full. Now that it has space, messages arrive again."
    )
    reply.fill("Your inbox was full; after clearing it the code arrives again.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#conversation")).to_contain_text("Your inbox was full")
    assert page.evaluate("window.__noReload") is True


def test_limit_code_escalates_with_the_package(page: Page, seeded: Callable[..., Case]) -> None:
    seeded("LIMIT")

    answer(page, "Yes, a final report is there", "Is the report's status DELIVRD?")
    expect(page.get_by_label("No: a sending-rate or quota limit", exact=True)).to_be_checked()
    answer(page, "No: a sending-rate or quota limit", "Did the message hit a sending-rate or quota limit?")
    answer(page, "Yes: a rate or quota limit", "Sending frequency limit reached")

    expect(page.locator("#case-state")).to_have_text("Escalated")
    expect(page.locator("#step-panel")).to_contain_text("Package for customer service")
    expect(page.locator("#step-panel")).to_contain_text("LIMIT")


def test_a_ported_number_is_escalated_once_its_details_are_given(
    page: Page, seeded: Callable[..., Case]
) -> None:
    case = seeded("UNDELIV")

    answer(page, "Yes, a final report is there", "Is the report's status DELIVRD?")
    answer(page, "No: the number failed or timed out", "Call the number: is it dead or suspended?")
    answer(page, "No: the number is in service", "Was the number ported in from another carrier?")
    answer(page, "Yes: ported from another carrier", "Ported number")

    expect(page.locator("#case-state")).to_have_text("In progress")
    page.get_by_role("button", name="Send to customer service").click()
    expect(page.locator("#step-panel")).to_contain_text(
        "Give the current carrier: customer service needs it."
    )
    page.get_by_label("Current carrier").fill("Telekom")
    page.get_by_label("Porting date").fill("2026-11-02")
    page.get_by_role("button", name="Send to customer service").click()

    expect(page.locator("#case-state")).to_have_text("Escalated")
    expect(page.locator("#step-panel")).to_contain_text("Current carrier: Telekom")
    assert page.evaluate("window.__noReload") is True
    case.refresh_from_db()
    assert case.state == CaseState.ESCALATED


def test_failure_code_then_iot_card_is_not_supported(page: Page, seeded: Callable[..., Case]) -> None:
    seeded("E200024")

    answer(page, "Yes, a final report is there", "Is the report's status DELIVRD?")
    answer(
        page,
        "No: this number or destination is not supported",
        "Does the number belong to an IoT (machine) SIM card?",
    )
    answer(page, "Yes: an IoT card", "IoT card: SMS not supported")

    expect(page.locator("#case-state")).to_have_text("Resolved")


def test_revising_an_earlier_answer_takes_another_branch(page: Page, seeded: Callable[..., Case]) -> None:
    case = seeded()
    answer(
        page,
        "No final report yet",
        "Call the recipient: is the number dead, suspended, or the phone switched off?",
    )

    page.get_by_role("link", name="Change answer to C1").click()
    expect(page.locator("#step-heading")).to_have_text("Change the answer to C1")
    expect(page.locator("#step-panel")).to_contain_text("No later step depends on this answer.")
    page.get_by_label("Yes, a final report is there", exact=True).check()
    page.get_by_role("button", name="Save the new answer").click()

    expect(page.locator("#step-heading")).to_have_text("Is the report's status DELIVRD?")
    # The old answer stays visible, struck through, in the swapped-in path and timeline.
    expect(page.locator("#path-panel del")).to_contain_text("No final report yet")
    expect(page.locator("#path-panel")).to_contain_text("Replaced by Avery on")
    expect(page.locator("#timeline .event-replaced del")).to_contain_text("C1")
    expect(page.locator("#timeline .event-replaced")).to_contain_text("Replaced by Avery on")
    assert page.evaluate("window.__noReload") is True
    case.refresh_from_db()
    assert case.current_node == "status_is_delivrd"


def test_a_blank_note_shows_its_error_in_the_note_form_and_keeps_the_step(
    page: Page, seeded: Callable[..., Case]
) -> None:
    seeded()
    heading = "Did a final status report come back for this message?"
    expect(page.locator("#step-heading")).to_have_text(heading)

    note = page.locator("#note-form")
    note.get_by_role("textbox").fill("   ")
    note.get_by_role("button", name="Add note").click()

    expect(note).to_contain_text("This field is required.")
    expect(page.locator("#step-heading")).to_have_text(heading)
    expect(page.get_by_role("button", name="Record answer")).to_be_visible()
    assert page.evaluate("window.__noReload") is True


def test_a_panel_still_loading_when_the_case_changes_refreshes_once_it_is_in(
    page: Page, agent: User, make_case: Callable[..., Case]
) -> None:
    """The timeline's first load is answered before a claim and arrives after it: it must not stay stale."""
    case = make_case()
    held: list[tuple[Route, APIResponse]] = []

    def hold_first_timeline(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))  # the timeline as it was before the claim

    page.route(f"**/cases/{case.reference}/part/timeline/", hold_first_timeline)
    sign_in(page, agent)
    page.goto(f"/cases/{case.reference}/")
    page.locator("#case-header").get_by_role("button", name="Claim this case").click()
    expect(page.locator("#case-header")).to_contain_text("Assigned to: Avery")
    assert len(held) == 1
    route, before_claim = held[0]
    route.fulfill(response=before_claim)

    expect(page.locator("#timeline")).to_contain_text("Assigned to Avery")


def test_claiming_on_the_case_page_refreshes_the_other_regions(
    page: Page, agent: User, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    sign_in(page, agent)
    page.goto(f"/cases/{case.reference}/")
    page.evaluate("window.__noReload = true")
    expect(page.locator("#step-panel")).to_contain_text("Claim this case to answer its steps.")

    page.locator("#case-header").get_by_role("button", name="Claim this case").click()

    expect(page.get_by_text(f"You claimed {case.reference}.")).to_be_visible()
    expect(page.locator("#case-header")).to_contain_text("Assigned to: Avery")
    # The case-changed event brought the regions that depend on who may work the case.
    expect(page.get_by_role("button", name="Record answer")).to_be_visible()
    expect(page.locator("#reply-form").get_by_role("button", name="Send reply")).to_be_visible()
    expect(page.locator("#delivery-checks")).to_contain_text("Delivery checks")
    expect(page.locator("#timeline")).to_contain_text("Assigned to Avery")
    page.locator("#note-form").get_by_label("Internal note").fill("Called the customer back")
    page.locator("#note-form").get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline")).to_contain_text("Called the customer back")
    expect(page.locator("#note-form").get_by_label("Internal note")).to_have_value("")
    assert page.evaluate("window.__noReload") is True


def test_a_region_asked_again_while_it_loads_ends_with_the_latest_state(
    page: Page, agent: User, make_case: Callable[..., Case]
) -> None:
    from diagnosis.cases import services

    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    sign_in(page, agent)
    page.goto(f"/cases/{case.reference}/?panels=all")
    held: list[tuple[Route, APIResponse]] = []

    def hold_the_first(route: Route) -> None:
        if held:
            route.continue_()
        else:  # answered now, before the note, and handed to the page only after it
            held.append((route, route.fetch()))

    def timeline_part(url: str) -> bool:
        return f"/cases/{case.reference}/part/timeline/" in url

    page.route(timeline_part, hold_the_first)
    page.evaluate("htmx.trigger(document.getElementById('timeline'), 'case-region-stale')")
    expect(page.locator("#timeline.htmx-request")).to_have_count(1)
    page.locator("#note-form").get_by_label("Internal note").fill("Left a voicemail")
    page.locator("#note-form").get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status").filter(has_text="Note added")).to_be_visible()
    route, stale = held[0]
    with contextlib.suppress(Exception):  # the page may have dropped the stale request already
        route.fulfill(response=stale)

    expect(page.locator("#timeline")).to_contain_text("Left a voicemail")


def reach_the_ported_number_panel(page: Page, seeded: Callable[..., Case]) -> Case:
    case = seeded("UNDELIV")
    answer(page, "Yes, a final report is there", "Is the report's status DELIVRD?")
    answer(page, "No: the number failed or timed out", "Call the number: is it dead or suspended?")
    answer(page, "No: the number is in service", "Was the number ported in from another carrier?")
    answer(page, "Yes: ported from another carrier", "Ported number")
    return case


MISSING_CARRIER = "Give the current carrier: customer service needs it."


def hold_into(held: dict[str, tuple[Route, APIResponse]], name: str) -> Callable[[Route], None]:
    """A route handler that lets the server answer now and keeps the answer from the page."""

    def handler(route: Route) -> None:
        held[name] = (route, route.fetch())

    return handler


def wait_until_held(page: Page, held: dict[str, tuple[Route, APIResponse]], name: str) -> None:
    for _ in range(500):
        if name in held:
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"the {name} request never reached the server")


def live_change(page: Page, case: Case) -> None:
    """What the poller does when someone else changed the case; returns once the regions asked."""
    with page.expect_response(f"**/cases/{case.reference}/part/timeline/"):
        page.evaluate(
            "document.body.dispatchEvent("
            "new CustomEvent('case-changed', {bubbles: true, detail: {live: true}}))"
        )


def test_a_live_change_while_a_form_is_sent_keeps_the_form_s_answer(
    page: Page, seeded: Callable[..., Case]
) -> None:
    case = reach_the_ported_number_panel(page, seeded)
    held: dict[str, tuple[Route, APIResponse]] = {}
    page.route(f"**/cases/{case.reference}/escalate/", hold_into(held, "sent"))
    page.get_by_role("button", name="Send to customer service").click()
    expect(page.locator("#step-panel form.htmx-request")).to_have_count(1)
    wait_until_held(page, held, "sent")

    # The other regions fetch themselves again; the step panel, whose answer is on its way,
    # must not start a fetch that would drop that answer.
    live_change(page, case)
    route, response = held["sent"]
    with contextlib.suppress(Exception):  # a page that dropped the request has nothing to take
        route.fulfill(response=response)

    expect(page.locator("#step-panel")).to_contain_text(MISSING_CARRIER)
    assert page.evaluate("window.__noReload") is True


def test_a_form_sent_while_its_region_refreshes_is_answered_by_the_form(
    page: Page, seeded: Callable[..., Case]
) -> None:
    case = reach_the_ported_number_panel(page, seeded)
    held: dict[str, tuple[Route, APIResponse]] = {}
    page.route(f"**/cases/{case.reference}/part/step-panel/", hold_into(held, "refresh"))
    page.evaluate("htmx.trigger(document.getElementById('step-panel'), 'case-region-stale')")
    expect(page.locator("#step-panel.htmx-request")).to_have_count(1)
    wait_until_held(page, held, "refresh")
    page.get_by_role("button", name="Send to customer service").click()
    expect(page.locator("#step-panel")).to_contain_text(MISSING_CARRIER)

    route, response = held["refresh"]
    with contextlib.suppress(Exception):  # the form's request replaced it: nothing to take
        route.fulfill(response=response)
    expect(page.locator("#step-panel.htmx-request")).to_have_count(0)
    expect(page.locator("#step-panel")).to_contain_text(MISSING_CARRIER)


def test_a_live_change_does_not_wipe_the_errors_the_agent_is_reading(
    page: Page, seeded: Callable[..., Case]
) -> None:
    case = reach_the_ported_number_panel(page, seeded)
    page.get_by_role("button", name="Send to customer service").click()
    expect(page.locator("#step-panel")).to_contain_text(MISSING_CARRIER)

    page.evaluate("document.activeElement && document.activeElement.blur()")
    step_refreshes: list[str] = []
    page.on("request", lambda r: step_refreshes.append(r.url) if "/part/step-panel/" in r.url else None)
    live_change(page, case)
    expect(page.locator("#step-panel")).to_contain_text(MISSING_CARRIER)
    assert step_refreshes == []


def test_a_region_changed_while_its_form_was_sent_fetches_itself_once_answered(
    page: Page, seeded: Callable[..., Case]
) -> None:
    case = seeded("UNDELIV")
    held: dict[str, tuple[Route, APIResponse]] = {}
    page.route(f"**/cases/{case.reference}/step/", hold_into(held, "sent"))
    page.get_by_label("Yes, a final report is there", exact=True).check()
    page.get_by_role("button", name="Record answer").click()
    wait_until_held(page, held, "sent")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/part/step-panel/" in r.url else None)
    live_change(page, case)
    assert asked == [], "the panel asked for itself while its answer was on its way"

    # The answer may predate the change the poller saw: the panel asks again once it is in.
    route, response = held["sent"]
    with page.expect_response(f"**/cases/{case.reference}/part/step-panel/"):
        route.fulfill(response=response)
    expect(page.locator("#step-heading")).to_have_text("Is the report's status DELIVRD?")
    assert page.evaluate("window.__noReload") is True


def test_a_change_seen_while_a_region_settles_in_is_not_lost(page: Page, seeded: Callable[..., Case]) -> None:
    # htmx hears events on swapped-in content only once it has settled; a long settle makes
    # the window wide enough to hit every time.
    case = seeded("UNDELIV")
    timeline = f"**/cases/{case.reference}/part/timeline/"
    # Every panel in and settled first.
    expect(page.locator(".lazy-panel, [data-case-region].htmx-added")).to_have_count(0)
    page.evaluate("htmx.config.defaultSettleDelay = 1500")
    with page.expect_response(timeline):
        page.evaluate("htmx.trigger(document.getElementById('timeline'), 'case-region-stale')")
    expect(page.locator("#timeline.htmx-added")).to_have_count(1)
    with page.expect_response(timeline, timeout=5000):
        page.evaluate(
            "document.body.dispatchEvent("
            "new CustomEvent('case-changed', {bubbles: true, detail: {live: true}}))"
        )


def test_a_refresh_that_lands_after_the_agent_began_answering_is_set_aside(
    page: Page, seeded: Callable[..., Case]
) -> None:
    case = seeded("UNDELIV")
    held: dict[str, tuple[Route, APIResponse]] = {}
    page.route(f"**/cases/{case.reference}/part/step-panel/", hold_into(held, "refresh"))
    page.evaluate("htmx.trigger(document.getElementById('step-panel'), 'case-region-stale')")
    wait_until_held(page, held, "refresh")

    # Asked while nobody was in the panel; by the time it is back, the agent has gone into it
    # with the keyboard and picked another answer than the one the portal suggested.
    chosen = page.get_by_label("No final report yet", exact=True)
    chosen.focus()
    page.keyboard.press("Space")
    expect(chosen).to_be_checked()
    route, response = held["refresh"]
    route.fulfill(response=response)
    expect(page.locator("#step-panel.htmx-request")).to_have_count(0)
    expect(chosen).to_be_focused()
    expect(chosen).to_be_checked()
    page.get_by_role("button", name="Record answer").click()
    expect(page.locator("#step-heading")).to_have_text(
        "Call the recipient: is the number dead, suspended, or the phone switched off?"
    )

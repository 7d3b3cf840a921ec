"""A customer files a ticket in Chromium, follows the private link and answers; the agent sees it."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import ConsoleMessage, Page, Request, expect

from diagnosis.cases import services
from diagnosis.delivery import numbers
from diagnosis.models import REFERENCE_PATTERN, Case, Deflection, EventKind, TrackingLink
from diagnosis.support import tickets
from tests.browser.test_workspace import sign_in
from tests.diagnosis.conftest import MSG_ID, store_report, tracking_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_files_follows_and_answers_then_agent_sees_it(
    page: Page, browser: Any, live_server: Any, agent: User
) -> None:
    page.goto("/")
    page.get_by_role("link", name="Report a missing SMS").click()
    page.get_by_label("Your name").fill("Rosa Lima")
    page.get_by_label("Your email").fill("rosa@example.com")
    numbers = page.get_by_label("Recipient phone numbers")
    numbers.fill("+49 1")
    numbers.blur()
    expect(page.locator("#field-numbers")).to_contain_text(
        "This number is too short."
    )  # checked inline as she types
    page.get_by_label("Recipient phone numbers").fill("+49 151 23456789\n+1 415 555 0123")
    page.get_by_label("What happened?").fill("The login code did not arrive on either phone.")
    page.get_by_role("button", name="File my ticket").click()

    expect(page.get_by_text(re.compile(f"Your ticket {REFERENCE_PATTERN} is filed"))).to_be_visible()
    case = Case.objects.get()
    assert sorted(case.recipients.values_list("e164", flat=True)) == ["+14155550123", "+4915123456789"]
    tracking_url = page.url.split("?")[0]
    assert TrackingLink.find_case(tracking_url.rstrip("/").rsplit("/", 1)[1]) == case

    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    services.send_reply(case.pk, text="Did the phone have signal at the time?", actor=agent)

    customer = browser.new_context(base_url=live_server.url).new_page()
    customer.goto(tracking_url)
    expect(customer.get_by_text("Did the phone have signal at the time?")).to_be_visible()
    expect(customer.get_by_text("Avery from support")).to_be_visible()
    customer.get_by_label("Your answer or new information").fill("Yes, full signal, other texts arrived.")
    customer.get_by_role("button", name="Send").click()
    expect(customer.locator("#conversation")).to_contain_text("Yes, full signal, other texts arrived.")

    sign_in(page, agent)
    # The agent's queue marks the case, and the navigation counts it, until they open it.
    page.goto("/cases/?tab=mine")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=case.reference))
    expect(row).to_contain_text("Customer replied")
    expect(page.get_by_role("link", name="Case queue 1 new customer reply")).to_be_visible()
    row.get_by_role("link", name=case.reference).click()
    expect(page.locator("#conversation")).to_contain_text("Yes, full signal, other texts arrived.")
    expect(page.locator("#conversation")).to_contain_text("Rosa Lima")
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Case queue", exact=True)
    ).to_be_visible()
    expect(page.locator("#timeline")).not_to_contain_text("Yes, full signal, other texts arrived.")
    page.goto("/cases/?tab=mine")
    expect(page.get_by_role("row").filter(has_text=case.reference)).not_to_contain_text("Customer replied")


def test_a_self_help_check_is_answered_in_place_and_the_ticket_keeps_its_fields(page: Page) -> None:
    store_report(MSG_ID, "DELIVRD")
    problems: list[str] = []
    answers: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Refused" in message.text:
            problems.append(message.text)

    def on_request(request: Request) -> None:
        if "/self-help/" in request.url:
            answers.append(request.post_data or "")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", on_request)
    page.goto("/support/new/")
    page.get_by_label("Your name").fill("Rosa Lima")
    page.get_by_label("Recipient phone numbers").fill("+49 151 23456789")
    msg_ids = page.get_by_label("Message ids (smsMsgId)")
    msg_ids.fill(MSG_ID)
    msg_ids.blur()
    self_help = page.locator("#self-help")
    expect(self_help).to_contain_text("reached the phone")
    page.evaluate("window.__noReload = true")

    self_help.get_by_role("button", name=re.compile("^No")).click()
    expect(self_help.get_by_role("status")).to_contain_text("signal")
    self_help.get_by_role("button", name=re.compile("^No")).click()

    expect(self_help).to_contain_text("That explains it.")
    assert page.evaluate("window.__noReload") is True, "the answer should come without a reload"
    expect(page.get_by_label("Your name")).to_have_value("Rosa Lima")
    expect(page.get_by_label("Recipient phone numbers")).to_have_value("+49 151 23456789")
    expect(page.locator(".error-summary, .field-error")).to_have_count(0)
    expect(page.get_by_text("This field is required")).to_have_count(0)
    self_help.get_by_role("link", name="Still missing? File the ticket.").click()
    expect(page).to_have_url(re.compile("#ticket-details$"))
    assert Deflection.objects.get().solved_by == "signal"
    assert problems == [], "no script error and nothing the content security policy refused"
    # Each answer posted the message ids and the answers, not the ticket.
    assert len(answers) == 2 and all("selfhelp=" in a and "msg_ids=" in a for a in answers)
    assert not any("Rosa" in a or "numbers=" in a for a in answers)


def test_the_time_zone_defaults_to_the_browsers(browser: Any, live_server: Any) -> None:
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Shanghai")
    try:
        page = context.new_page()
        page.goto("/support/new/")
        expect(page.get_by_label("Time zone of that time")).to_have_value("Asia/Shanghai")
    finally:
        context.close()


def test_a_message_from_the_tracking_page_is_confirmed_and_the_box_cleared(page: Page) -> None:
    case = open_ticket()
    page.goto(tracking_path(case))
    box = page.get_by_label("Your answer or new information")
    box.fill("It arrived on the second phone only.")
    page.get_by_role("button", name="Send").dblclick()

    expect(page.get_by_role("status").filter(has_text="Your message is sent.")).to_be_visible()
    expect(page.get_by_label("Your answer or new information")).to_have_value("")
    expect(page.locator("#conversation")).to_contain_text("It arrived on the second phone only.")
    assert case.events.filter(kind=EventKind.CUSTOMER_MESSAGE).count() == 1


def test_find_my_ticket_leads_back_and_on(page: Page) -> None:
    page.goto("/support/find/")
    page.get_by_role("link", name="Report a new missing SMS").click()
    expect(page.get_by_role("heading", name="Report an SMS that did not arrive")).to_be_visible()
    page.goto("/support/find/")
    page.get_by_role("link", name="Back to the start page").click()
    expect(page).to_have_url(re.compile(r"/$"))


def open_ticket() -> Case:
    return tickets.file_ticket(
        tickets.Ticket(
            name="Rosa Lima",
            email="rosa@example.com",
            numbers=[numbers.normalise("+49 151 23456789")],
            msg_ids=[],
            sent_at=None,
            sender="",
            template_id="",
            description="The code never came.",
            screenshot=None,
            self_help={},
        )
    ).case


def test_without_javascript_an_answer_returns_to_the_checks_with_the_fields_kept(
    browser: Any, live_server: Any
) -> None:
    store_report(MSG_ID, "DELIVRD")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/support/new/")
        page.get_by_label("Your name").fill("Rosa Lima")
        page.get_by_label("Recipient phone numbers").fill("+49 151 23456789")
        page.get_by_label("Message ids (smsMsgId)").fill(MSG_ID)
        page.get_by_role("button", name="File my ticket").click()  # the checks come first
        page.locator("#self-help").get_by_role("button", name=re.compile("^Yes")).click()

        expect(page).to_have_url(re.compile("/support/new/self-help/#self-help$"))
        expect(page.locator("#self-help")).to_contain_text("That explains it.")
        expect(page.get_by_label("Your name")).to_have_value("Rosa Lima")
        expect(page.get_by_text("This field is required")).to_have_count(0)
    finally:
        context.close()


def test_an_answer_over_the_limit_says_why_in_place(page: Page, settings: Any) -> None:
    settings.SELF_HELP_LIMIT_PER_IP_PER_HOUR = 1
    # A bucket of its own: other tests answered from the live server's address.
    settings.TRUSTED_PROXY_COUNT = 1
    page.set_extra_http_headers({"X-Forwarded-For": f"198.51.100.{secrets.randbelow(250) + 1}"})
    store_report(MSG_ID, "DELIVRD")
    page.goto("/support/new/")
    msg_ids = page.get_by_label("Message ids (smsMsgId)")
    msg_ids.fill(MSG_ID)
    msg_ids.blur()
    self_help = page.locator("#self-help")
    self_help.get_by_role("button", name=re.compile("^No")).click()
    expect(self_help.get_by_role("status")).to_contain_text("signal")

    self_help.get_by_role("button", name=re.compile("^No")).click()

    expect(self_help).to_contain_text("Many answers came from your network")
    expect(page.locator("#messages")).not_to_contain_text("could not complete")
    expect(self_help.get_by_role("link", name="Still missing? File the ticket.")).to_be_visible()

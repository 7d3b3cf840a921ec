"""A customer files a ticket in Chromium, follows the private link and answers; the agent sees it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from diagnosis.cases import services
from diagnosis.models import REFERENCE_PATTERN, Case, TrackingLink
from tests.browser.test_workspace import sign_in

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

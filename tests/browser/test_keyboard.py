"""Filing a ticket, claiming a case and answering a step work with the keyboard alone.

No clicks: Tab moves the focus, typing fills fields, Enter and Space press buttons and links,
arrow keys choose an answer. Each element reached shows a visible focus ring, the honeypot is
never a tab stop, and after a step is answered (an htmx swap) the focus lands on the new step.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Locator, Page, expect

from diagnosis.models import REFERENCE_PATTERN, Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 60
DESCRIBE_FOCUS = """() => {
  const e = document.activeElement;
  return e ? `${e.tagName.toLowerCase()}#${e.id} ${(e.innerText || e.value || "").trim().slice(0, 40)}` : "";
}"""
# Focus shows as the portal's ring (a box-shadow) or the browser's own outline.
FOCUS_RING = """(e) => {
  const style = getComputedStyle(e);
  return style.boxShadow !== "none" || (style.outlineStyle !== "none" && style.outlineWidth !== "0px");
}"""


def tab_to(page: Page, target: Locator, *, backwards: bool = False) -> list[str]:
    """Press Tab (or Shift+Tab) until `target` has the focus; returns each element passed on the way."""
    passed = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        passed.append(page.evaluate(DESCRIBE_FOCUS))
        if target.evaluate("e => e === document.activeElement"):
            assert target.evaluate(FOCUS_RING), f"no visible focus on {passed[-1]}"
            return passed
    raise AssertionError(f"{target} never took the focus; the tab order went: {passed}")


def test_a_customer_files_a_ticket_with_the_keyboard_only(page: Page) -> None:
    page.goto("/")
    tab_to(page, page.get_by_role("link", name="Report a missing SMS"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Report an SMS that did not arrive")).to_be_visible()

    passed = tab_to(page, page.get_by_label("Your name"))
    page.keyboard.type("Rosa Lima")
    passed += tab_to(page, page.get_by_label("Your email"))
    page.keyboard.type("rosa@example.com")
    passed += tab_to(page, page.get_by_label("Recipient phone numbers"))
    page.keyboard.type("+49 151 23456789")
    passed += tab_to(page, page.get_by_label("What happened?"))
    page.keyboard.type("The login code did not arrive.")
    # Back up one field and forward again: Shift+Tab works through the same order.
    passed += tab_to(page, page.get_by_label("Recipient phone numbers"), backwards=True)
    expect(page.get_by_label("Recipient phone numbers")).to_have_value("+49 151 23456789")
    passed += tab_to(page, page.get_by_role("button", name="File my ticket"))
    assert not [name for name in passed if "#id_website" in name], f"the honeypot is a tab stop: {passed}"
    page.keyboard.press("Enter")

    expect(page.get_by_text(re.compile(f"Your ticket {REFERENCE_PATTERN} is filed"))).to_be_visible()
    assert Case.objects.get().reporter_name == "Rosa Lima"


def sign_in_by_cookie(page: Page, live_server_url: str, user: User) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    name = settings.SESSION_COOKIE_NAME
    page.context.add_cookies([{"name": name, "value": cookie, "url": live_server_url}])


def test_an_agent_claims_and_answers_a_step_with_the_keyboard_only(
    page: Page, live_server: object, agent: User, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    sign_in_by_cookie(page, str(live_server), agent)
    page.goto("/cases/?tab=unassigned")

    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=case.reference))
    tab_to(page, row.get_by_role("button", name="Claim"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{case.reference}/")
    expect(page.get_by_text(f"You claimed {case.reference}.")).to_be_visible()
    page.evaluate("window.__noReload = true")

    # Tab reaches the answers; the arrow keys move the choice within the group.
    chosen = page.get_by_label("No final report yet", exact=True)
    other = page.get_by_label("Yes, a final report is there", exact=True)
    tab_to(page, chosen)
    page.keyboard.press("ArrowDown")
    expect(other).to_be_focused()
    expect(other).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(chosen).to_be_focused()
    expect(chosen).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Record answer"))
    page.keyboard.press("Space")

    heading = page.locator("#step-heading")
    expect(heading).to_have_text(
        "Call the recipient: is the number dead, suspended, or the phone switched off?"
    )
    expect(heading).to_be_focused()  # the swap puts the focus on the new step, not back at the top
    assert page.evaluate("window.__noReload") is True, "the page reloaded instead of swapping the step"

    # From the new step the keyboard goes on: Tab leads into its answers.
    tab_to(page, page.get_by_label("Yes: dead, suspended or switched off", exact=True))
    case.refresh_from_db()
    assert case.assigned_to == agent
    assert case.current_node != "report_returned"

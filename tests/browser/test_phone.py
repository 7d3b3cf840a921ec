"""At phone size (390 × 844) no page scrolls sideways, the queue shows cards and the header stays small.

The walk is test_csp.py's: every page, for every kind of visitor, with the htmx swaps they make.
Wide content that is meant to scroll (a report table, the admin's change lists) scrolls inside
its own container; the page itself never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, ViewportSize, expect

from diagnosis.cases import services
from diagnosis.models import Case
from tests.browser.test_csp import (
    Seeded,
    Watch,
    account_pages,
    admin_pages,
    agent_pages,
    customer_pages,
    lead_pages,
    new_visitor,
    seeded,  # noqa: F401 (the fixture)
)
from tests.browser.test_keyboard import sign_in_by_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 390, "height": 844}
HEADER_SHARE = 0.15  # of the screen's height, at most
# The page's width, and (to say what to fix) the innermost elements that reach past the screen.
SIDEWAYS = """() => ({width: document.documentElement.scrollWidth, view: window.innerWidth,
  widest: [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter(e => !e.closest(".visually-hidden, .skip-link, .honeypot"))
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
    .slice(0, 3)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + [...e.classList].join("."))})"""


@dataclass
class PhoneWatch(Watch):
    """test_csp's watch, which also notes each page that is wider than the phone."""

    def settle(self, page: Page, who: str) -> None:
        super().settle(page, who)
        size = page.evaluate(SIDEWAYS)
        if size["width"] > size["view"]:
            wide = f"{size['width']} px wide on a {size['view']} px screen"
            self.problems.append(f"{who}: {page.url} is {wide} ({size['widest']})")


def test_no_page_scrolls_sideways_on_a_phone(
    browser: Any,
    live_server: Any,
    seeded: Seeded,  # noqa: F811
    agent: User,
    lead: User,
    admin_user: User,
    other_agent: User,
) -> None:
    watch = PhoneWatch(base_url=live_server.url)
    contexts = [browser.new_context(base_url=live_server.url, viewport=PHONE) for _ in range(5)]
    try:
        customer_pages(new_visitor(contexts[0], "customer", watch), agent)
        agent_pages(new_visitor(contexts[1], "agent", watch, agent), seeded)
        lead_pages(new_visitor(contexts[2], "lead", watch, lead), seeded)
        admin_pages(new_visitor(contexts[3], "admin", watch, admin_user), seeded, admin_user)
        account_pages(new_visitor(contexts[4], "staff signing in", watch), other_agent)
    finally:
        for context in contexts:
            context.close()

    assert len(watch.visited) > 40  # the walk really went through the portal
    assert not watch.problems, "\n".join(dict.fromkeys(watch.problems))


def test_the_queue_shows_every_column_as_a_card_on_a_phone(
    page: Page, live_server: Any, agent: User, lead: User, make_case: Callable[..., Case]
) -> None:
    mine = make_case()
    services.assign(mine.pk, assignee=agent, actor=lead)
    waiting = make_case(number="+33612345678", msg_ids=("second",))
    page.set_viewport_size(PHONE)
    sign_in_by_cookie(page, live_server.url, lead)  # a lead sees every column, the selection box too
    page.goto("/cases/?tab=all")

    for case, assigned in ((mine, "Avery"), (waiting, "—")):
        card = page.get_by_role("row").filter(has=page.get_by_role("link", name=case.reference))
        cells = (("Customer", "Dana Customer"), ("State", "New"), ("Assigned", assigned), ("Age", ""))
        for label, value in cells:
            cell = card.locator(f"td[data-label='{label}']")
            expect(cell).to_contain_text(value)
            box = cell.bounding_box()
            assert box is not None, label
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (label, box)
            label_shown = cell.evaluate("e => getComputedStyle(e, '::before').content")
            assert label_shown == f'"{label}"', f"the {label} cell does not name itself: {label_shown}"
        expect(card.get_by_label(f"Select {case.reference}")).to_be_in_viewport()
    claim = page.get_by_role("row").filter(has=page.get_by_role("link", name=waiting.reference))
    button = claim.get_by_role("button", name="Claim")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_staff_header_is_small_on_a_phone(page: Page, live_server: Any, admin_user: User) -> None:
    """The superuser has the most navigation entries: the header still takes little of the screen."""
    page.set_viewport_size(PHONE)
    sign_in_by_cookie(page, live_server.url, admin_user)
    page.goto("/cases/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_count(6)
    header = page.get_by_role("banner").bounding_box()
    assert header is not None
    assert header["height"] <= PHONE["height"] * HEADER_SHARE, f"header {header['height']} px high"
    for link in nav.get_by_role("link").all():
        box = link.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], link


def test_the_assign_choice_looks_like_the_other_fields(
    page: Page, live_server: Any, lead: User, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    page.set_viewport_size(PHONE)
    sign_in_by_cookie(page, live_server.url, lead)
    page.goto(f"/cases/{case.reference}/")
    look = """e => { const s = getComputedStyle(e);
      return [s.borderTopWidth, s.borderTopColor, s.borderRadius, s.fontSize]; }"""
    assign = page.locator("#case-header").get_by_label("Assign to")
    field = page.get_by_label("Reply to the customer")
    assert assign.evaluate(look) == field.evaluate(look)
    box = assign.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]

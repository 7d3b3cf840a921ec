"""Searching the queue from its default tab finds a case wherever it is, with real typing in Chromium."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from diagnosis.cases import services
from diagnosis.models import Case
from tests.browser.test_workspace import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_search_on_the_unassigned_tab_finds_a_held_case_and_says_where(
    page: Page, agent: User, other_agent: User, make_case: Callable[..., Case]
) -> None:
    held = make_case(number="+8613800138000", msg_ids=("m-1",))
    services.assign(held.pk, assignee=other_agent, actor=other_agent, claim=True)
    waiting_room = make_case(number="+4915123456789", msg_ids=("m-2",))
    sign_in(page, agent)
    page.goto("/cases/")
    expect(page.get_by_role("link", name=waiting_room.reference)).to_be_visible()
    page.evaluate("window.__noReload = true")

    page.get_by_label("Search").fill("8613800138000")
    page.get_by_label("Search").press("Enter")

    results = page.locator("#queue-results")
    expect(results.get_by_role("link", name=held.reference)).to_be_visible()
    expect(results.get_by_role("link", name=waiting_room.reference)).to_have_count(0)
    expect(page.locator("#search-summary")).to_have_text("1 case matches: 1 held by a colleague (in All).")
    expect(results).not_to_contain_text("in this tab")

    page.get_by_label("Search").fill(held.reference[:6].lower())
    page.get_by_label("Search").press("Enter")

    expect(results.get_by_role("link", name=held.reference)).to_be_visible()
    expect(results).to_contain_text(f"whose reference starts with {held.reference[:6]}")
    assert page.evaluate("window.__noReload") is True, "the search reloaded the page instead of swapping"

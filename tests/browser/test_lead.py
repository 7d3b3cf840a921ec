"""A team lead reviews the team in Chromium: reads the overview, follows a number to the queue,
reassigns a case from there, and the agent who gets it finds it under "Mine"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from diagnosis.cases import services
from diagnosis.models import Case
from tests.browser.test_workspace import sign_in
from tests.diagnosis.conftest import MSG_ID, store_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_lead_reassigns_from_the_overview_and_the_agent_sees_it(
    page: Page,
    browser: Any,
    live_server: Any,
    lead: User,
    agent: User,
    other_agent: User,
    make_case: Callable[..., Case],
) -> None:
    case = make_case()
    services.assign(case.pk, assignee=other_agent, actor=lead)
    make_case(number="+33612345678", msg_ids=("second",))  # unassigned, stays where it is
    store_report(MSG_ID, "UNDELIV")  # a status code with a long label for the charts

    sign_in(page, lead)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team overview").click()
    expect(page.get_by_role("heading", name="Team overview")).to_be_visible()
    expect(page.locator("#open-figures")).to_contain_text("2 open in all")
    expect(page.locator("#panel-load")).to_contain_text("Blake")
    expect(page.locator("svg[role=img]").first).to_be_visible()

    # The period choice swaps the trends in place.
    page.evaluate("window.__noReload = true")
    page.locator("#trends").get_by_role("link", name="30 days").click()
    expect(page.locator("#trends-heading")).to_have_text("Causes and trends, last 30 days")
    assert page.url.endswith("/leads/?days=30")
    assert page.evaluate("window.__noReload") is True, "the page reloaded instead of swapping the trends"
    expect(page.get_by_role("heading", name="Cases opened and outcomes reached per day")).to_be_visible()
    page.locator("#trends").get_by_role("link", name="90 days").click()
    expect(page.get_by_role("heading", name="Cases opened and outcomes reached per week")).to_be_visible()
    expect(page.get_by_role("heading", name="Solved by self-help")).to_be_visible()
    expect(page.locator("#chart-countries")).to_contain_text("France (FR, +33)")
    # Every word of every chart is drawn inside its chart, long status labels included.
    outside = page.evaluate(
        """() => [...document.querySelectorAll("svg.chart")].flatMap(svg => {
            const box = svg.getBoundingClientRect();
            return [...svg.querySelectorAll("text")]
                .filter(t => { const r = t.getBoundingClientRect();
                               return r.right > box.right + 1 || r.left < box.left - 1; })
                .map(t => t.textContent);
        })"""
    )
    assert outside == []
    expect(page.locator("#chart-status-codes tspan")).to_have_count(3)  # the long label on two lines

    # Blake's open count leads to exactly Blake's open cases.
    page.get_by_role("link", name="1 open cases of Blake").click()
    page.wait_for_url("**/cases/?tab=all&q=state%3Aopen+assignee%3Ablake")
    expect(page.get_by_text("Showing cases that match state:open assignee:blake")).to_be_visible()
    rows = page.locator("#queue-results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(case.reference)

    page.get_by_label(f"Select {case.reference}").check()
    page.get_by_role("button", name="Reassign selected…").click()
    expect(page.get_by_role("heading", name="Reassign cases")).to_be_visible()
    expect(page.get_by_label(case.reference, exact=False)).to_be_checked()
    page.get_by_label("Give them to").select_option(label="Avery")
    page.get_by_role("button", name="Reassign", exact=True).click()

    expect(page.get_by_text("1 case now assigned to Avery.")).to_be_visible()
    expect(page.locator("#queue-results")).to_contain_text("No case matches this filter")  # no longer Blake's
    case.refresh_from_db()
    assert case.assigned_to == agent

    agent_page = browser.new_context(base_url=live_server.url).new_page()
    try:
        sign_in(agent_page, agent)
        agent_page.goto("/cases/")
        agent_page.get_by_role("link", name="Mine").click()
        expect(agent_page.locator("#queue-results tbody tr")).to_have_count(1)
        expect(agent_page.get_by_role("link", name=case.reference)).to_be_visible()
    finally:
        agent_page.context.close()

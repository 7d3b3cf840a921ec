"""A test SMS from the case page: its report arrives live on its own panel, apart from the evidence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from diagnosis.models import Case, CaseState
from tests.browser.test_workspace import claim_from_queue, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_test_report_arrives_live_and_never_becomes_the_customers_evidence(
    page: Page, platform: Any, agent: User, make_case: Callable[..., Case]
) -> None:
    case = make_case(msg_ids=("customer-message",))
    sign_in(page, agent)
    claim_from_queue(page, case)
    expect(page.get_by_label("No final report yet", exact=True)).to_be_checked()

    panel = page.locator("#test-sms-panel")
    panel.get_by_role("button", name="Send test SMS").click()
    expect(panel).to_contain_text("Test SMS sent (message id")
    # The simulated platform pushes DELIVRD to the callback; the panel refreshes itself.
    expect(panel.locator(".test-standing")).to_have_text("The message delivered", timeout=15_000)
    expect(panel.locator(".report-row")).to_contain_text("DELIVRD")
    assert page.evaluate("window.__noReload") is True, "the panel should update without a reload"

    expect(page.locator("#reports")).not_to_contain_text("DELIVRD")
    page.reload()
    expect(page.get_by_label("No final report yet", exact=True)).to_be_checked()
    expect(page.locator(".case-side")).to_contain_text("customer-message")
    case.refresh_from_db()
    assert case.state == CaseState.NEW
    assert list(case.messages.values_list("msg_id", flat=True)) == ["customer-message"]

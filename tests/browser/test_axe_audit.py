"""The accessibility audit every browser test runs (tests/browser/axe_audit.py): what it finds, and where."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.axe_audit import AxeAudit, Waiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADD_NAMELESS_BUTTONS = """() => {
  for (const id of ["nameless", "also-nameless"]) {
    const button = document.createElement("button");
    button.id = id;
    document.querySelector("main").append(button);
  }
  document.dispatchEvent(new Event("htmx:afterSettle"));  // as after a swap
}"""


def audited_visit(browser: Any, live_server: Any, audit: AxeAudit) -> None:
    """The landing page, the same page with two nameless buttons swapped in, then another page."""
    context = browser.unaudited.new_context(base_url=live_server.url)
    audit.watch(context)
    try:
        page = context.new_page()
        page.goto("/")
        assert audit.checked == [live_server.url + "/"]
        assert audit.finish() == ""
        page.evaluate(ADD_NAMELESS_BUTTONS)
        page.goto("/support/find/")  # leaving at once: the check of the swap has run already
    finally:
        context.close()
    assert audit.checked == [live_server.url + "/"] * 2 + [live_server.url + "/support/find/"]


def test_a_problem_is_reported_with_what_is_needed_to_fix_it(browser: Any, live_server: Any) -> None:
    audit = AxeAudit()
    audited_visit(browser, live_server, audit)

    report = audit.finish()
    assert "critical or serious accessibility problem" in report
    assert "critical button-name: Buttons must have discernible text" in report
    assert "https://dequeuniversity.com/rules/axe/" in report
    assert f"page: {live_server.url}/\n" in report
    assert "element: #nameless\n" in report and "element: #also-nameless\n" in report


def test_a_waiver_lets_only_its_rule_pass_on_only_its_elements(browser: Any, live_server: Any) -> None:
    audit = AxeAudit(waivers=[Waiver("button-name", target="#nameless", reason="checking the waiver")])
    audited_visit(browser, live_server, audit)

    report = audit.finish()
    assert "element: #also-nameless\n" in report
    assert "element: #nameless\n" not in report


def test_pages_seen_without_javascript_are_checked_as_served(browser: Any, live_server: Any) -> None:
    audit = AxeAudit()
    context = browser.unaudited.new_context(base_url=live_server.url, java_script_enabled=False)
    audit.keep_documents(context)
    try:
        page = context.new_page()
        page.goto("/support/find/")
        # What the server sent is what gets checked: spoil a copy of it on its way to the page.
        kept_url, kept = audit.documents[0]
        audit.documents[0] = (kept_url, kept.replace(b"</main>", b'<button id="nameless"></button></main>'))
    finally:
        context.close()

    audit.check_kept_documents(browser.unaudited)

    assert audit.checked == [live_server.url + "/support/find/"]
    assert "element: #nameless\n" in audit.finish()

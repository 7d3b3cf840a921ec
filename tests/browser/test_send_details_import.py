"""A lead uploads a Send Details export in Chromium: the button is disabled while the file is
sent, the import's page shows a progress bar until a worker has imported it, then the result;
a file with wrong headers is explained next to the field, and the previous result is gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.browser.test_workspace import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 3000
# Records what the page went through while the upload was sent, in sessionStorage (the
# answer may load another page): htmx sets and clears `disabled` quickly, so a
# MutationObserver sees it where a polled assertion might not.
WATCH_UPLOAD = """() => {
  sessionStorage.clear();
  const button = document.querySelector("#upload-form button[type=submit]");
  new MutationObserver(() => { if (button.disabled) sessionStorage.setItem("disabled", "yes"); })
    .observe(button, {attributes: true, attributeFilter: ["disabled"]});
  document.addEventListener("htmx:beforeSwap", () => {
    const outcome = document.querySelector("#import-outcome");
    sessionStorage.setItem("cleared", outcome && outcome.children.length === 0 ? "yes" : "no");
  }, {once: true});
}"""


def export(path: Path, header: str = "smsMsgId,Recipient Number,Status,Update Time") -> Path:
    lines = [header] + [f"m-{i},+4915123{i:06d},DELIVRD,2026-11-20 09:00:00" for i in range(ROWS)]
    path.write_text("\n".join([*lines, "broken,,,"]) + "\n")
    return path


def test_upload_shows_progress_then_the_result_and_a_bad_file_clears_it(
    page: Page, lead: User, tmp_path: Path, settings: Any, request: pytest.FixtureRequest
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    sign_in(page, lead)
    page.goto("/leads/import/")
    page.evaluate(WATCH_UPLOAD)

    page.get_by_label("Send Details export (CSV)").set_input_files(export(tmp_path / "send-details.csv"))
    page.get_by_role("button", name="Import").click()

    # No worker yet: the import waits, and its page shows the bar.
    page.wait_for_url("**/leads/import/*/")
    assert page.evaluate("sessionStorage.getItem('disabled')") == "yes", (
        "the button stays enabled while the file is sent"
    )
    bar = page.locator("progress.import-progress")
    expect(bar).to_have_attribute("max", str(ROWS + 1))
    expect(page.locator(".import-count")).to_have_text(f"0 of about {ROWS + 1:,} rows")

    request.getfixturevalue("celery_worker")  # a worker comes up; the polling page picks up the result
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=30_000)
    expect(page.locator("#import-imported")).to_have_text(str(ROWS))
    expect(page.locator("#import-rejected")).to_have_text("1")
    expect(page.get_by_text(f"Line {ROWS + 2}: the status is empty")).to_be_visible()

    page.evaluate(WATCH_UPLOAD)
    bad = export(tmp_path / "wrong.csv", header="Message,Result,When,To")
    page.get_by_label("Send Details export (CSV)").set_input_files(bad)
    page.get_by_role("button", name="Import").click()

    error = page.locator("#upload-form .field-error")
    expect(error).to_contain_text("This file has no column for the message ID or the status.")
    expect(error).to_contain_text('Your file has "Message", "Result", "When", "To".')
    assert page.evaluate("sessionStorage.getItem('cleared')") == "yes", "the old result stayed while sending"
    expect(page.locator("#import-outcome")).to_be_empty()
    expect(page.get_by_role("button", name="Import")).to_be_enabled()

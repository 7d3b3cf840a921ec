"""The demo agent signs in through a real Chromium and htmx is live on the page."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_agent_signs_in_and_htmx_requests_carry_hx_request(page, settings, monkeypatch) -> None:
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "browser-demo-pass")
    call_command("seed_demo")
    settings.DEBUG = False

    page.goto("/cases/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("browser-demo-pass")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/cases/")
    page.goto("/")
    assert page.get_by_role("heading", name="Hello, Avery").is_visible()
    assert page.get_by_role("link", name="Case queue", exact=True).is_visible()
    assert page.get_by_role("link", name="Team overview").count() == 0
    assert page.evaluate("typeof window.htmx") == "object"

    with page.expect_request(lambda r: r.url.endswith("/") and r.method == "GET") as caught:
        page.get_by_role("button", name="Check now").click()
    assert caught.value.headers.get("hx-request") == "true"
    assert caught.value.headers.get("x-csrftoken")
    page.locator("#background-status").get_by_text("Automatic status checks").wait_for()


def test_public_pages_load_every_resource_they_name(page, live_server) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    for path in ("/", "/support/new/", "/accounts/login/"):
        page.goto(path)
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert icon, f"{path} names no icon, so browsers ask for /favicon.ico and get 404"
        status = page.evaluate("async (href) => (await fetch(href)).status", icon)
        assert status == 200, (path, icon, status)
    assert failed == []

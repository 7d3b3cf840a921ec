"""Every page, for every kind of visitor, runs in Chromium without a Content-Security-Policy violation.

The pages come from the URL resolver: a route this test neither loads nor lists in
NOT_PAGES or POST_ONLY (with the reason) fails it, so a page added later is checked too.
Violations are caught twice: the browser's console messages ("Refused to ...") and a
`securitypolicyviolation` listener that csp_listener.js adds to every page.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse
from django_otp.oath import totp
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from diagnosis.cases import services
from diagnosis.guide import get_guide
from diagnosis.models import Case, Escalation, SendDetailsImport, StatusSource
from tests.diagnosis.conftest import MSG_ID, route_to, store_report, walk_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTENER = Path(__file__).with_name("csp_listener.js")
PAGE_REQUESTS = {"document", "xhr", "fetch"}  # pages and the htmx requests that swap parts of them

# Routes that are not pages a browser loads, and why.
NOT_PAGES = {
    "cases/export.csv": "a CSV download (its headers: tests/portal/test_security_headers.py)",
    "leads/export.csv": "a CSV download (its headers: tests/portal/test_security_headers.py)",
    "cases/<ref:reference>/screenshot/": "the customer's uploaded image, served as a file",
    "cases/<ref:reference>/changes/": "the case page's poll: 204, or a fragment swapped into the page",
    "notifications/changes/": "the home page's poll: 204, or a fragment swapped into the page",
    "admin/jsi18n/": "a script file, loaded by the admin pages visited here",
    "admin/autocomplete/": "JSON for autocomplete widgets",
    "admin/r/<path:content_type_id>/<path:object_id>/": "a redirect to the object's page on the site",
    "admin/otp_totp/totpdevice/<int:pk>/config/": "refused: the admin never shows an authenticator's key",
    "admin/otp_totp/totpdevice/<int:pk>/qrcode/": "refused: the admin never shows an authenticator's key",
}
# Routes that answer POST only (checked below: a GET gets 405). Their answers are regions
# of pages the browser loads, or redirects; the swaps the browser does make are visited.
POST_ONLY = {
    "accounts/logout/",
    "admin/logout/",
    "hooks/sms-status/<str:token>/",
    "support/new/check/<slug:field>/",
    "support/new/self-help/",
    "support/t/<str:token>/message/",
    "cases/<ref:reference>/step/",
    "cases/<ref:reference>/escalate/",
    "cases/<ref:reference>/claim/",
    "cases/<ref:reference>/assign/",
    "cases/<ref:reference>/note/",
    "cases/<ref:reference>/reply/",
    "cases/<ref:reference>/test-sms/",
    "cases/<ref:reference>/manual-report/",
    "cases/<ref:reference>/escalations/<int:escalation_id>/answer/",
    "notifications/read/",
    "preferences/",
    "preferences/language/",
    "language/",
    "leads/cases/<ref:reference>/close/",
    "leads/cases/<ref:reference>/reopen/",
    "accounts/lockouts/unlock/",
    "accounts/security/recovery-codes/",
    "accounts/security/remove/",
}
ADMIN_REDIRECT = "a redirect to the object's change form"


def all_routes() -> set[str]:
    """Every route of the portal, written as the resolver writes ResolverMatch.route."""

    def join(prefix: str, part: str) -> str:
        return prefix + part.removeprefix("^") if prefix else part  # as Django joins them

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, join(prefix, str(pattern.pattern)))
            else:
                assert isinstance(pattern, URLPattern)
                yield join(prefix, str(pattern.pattern))

    return set(walk(get_resolver().url_patterns, ""))


def route_of(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).route
    except Resolver404:
        return None  # the 404 page the test asks for on purpose


@dataclass
class Watch:
    """What the browser reported while the test walked the pages."""

    base_url: str
    visited: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page, who: str) -> None:
        def on_console(message: ConsoleMessage) -> None:
            text = message.text
            csp = "Content Security Policy" in text or "Refused to" in text
            # A 4xx page the test asks for logs its status ("Failed to load resource"): not a problem.
            noted = csp or "Permissions-Policy" in text or message.type == "error"
            if noted and "Failed to load resource" not in text:
                self.problems.append(f"{who} console on {page.url}: {text}")

        def on_request(request: Any) -> None:
            if request.url.startswith(self.base_url) and request.resource_type in PAGE_REQUESTS:
                path = urlsplit(request.url).path
                route = None if path.startswith("/" + settings.STATIC_URL) else route_of(request.url)
                if route is not None:
                    self.visited.add(route)

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"{who} script error on {page.url}: {error}"))
        page.on("request", on_request)

    def settle(self, page: Page, who: str) -> None:
        """Collect the violations the page's listener saw (events arrive as tasks, so wait one)."""
        found = page.evaluate(
            "() => new Promise(done => setTimeout(() => done(window.__cspViolations.splice(0)), 50))"
        )
        self.problems.extend(f"{who} violation on {page.url}: {item}" for item in found)


@dataclass
class Visitor:
    who: str
    page: Page
    watch: Watch

    def open(self, path: str, status: int | None = 200) -> None:
        """Load a page and collect its violations; `status` None takes whatever it answers."""
        response = self.page.goto(path)
        assert response is not None, path
        assert status is None or response.status == status, f"{self.who} {path}: {response.status}"
        self.watch.settle(self.page, self.who)


def new_visitor(context: BrowserContext, who: str, watch: Watch, user: User | None = None) -> Visitor:
    context.set_default_timeout(10_000)
    context.add_init_script(path=str(LISTENER))
    if user is not None:
        # A session made by the test client, handed to the browser as its cookie.
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": watch.base_url}])
    page = context.new_page()
    watch.attach(page, who)
    return Visitor(who, page, watch)


@dataclass
class Seeded:
    new: Case
    working: Case
    waiting: Case
    escalated: Case
    resolved: Case
    closed: Case
    source: StatusSource


@pytest.fixture
def seeded(make_case: Callable[..., Case], agent: User, lead: User) -> Seeded:
    """Cases in several states with reports, escalations, emails, a rejected callback and a closed case."""
    guide = get_guide()
    store_report(MSG_ID, "DELIVRD")

    def walked(target: str) -> Case:
        case = walk_to(make_case(), route_to(guide, target), agent)
        services.assign(case.pk, assignee=agent, actor=lead)
        return case

    working = walk_to(make_case(), [("report_returned", "report_present")], agent)
    services.assign(working.pk, assignee=agent, actor=lead)
    services.add_note(working.pk, text="Customer says the phone was on.", actor=agent)
    waiting = walk_to(make_case(), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)
    services.assign(waiting.pk, assignee=agent, actor=lead)
    closed = walked("R_inbox_full")
    services.close_case(closed.pk, actor=lead)
    source = StatusSource.objects.create(name="huawei-intl")
    hook = f"/hooks/sms-status/{source.token}/"
    report = {"smsMsgId": MSG_ID, "status": "DELIVRD", "updateTime": "2026-11-20T10:00:00Z"}
    answer = Client().post(hook, {"statusReportList": [report]}, content_type="application/json")
    assert answer.status_code == 200
    Client().post(hook, "{not json", content_type="application/json")  # kept as a rejected payload
    return Seeded(
        new=make_case(),
        working=working,
        waiting=waiting,
        escalated=walked("E_frequency_limit"),
        resolved=walked("R_no_signal"),
        closed=closed,
        source=source,
    )


def customer_pages(visitor: Visitor, agent: User) -> None:
    """Landing, ticket form (with its inline checks), the tracking page of the filed case, find-ticket."""
    page = visitor.page
    visitor.open("/")
    page.get_by_role("link", name="Report a missing SMS").click()
    page.get_by_label("Your name").fill("Rosa Lima")
    page.get_by_label("Your email").fill("rosa@example.com")
    numbers = page.get_by_label("Recipient phone numbers")
    numbers.fill("+49 1")
    numbers.blur()
    expect(page.locator("#field-numbers")).to_contain_text("This number is too short.")  # an htmx swap
    numbers.fill("+49 151 23456789")
    page.get_by_label("What happened?").fill("The login code did not arrive.")
    page.get_by_role("button", name="File my ticket").click()
    expect(page.get_by_text("is filed")).to_be_visible()
    visitor.watch.settle(page, visitor.who)
    tracking_path = urlsplit(page.url).path  # the raw token exists only in this link and the email

    case = Case.objects.order_by("-pk").first()
    assert case is not None
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    services.send_reply(case.pk, text="Did the phone have signal?", actor=agent)
    visitor.open(tracking_path)
    page.get_by_label("Your answer or new information").fill("Yes, full signal.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#conversation")).to_contain_text("Yes, full signal.")
    visitor.watch.settle(page, visitor.who)

    visitor.open("/support/find/")
    visitor.open("/support/t/not-a-real-token/", status=404)
    visitor.open("/no-such-page/", status=404)
    visitor.open("/accounts/login/")
    visitor.open("/admin/login/")
    visitor.open("/healthz", status=None)  # 503 here: no worker runs beside the test server


def agent_pages(visitor: Visitor, data: Seeded) -> None:
    """Home, queue (with a search swap), every case state, and htmx swaps on the case page."""
    page = visitor.page
    visitor.open("/")
    visitor.open("/cases/")
    visitor.open("/cases/?tab=all")
    page.get_by_label("Search").fill(data.waiting.reference)
    expect(page.locator("#queue-results")).to_contain_text(data.waiting.reference)
    visitor.watch.settle(page, visitor.who)
    for case in (data.waiting, data.escalated, data.resolved, data.closed):
        visitor.open(f"/cases/{case.reference}/")
    visitor.open(
        f"/cases/{data.working.reference}/part/timeline/",
    )
    visitor.open(f"/cases/{data.working.reference}/test-messages/")

    # Claim the new case from the queue, answer a step, then revise it: each answer is a swap.
    visitor.open("/cases/?tab=unassigned")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=data.new.reference))
    row.get_by_role("button", name="Claim").click()
    page.wait_for_url(f"**/cases/{data.new.reference}/")
    page.get_by_label("Yes, a final report is there", exact=True).check()
    page.get_by_role("button", name="Record answer").click()
    expect(page.locator("#step-heading")).to_have_text("Is the report's status DELIVRD?")
    expect(page.locator("#path-panel")).to_contain_text("Yes, a final report is there")  # a region refreshed
    page.locator("#path-panel").get_by_role("link", name="Change").first.click()
    expect(page.locator("#step-heading")).to_contain_text("Change the answer to")
    page.get_by_label("No final report yet", exact=True).check()
    page.get_by_role("button", name="Save the new answer").click()
    expect(page.locator("#path-panel")).to_contain_text("No final report yet")
    visitor.watch.settle(page, visitor.who)
    visitor.open(f"/cases/{data.working.reference}/revise/report_returned/")


def lead_pages(visitor: Visitor, data: Seeded) -> None:
    page = visitor.page
    visitor.open("/leads/")
    page.get_by_role("link", name="90 days").click()  # the trends swap
    expect(page.get_by_role("link", name="90 days")).to_have_attribute("aria-current", "page")
    visitor.watch.settle(page, visitor.who)
    visitor.open(f"/leads/reassign/?case={data.waiting.reference}&case={data.new.reference}")
    visitor.open("/leads/import/")
    running = SendDetailsImport.objects.create(
        file_name="running.csv", encoding="utf-8-sig", timezone_name="UTC", state="running", rows_estimate=9
    )
    visitor.open(f"/leads/import/{running.pk}/")  # the progress bar, which polls
    finished = SendDetailsImport.objects.create(
        file_name="done.csv",
        encoding="utf-8-sig",
        timezone_name="UTC",
        state="done",
        rejected=1,
        rejections=[[3, "the status is empty"]],
        resumed=[data.waiting.pk],
    )
    visitor.open(f"/leads/import/{finished.pk}/")
    visitor.open("/cases/?tab=all")
    visitor.open("/accounts/lockouts/")
    visitor.open(f"/leads/cases/{data.resolved.reference}/erase/")


def account_pages(visitor: Visitor, user: User) -> None:
    """Sign in through the form, set up an authenticator, then sign in again with a recovery code."""
    page = visitor.page

    def sign_in(next_url: str) -> None:
        visitor.open(f"/accounts/login/?next={next_url}")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill("pw-" + user.username)
        page.get_by_role("button", name="Sign in").click()

    sign_in("/accounts/security/")
    page.wait_for_url("**/accounts/security/")
    visitor.watch.settle(page, visitor.who)
    page.get_by_role("link", name="Set up an authenticator app").click()
    page.wait_for_url("**/accounts/security/setup/**")
    visitor.watch.settle(page, visitor.who)
    secret = page.locator(".secret-key").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    visitor.watch.settle(page, visitor.who)
    visitor.open("/accounts/security/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")

    sign_in("/cases/")
    page.wait_for_url("**/accounts/code/**")
    visitor.watch.settle(page, visitor.who)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/cases/")
    visitor.watch.settle(page, visitor.who)


def first_object(model: type[Model]) -> Model | None:
    return model._default_manager.order_by("pk").first()


def admin_pages(visitor: Visitor, data: Seeded, admin_user: User) -> dict[str, str]:
    """Index, each app, and each registered model's list, add form and (given a row) change,
    history and delete pages. Returns the admin routes not loaded, with the reason."""
    skipped: dict[str, str] = {}
    visitor.open("/admin/")
    visitor.open("/admin/diagnosis/")
    visitor.open("/admin/no-such-page/", status=404)
    visitor.open("/admin/password_change/")
    visitor.open("/admin/password_change/done/")
    visitor.open(reverse("admin:auth_user_password_change", args=[admin_user.pk]))
    visitor.open(reverse("admin:diagnosis_case_answer", args=[data.working.pk]))
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        skipped[prefix + "<path:object_id>/"] = ADMIN_REDIRECT
        visitor.open(reverse(f"{info}_changelist"))
        add_status = 200 if model_admin.has_add_permission(_admin_request(admin_user)) else 403
        visitor.open(reverse(f"{info}_add"), status=add_status)
        row = first_object(model)
        for kind in ("change", "history", "delete"):
            if row is None:
                reason = f"no {model._meta.verbose_name} in the test data (other models' are loaded)"
                skipped[f"{prefix}<path:object_id>/{kind}/"] = reason
                continue
            allowed = kind != "delete" or model_admin.has_delete_permission(_admin_request(admin_user), row)
            visitor.open(reverse(f"{info}_{kind}", args=[row.pk]), status=200 if allowed else 403)
    return skipped


def _admin_request(user: User) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_every_page_runs_without_a_csp_violation(
    browser: Any,
    live_server: Any,
    seeded: Seeded,
    agent: User,
    lead: User,
    admin_user: User,
    other_agent: User,
) -> None:
    watch = Watch(base_url=live_server.url)
    contexts = [browser.new_context(base_url=live_server.url) for _ in range(5)]
    try:
        customer_pages(new_visitor(contexts[0], "customer", watch), agent)
        agent_pages(new_visitor(contexts[1], "agent", watch, agent), seeded)
        lead_pages(new_visitor(contexts[2], "lead", watch, lead), seeded)
        admin_skipped = admin_pages(new_visitor(contexts[3], "admin", watch, admin_user), seeded, admin_user)
        account_pages(new_visitor(contexts[4], "staff signing in", watch), other_agent)
    finally:
        for context in contexts:
            context.close()

    assert not watch.problems, "\n".join(dict.fromkeys(watch.problems))
    skipped = {**NOT_PAGES, **admin_skipped, **dict.fromkeys(POST_ONLY, "POST only")}
    unchecked = sorted(all_routes() - watch.visited - set(skipped))
    assert unchecked == [], "load these pages in this test, or list them in NOT_PAGES with the reason"


def test_post_only_routes_refuse_a_get(seeded: Seeded, admin_user: User) -> None:
    """POST_ONLY is not a place to hide pages: each route there answers a GET with 405."""
    client = Client()
    client.force_login(admin_user)
    values = {
        "<ref:reference>": seeded.escalated.reference,
        "<str:token>": seeded.source.token,
        "<slug:field>": "email",
        "<int:escalation_id>": str(Escalation.objects.filter(case=seeded.escalated).get().pk),
    }
    for route in sorted(POST_ONLY):
        path = "/" + route
        for placeholder, value in values.items():
            path = path.replace(placeholder, value)
        assert client.get(path).status_code == 405, route


def test_the_watch_reports_a_violation(browser: Any, live_server: Any, db: None) -> None:
    """The listeners work: an inline style and an inline script added to a page are reported."""
    watch = Watch(base_url=live_server.url)
    context = browser.new_context(base_url=live_server.url)
    try:
        visitor = new_visitor(context, "probe", watch)
        visitor.open("/")
        assert watch.problems == []
        visitor.page.evaluate(
            """() => {
                document.body.setAttribute("style", "color: red");
                const script = document.createElement("script");
                script.textContent = "window.ran = true";
                document.body.appendChild(script);
            }"""
        )
        watch.settle(visitor.page, "probe")
    finally:
        context.close()

    text = "\n".join(watch.problems)
    assert "style-src" in text and "script-src" in text


def test_debug_mode_loads_its_extra_script_without_a_violation(
    browser: Any, live_server: Any, settings: Any, agent: User, make_case: Callable[..., Case]
) -> None:
    """Under DEBUG, {% htmx_script %} adds django-htmx.js: a file too, so the policy holds."""
    settings.DEBUG = True
    case = make_case()
    watch = Watch(base_url=live_server.url)
    context = browser.new_context(base_url=live_server.url)
    try:
        visitor = new_visitor(context, "developer", watch, agent)
        visitor.open("/")
        assert visitor.page.locator("script[src*='django-htmx.js']").count() == 1
        visitor.open(f"/cases/{case.reference}/")
    finally:
        context.close()

    assert not watch.problems, "\n".join(watch.problems)

"""axe-core on every page a browser test visits: a critical or serious finding fails the test.

The `browser` fixture (tests/conftest.py) hands out an AuditedBrowser: each context it opens
runs vendor/axe.min.js (axe-core, vendored so the suite works offline) with axe_runner.js in
every page, once the document is parsed and again after each htmx swap (a context without
JavaScript keeps the documents it receives; each is checked after the test, as served, in a
page where axe can run); each check finishes
before anything else happens on the page (see INIT_SCRIPT), so no page the test saw goes
unchecked. Critical and serious findings fail the test at teardown, listing rule, impact, help
page, page address and the elements concerned.

Fixing the page is the way to pass. If a finding truly cannot be fixed (in a third-party
page, say), waive exactly that rule on exactly those elements, with the reason:

    @pytest.mark.axe_waive("color-contrast", target="#id_of_the_element", reason="...")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

HERE = Path(__file__).resolve().parent
# axe yields to the event loop between its rules with setTimeout(fn, 0). Handed a setTimeout
# that runs those as microtasks, it checks a page in one task: nothing the test does next can
# interleave (a click, a swap, the next page), so every page is checked in full before it goes.
AXE_SOURCE = (HERE / "vendor" / "axe.min.js").read_text()
RUNNER_SOURCE = (HERE / "axe_runner.js").read_text()
INIT_SCRIPT = (
    "if (window.top === window) {\n(function (setTimeout) {\n"
    + AXE_SOURCE
    + """
}).call(window, function (callback, delay) {
  if (delay) return window.setTimeout.apply(window, arguments);
  var args = Array.prototype.slice.call(arguments, 2);
  queueMicrotask(function () { callback.apply(null, args); });
  return 0;
});
"""
    + RUNNER_SOURCE
    + "\n}"
)


MAX_SHOWN = 40


@dataclass(frozen=True)
class Waiver:
    rule: str
    target: str
    reason: str

    def covers(self, rule: str, target: str) -> bool:
        return rule == self.rule and self.target in target


@dataclass
class AxeAudit:
    """The findings of one test's pages."""

    waivers: list[Waiver] = field(default_factory=list)
    findings: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (rule, url, target) -> text
    errors: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # the address of each check, in order
    contexts: int = 0
    # Documents a context without JavaScript received (axe cannot run there): (url, html).
    documents: list[tuple[str, bytes]] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        """Check every page this context opens, from its first document on."""
        self.contexts += 1
        context.expose_binding("__axeReport", self._receive)
        context.add_init_script(script=INIT_SCRIPT)

    def keep_documents(self, context: BrowserContext) -> None:
        """Keep each HTML document a context without JavaScript receives, to be checked later."""
        self.contexts += 1

        def keep(route: Route) -> None:
            if route.request.resource_type != "document":
                route.continue_()
                return
            response = route.fetch()
            body = response.body()
            if "text/html" in response.headers.get("content-type", ""):
                self.documents.append((route.request.url, body))
            route.fulfill(response=response, body=body)

        context.route("**/*", keep)

    def check_kept_documents(self, browser: Browser) -> None:
        """Check each kept document as served, in a page with JavaScript so axe can run."""
        for url, body in self.documents:
            context = browser.new_context()
            self.watch(context)
            self.contexts -= 1  # the context that received the document was counted
            try:
                page = context.new_page()
                page.route(_same_document(url), _serving(body))
                before = len(self.checked)
                page.goto(url)
                for _ in range(200):
                    if len(self.checked) > before:
                        break
                    page.wait_for_timeout(50)
            finally:
                context.close()

    def _receive(self, source: dict[str, Any], payload: dict[str, Any]) -> None:
        url = payload["url"]
        self.checked.append(url)
        if "error" in payload:
            self.errors.append(f"axe could not check {url}: {payload['error']}")
            return
        for violation in payload["violations"]:
            for node in violation["targets"]:
                target = node["target"]
                if any(waiver.covers(violation["rule"], target) for waiver in self.waivers):
                    continue
                fix = "\n".join("        " + line.strip() for line in (node["summary"] or "").splitlines())
                self.findings[(violation["rule"], url, target)] = (
                    f"{violation['impact']} {violation['rule']}: {violation['help']}\n"
                    f"    help: {violation['helpUrl']}\n    page: {url}\n    element: {target}\n"
                    f"    html: {node['html'][:300]}\n{fix}"
                )

    def finish(self) -> str:
        """The report of what the checks found ('' if nothing)."""
        if self.contexts and not self.checked:
            return "axe-core never reported: is tests/browser/vendor/axe.min.js loading in the pages?"
        problems = [*self.errors, *self.findings.values()]
        if not problems:
            return ""
        shown = "\n\n".join(problems[:MAX_SHOWN])
        more = f"\n\n... and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
        return (
            f"axe-core found {len(self.findings)} critical or serious accessibility problem(s) "
            f"on the pages this test visited ({len(self.checked)} checks):\n\n{shown}{more}"
        )


def _same_document(url: str) -> Callable[[str], bool]:
    def matches(address: str) -> bool:
        return address.split("#")[0] == url.split("#")[0]

    return matches


def _serving(body: bytes) -> Any:
    def serve(route: Route) -> None:
        route.fulfill(status=200, body=body, headers={"content-type": "text/html; charset=utf-8"})

    return serve


class AuditedBrowser:
    """The session's Chromium; each context it opens during a test is checked by that test's audit."""

    def __init__(self, browser: Browser) -> None:
        self.unaudited = browser  # for the tests of the audit itself
        self.audit: AxeAudit | None = None

    def new_context(self, **kwargs: Any) -> BrowserContext:
        context = self.unaudited.new_context(**kwargs)
        if self.audit is not None:
            if kwargs.get("java_script_enabled") is False:
                self.audit.keep_documents(context)
            else:
                self.audit.watch(context)
        return context

    def new_page(self, **kwargs: Any) -> Page:
        return self.new_context(**kwargs).new_page()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unaudited, name)


def waivers_of(item: pytest.Item) -> list[Waiver]:
    waivers = []
    for marker in item.iter_markers("axe_waive"):
        rule, target, reason = marker.args[0], marker.kwargs.get("target"), marker.kwargs.get("reason")
        if not (target and reason):
            needs = "target= (which elements) and reason= (why it cannot be fixed)"
            pytest.fail(f"axe_waive({rule!r}) needs {needs}")
        waivers.append(Waiver(rule, target, reason))
    return waivers


def audited(request: pytest.FixtureRequest, browser: AuditedBrowser) -> Iterator[AxeAudit]:
    """Set an audit on the session's browser for this test; fail the test with what it found."""
    audit = AxeAudit(waivers=waivers_of(request.node))
    browser.audit = audit
    try:
        yield audit
    finally:
        browser.audit = None
    audit.check_kept_documents(browser.unaudited)
    report = audit.finish()
    if report:
        pytest.fail(report, pytrace=False)

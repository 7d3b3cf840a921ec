"""Layouts hold in every language: Chinese strings are shorter but taller and do not break at
spaces, English ones are longer. At phone and desktop width no page scrolls sideways and no
button, link, label or heading is cut off or spills out of its box.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import ViewportSize

from diagnosis.cases import services
from diagnosis.models import Case, Event, EventKind, Recipient, StatusCode, StatusReport
from tests.browser.test_csp import Seeded
from tests.browser.test_csp import seeded as seeded  # noqa: F401 (the fixture)
from tests.browser.test_keyboard import sign_in_by_cookie
from tests.diagnosis.conftest import tracking_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}
# Elements that reach past the screen, and controls whose text is wider than the control.
MISFITS = """() => {
  const view = window.innerWidth;
  // Clipped on purpose (visually hidden for screen readers, as the phone queue's header row).
  const clipped = e => { for (let a = e; a; a = a.parentElement) {
    const s = getComputedStyle(a); if ((s.clip && s.clip !== "auto") || s.clipPath !== "none") return true; }
    return false; };
  const wide = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > view + 1)
    .filter(e => !e.closest(".visually-hidden, .skip-link, .honeypot, .table-scroll, .report-table"))
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > view + 1))
    .filter(e => !clipped(e));
  const cut = [...document.querySelectorAll("button, a.button, label, th, h1, h2, h3, .badge, nav a")]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1
      && getComputedStyle(e).overflowX !== "visible");
  const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " "
    + e.textContent.trim().slice(0, 30);
  return {sideways: document.documentElement.scrollWidth > view, wide: wide.slice(0, 3).map(name),
          cut: cut.slice(0, 3).map(name)};
}"""


# Words of four letters or more in the page's own text, outside what people typed or chose
# (form fields, selects) and outside codes and identifiers (code elements).
ENGLISH_WORDS = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const words = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("select, textarea, code, script, style, .visually-hidden")) continue;
    // Text marked as being in another language on purpose (lang="en" on a quoted email, say).
    if (parent.closest("[lang]").lang !== document.documentElement.lang) continue;
    if (!parent.checkVisibility()) continue;
    words.push(...(node.textContent.match(/[A-Za-z][A-Za-z'’]{3,}/g) || []));
  }
  return words;
}"""
# Names in their own language (the languages in the switch), and technical names that are
# the same in every language.
SAME_EVERYWHERE = {"English", "JPEG", "smsMsgId"}


def words_of(*texts: str) -> set[str]:
    return {w for text in texts for w in re.findall(r"[A-Za-z][A-Za-z'’]{3,}", text)}


def pages_of(seeded: Seeded, customer_case: Case) -> dict[str, list[str]]:
    cases = [seeded.new, seeded.working, seeded.waiting, seeded.escalated, seeded.resolved, seeded.closed]
    return {
        "customer": ["/", "/support/new/", "/support/find/", tracking_path(customer_case)],
        "agent": [
            "/",
            *(f"/cases/?tab={tab}" for tab in ("mine", "unassigned", "waiting", "all")),
            *(f"/cases/{case.reference}/" for case in cases),
        ],
        "lead": ["/", "/leads/", "/leads/?days=90", "/leads/import/", "/accounts/security/"],
    }


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
def test_pages_fit_the_screen_in_every_language(
    language: str,
    browser: Any,
    live_server: Any,
    seeded: Seeded,
    agent: User,
    lead: User,  # noqa: F811
) -> None:
    customer_case = seeded.new
    services.assign(customer_case.pk, assignee=agent, actor=lead)
    people = {"customer": None, "agent": agent, "lead": lead}
    problems: list[str] = []
    visited = 0
    # What people wrote or are called is shown as written, in whatever language it is in.
    data_words = SAME_EVERYWHERE | words_of(
        *(f"{u.first_name} {u.last_name} {u.get_username()} {u.email}" for u in (agent, lead)),
        *(
            " ".join(row)
            for row in Case.objects.values_list("reporter_name", "reporter_email", "description")
        ),
        *Event.objects.filter(kind__in=[EventKind.NOTE, EventKind.REPLY]).values_list("summary", flat=True),
        *Recipient.objects.values_list("carrier", flat=True),
        *Case.objects.values_list("reference", flat=True),
        *StatusReport.objects.values_list("msg_id", flat=True),
        *StatusReport.objects.values_list("status", flat=True),
        *StatusCode.objects.values_list("code", flat=True),
    )
    for size_name, size in SIZES.items():
        for who, urls in pages_of(seeded, customer_case).items():
            context = browser.new_context(base_url=live_server.url, viewport=size)
            context.add_cookies(
                [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
            )
            page = context.new_page()
            user = people[who]
            if user is not None:
                sign_in_by_cookie(page, live_server.url, user)
            for url in urls:
                response = page.goto(url)
                assert response is not None and response.ok, (who, url)
                assert page.locator("html").get_attribute("lang") == language, (who, url)
                page.wait_for_load_state("networkidle")
                found = page.evaluate(MISFITS)
                if language != settings.LANGUAGE_CODE and size_name == "desktop":
                    english = set(page.evaluate(ENGLISH_WORDS)) - data_words
                    if english:
                        problems.append(f"{language} {who} {url} shows English: {sorted(english)}")
                visited += 1
                if found["sideways"] or found["wide"] or found["cut"]:
                    problems.append(f"{language} {size_name} {who} {url}: {found}")
            context.close()
    assert visited == 2 * sum(len(urls) for urls in pages_of(seeded, customer_case).values())
    assert not problems, "\n".join(problems)

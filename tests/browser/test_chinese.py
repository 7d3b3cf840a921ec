"""The portal in Chinese: a customer files and follows a ticket, an agent works it and replies.

Both browsers ask for Chinese (`Accept-Language: zh-CN`). The expected texts are the
catalogue's translations of the English msgids, so the test reads what a Chinese visitor
reads; `chinese()` also checks that each one really is Chinese, not the English fallback.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.utils import translation
from playwright.sync_api import Page, expect

from diagnosis.guide import Guide
from diagnosis.models import Case, CaseState, OutboundEmail
from tests.diagnosis.conftest import MSG_ID, route_to, store_report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: object, **values: object) -> str:
    """`text` (a msgid or a lazy string) as the Chinese catalogue has it."""
    with translation.override("zh-hans"):
        said = str(translation.gettext(text) if isinstance(text, str) else text)
    assert CJK.search(said), f"no Chinese for {text!r}"
    return said % values if values else said


def in_chinese(browser: Any, live_server: Any) -> Page:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(10_000)
    return context.new_page()


def expect_chinese_page(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("main")).to_contain_text(CJK)


def test_a_chinese_customer_and_agent_go_from_ticket_to_reply(
    browser: Any, live_server: Any, agent: User, guide: Guide
) -> None:
    store_report(MSG_ID, "DELIVRD")
    customer = in_chinese(browser, live_server)

    # Filing, with the self-help checks on the way.
    customer.goto("/")
    expect_chinese_page(customer)
    customer.get_by_role("link", name=chinese("Report a missing SMS")).click()
    expect_chinese_page(customer)
    msg_ids = customer.get_by_label(chinese("Message ids (smsMsgId)"))
    msg_ids.fill(MSG_ID)
    msg_ids.blur()
    self_help = customer.locator("#self-help")
    first_check = guide["junk_folder"]  # the first phone check, once a report says DELIVRD
    expect(self_help).to_contain_text(chinese(first_check.customer_question))
    no = next(a for a in first_check.answers if a.value == "no")
    self_help.get_by_role("button", name=chinese(no.customer_label)).click()
    expect(self_help.get_by_role("status")).to_contain_text(CJK)

    customer.get_by_label(chinese("Your name")).fill("王芳")
    customer.get_by_label(chinese("Your email")).fill("wang.fang@example.com")
    customer.get_by_label(chinese("Recipient phone numbers")).fill("+86 138 0013 8000")
    customer.get_by_label(chinese("What happened?")).fill("验证码一直没有收到。")
    customer.get_by_role("button", name=chinese("File my ticket")).click()

    case = Case.objects.get()
    expect(customer.get_by_text(case.reference).first).to_be_visible()
    expect_chinese_page(customer)
    assert case.language == "zh-hans"
    received = OutboundEmail.objects.get(case=case, to="wang.fang@example.com")
    assert CJK.search(received.subject) and CJK.search(received.body), received.subject

    # Tracking: the private link, in Chinese.
    tracking_url = customer.url.split("?")[0]
    customer.goto(tracking_url)
    expect_chinese_page(customer)
    expect(customer.get_by_role("main")).to_contain_text(case.reference)

    # The agent: queue, case page, the guided steps to an outcome, the reply.
    desk = in_chinese(browser, live_server)
    desk.goto("/accounts/login/")
    expect_chinese_page(desk)
    form = AuthenticationForm()
    desk.get_by_label(chinese(form.fields["username"].label)).fill(agent.get_username())
    desk.get_by_label(chinese(form.fields["password"].label)).fill("pw-" + agent.get_username())
    desk.get_by_role("button", name=chinese("Sign in")).click()
    desk.wait_for_url("**/")
    desk.goto("/cases/")
    expect_chinese_page(desk)
    row = desk.get_by_role("row").filter(has=desk.get_by_role("link", name=case.reference))
    row.get_by_role("button", name=chinese("Claim")).click()
    desk.wait_for_url(f"**/cases/{case.reference}/")
    expect_chinese_page(desk)
    expect(desk.locator("#customer-language")).to_have_text("简体中文")

    for node_id, value in route_to(guide, "R_inbox_full"):
        node = guide[node_id]
        expect(desk.locator("#step-heading")).to_have_text(chinese(node.title))
        label = next(a.label for a in node.answers if a.value == value)
        desk.get_by_label(chinese(label), exact=True).check()
        desk.get_by_role("button", name=chinese("Record answer")).click()
    outcome = guide["R_inbox_full"]
    expect(desk.locator("#step-heading")).to_have_text(chinese(outcome.title))
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED

    reply = desk.get_by_label(chinese("Reply to the customer"))
    expect(reply).to_have_value(chinese(outcome.customer_text))
    desk.get_by_role("button", name=chinese("Send reply")).click()
    expect(desk.locator("#conversation")).to_contain_text(chinese(outcome.customer_text))

    sent = OutboundEmail.objects.filter(case=case, to="wang.fang@example.com").order_by("pk").last()
    assert sent is not None and sent != received
    assert chinese(outcome.customer_text) in sent.body
    assert CJK.search(sent.subject), sent.subject
    desk.context.close()
    customer.context.close()

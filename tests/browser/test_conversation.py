"""The agent replies from the case page: the reply joins the thread, the box empties, one email goes out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from diagnosis.cases import services
from diagnosis.models import Case, EventKind, OutboundEmail
from diagnosis.support import tickets
from tests.browser.test_workspace import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_double_clicked_reply_is_sent_once_and_the_box_empties(
    page: Page, agent: User, make_case: Callable[..., Case]
) -> None:
    case = make_case(description="The code never came.")
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    tickets.add_customer_message(case.pk, "Any news?")
    sign_in(page, agent)
    page.goto(f"/cases/{case.reference}/")
    thread = page.locator("#conversation")
    expect(thread).to_contain_text("Any news?")

    box = page.get_by_label("Reply to the customer")
    box.fill("Please restart the phone and tell us if the code comes.")
    form = page.locator("#reply-form form")
    sent_form: dict[str, str | float | bool] = {
        "token": form.locator("input[name=token]").input_value(),
        "csrfmiddlewaretoken": form.locator("input[name=csrfmiddlewaretoken]").input_value(),
        "text": box.input_value(),
    }
    page.get_by_role("button", name="Send reply").dblclick()

    expect(page.get_by_role("status").filter(has_text="Reply sent to Dana Customer")).to_be_visible()
    expect(page.get_by_label("Reply to the customer")).to_have_value("")
    expect(thread).to_contain_text("Please restart the phone")
    expect(thread).to_contain_text("email queued")
    # The same form sent again (a resubmission) is refused by the server, whatever the page does.
    again = page.request.post(
        f"/cases/{case.reference}/reply/", form=sent_form, headers={"HX-Request": "true"}
    )
    assert "This reply was already sent; it was not sent again." in again.text()
    assert case.events.filter(kind=EventKind.REPLY).count() == 1
    assert OutboundEmail.objects.filter(case=case, subject__startswith="Update on").count() == 1


def test_a_note_is_confirmed_and_joins_the_timeline(
    page: Page, agent: User, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    sign_in(page, agent)
    page.goto(f"/cases/{case.reference}/")

    page.get_by_label("Internal note").fill("Called the carrier, all fine.")
    page.get_by_role("button", name="Add note").click()

    expect(page.get_by_role("status").filter(has_text="Note added")).to_be_visible()
    expect(page.get_by_label("Internal note")).to_have_value("")
    expect(page.locator("#timeline")).to_contain_text("Called the carrier, all fine.")

"""The customer's pages in detail: numbers as people read them, a message that says it was sent
(once), ways on from find-my-ticket, the time zone field, and headings that do not repeat labels."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from diagnosis.delivery import numbers
from diagnosis.models import Case, EventKind, OutboundEmail
from tests.diagnosis.conftest import ticket, tracking_path


def test_numbers_are_written_in_the_international_format() -> None:
    assert numbers.international("+8613800138000") == "+86 138 0013 8000"
    assert numbers.international("+4915123456789") == "+49 1512 3456789"
    assert numbers.international("not a number") == "not a number"


@pytest.mark.django_db
def test_the_customer_and_the_agent_see_numbers_in_the_international_format(
    client: Client, agent: User
) -> None:
    filed = client.post("/support/new/", ticket(numbers="+86 13800138000\n+4915123456789"))
    case = Case.objects.get()

    confirmation = client.get(filed["Location"]).content.decode()
    email = OutboundEmail.objects.get(to="rosa@example.com").body
    client.force_login(agent)
    case_page = client.get(f"/cases/{case.reference}/").content.decode()

    assert "+86 138 0013 8000, +49 1512 3456789" in confirmation
    assert "+8613800138000" not in confirmation
    assert "Numbers: +86 138 0013 8000, +49 1512 3456789" in email
    assert "<strong>+86 138 0013 8000</strong>" in case_page


@pytest.mark.django_db
def test_a_message_sent_from_the_tracking_page_is_confirmed_and_sent_once(client: Client) -> None:
    client.post("/support/new/", ticket())
    case = Case.objects.get()
    path = tracking_path(case)
    page = client.get(path).content.decode()
    once = re.search(r'name="once" value="([^"]+)"', page)
    assert once is not None and "data-submit-once" in page
    assert "Your message is sent" not in page

    first = client.post(path + "message/", {"text": "Still nothing today.", "once": once.group(1)})
    again = client.post(path + "message/", {"text": "Still nothing today.", "once": once.group(1)})
    shown = client.get(first["Location"]).content.decode()

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == path + "?sent=1#conversation"
    assert case.events.filter(kind=EventKind.CUSTOMER_MESSAGE).count() == 1
    assert re.search(r'role="status"[^>]*><p><strong>Your message is sent\.</strong>', shown)
    assert "Still nothing today." in shown
    # The box is empty again, ready for the next message.
    assert re.search(r'<textarea name="text"[^>]*>\s*</textarea>', shown)
    fresh = re.search(r'name="once" value="([^"]+)"', shown)
    assert fresh is not None and fresh.group(1) != once.group(1)


@pytest.mark.django_db
def test_find_my_ticket_offers_a_way_back_and_a_way_on(client: Client) -> None:
    asking = client.get("/support/find/").content.decode()
    done = client.post("/support/find/", {"email": "nobody@example.com"}).content.decode()

    for page in (asking, done):
        assert '<a href="/">Back to the start page</a>' in page
        assert '<a href="/support/new/">Report a new missing SMS</a>' in page
    assert "What happens next" in done


@pytest.mark.django_db
def test_the_description_section_does_not_repeat_its_field_label(client: Client) -> None:
    page = client.get("/support/new/").content.decode()

    legends = re.findall(r"<legend>([^<]+)</legend>", page)
    labels = re.findall(r'<label for="[^"]+">([^<]+)</label>', page)
    assert "What happened?" in labels
    assert not {legend.rstrip("?") for legend in legends} & {label.rstrip("?") for label in labels}


@pytest.mark.django_db
def test_only_a_fresh_form_lets_the_browser_choose_the_time_zone(client: Client) -> None:
    fresh = client.get("/support/new/").content.decode()
    returned = client.post("/support/new/", ticket(description="")).content.decode()

    assert re.search(r'<select name="sent_tz"[^>]*data-browser-zone', fresh)
    assert '<select name="sent_tz"' in returned and "data-browser-zone" not in returned

"""Tracking links: the database keeps only their hashes, and every link sent keeps working."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from diagnosis.models import Case, OutboundEmail, TrackingLink, token_digest
from tests.diagnosis.conftest import rows_holding, ticket

LINK = re.compile(r"/support/t/([^/\s]+)/")


EMAIL_BODY = frozenset({"diagnosis.OutboundEmail.body"})


def file_one(client: Client, **overrides: object) -> str:
    """File a ticket through the public form; the token of the link shown on the confirmation redirect."""
    response = client.post("/support/new/", ticket(**overrides))
    assert response.status_code == 302
    match = LINK.match(response["Location"])
    assert match is not None, response["Location"]
    return match.group(1)


def email_links(email: OutboundEmail) -> list[str]:
    return LINK.findall(email.body)


@pytest.mark.django_db
def test_filing_keeps_the_raw_token_only_in_the_outgoing_email(client: Client) -> None:
    token = file_one(client)

    assert len(token) >= 43  # 256 random bits
    assert rows_holding(token, except_fields=EMAIL_BODY) == []
    assert TrackingLink.objects.get().token_hash == token_digest(token)
    assert email_links(OutboundEmail.objects.get()) == [token]


@pytest.mark.django_db
def test_the_link_in_the_email_opens_the_tracking_page(client: Client) -> None:
    file_one(client)
    case = Case.objects.get()
    (url,) = re.findall(r"https?://\S+", OutboundEmail.objects.get().body)

    page = Client().get(urlsplit(url).path)

    assert page.status_code == 200
    assert case.reference in page.content.decode()


@pytest.mark.django_db
def test_a_wrong_token_is_404(client: Client) -> None:
    token = file_one(client)
    stored = TrackingLink.objects.get().token_hash
    near = token[:-1] + ("A" if token[-1] != "A" else "B")

    for wrong in (secrets.token_urlsafe(32), stored, near, token.upper(), token + "x"):
        assert client.get(f"/support/t/{wrong}/").status_code == 404, wrong
        assert client.post(f"/support/t/{wrong}/message/", {"text": "hello"}).status_code == 404
    assert client.get(f"/support/t/{token}/").status_code == 200


@pytest.mark.django_db
def test_asking_for_links_again_sends_new_ones_and_never_breaks_the_old(client: Client) -> None:
    first = file_one(client)
    other_customers = file_one(client, email="someone.else@example.com")
    OutboundEmail.objects.all().delete()

    for _ in range(2):  # anyone may ask, as often as the rate limit allows
        assert client.post("/support/find/", {"email": "rosa@example.com"}).status_code == 200
    fresh = [token for email in OutboundEmail.objects.order_by("pk") for token in email_links(email)]

    assert len(fresh) == 2 and first not in fresh and len(set(fresh)) == 2
    case = Case.objects.get(reporter_email="rosa@example.com")
    for token in [first, *fresh]:
        assert client.get(f"/support/t/{token}/").status_code == 200
        assert TrackingLink.find_case(token) == case
    assert TrackingLink.find_case(other_customers) != case
    for token in fresh:
        assert rows_holding(token, except_fields=EMAIL_BODY) == []


@pytest.mark.django_db
def test_a_message_from_the_tracking_page_goes_back_to_the_same_link(client: Client) -> None:
    token = file_one(client)

    page = client.get(f"/support/t/{token}/").content.decode()
    response = client.post(f"/support/t/{token}/message/", {"text": "Still nothing."})

    assert f'action="/support/t/{token}/message/"' in page
    assert response.status_code == 302 and response["Location"].startswith(f"/support/t/{token}/?sent=1")


@pytest.mark.django_db
def test_the_tracking_page_reads_the_link_case_and_numbers_at_once(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    path = f"/support/t/{file_one(client, numbers='+4915123456789, +4915123456780')}/"
    # The link with its case and numbers, then the conversation; SQLite reads the numbers apart.
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 3):
        page = Client().get(path).content.decode()

    assert "+49 1512 3456789, +49 1512 3456780" in page

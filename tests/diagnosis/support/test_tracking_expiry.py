"""A tracking link stops working TRACKING_LINK_DAYS_AFTER_CLOSE days after its case is closed,
and at once when the customer's data is erased: the page says so with 410, and takes no message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from diagnosis.cases import erasure, services
from diagnosis.guide import Guide
from diagnosis.models import Case, EventKind, OutboundEmail, TrackingLink
from diagnosis.support import tickets
from tests.diagnosis.conftest import route_to, walk_to

pytestmark = pytest.mark.django_db


def link(case: Case) -> str:
    """A fresh private link's token: the database keeps only hashes, so each test makes its own."""
    return TrackingLink.issue(case)


@pytest.fixture
def closed(make_case: Callable[..., Case], guide: Guide, agent: User, lead: User) -> Case:
    case = walk_to(make_case(), route_to(guide, "R_inbox_full"), agent)
    return services.close_case(case.pk, actor=lead)


def test_the_link_works_until_the_configured_days_after_closing(closed: Case, client: Client) -> None:
    assert closed.closed_at is not None
    url = f"/support/t/{link(closed)}/"

    with time_machine.travel(closed.closed_at + timedelta(days=30, seconds=-1), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(closed.closed_at + timedelta(days=30), tick=False):
        response = client.get(url)

    assert response.status_code == 410
    content = response.content.decode()
    assert "This ticket is closed" in content and 'href="/support/new/"' in content
    assert closed.reference not in content and "dana@example.com" not in content


def test_the_reply_form_is_refused_once_the_link_expired(closed: Case, client: Client) -> None:
    assert closed.closed_at is not None
    with time_machine.travel(closed.closed_at + timedelta(days=31), tick=False):
        response = client.post(f"/support/t/{link(closed)}/message/", {"text": "Still broken"})

    assert response.status_code == 410
    assert not closed.events.filter(kind=EventKind.CUSTOMER_MESSAGE).exists()


def test_the_days_come_from_settings(closed: Case, client: Client, settings: object) -> None:
    settings.TRACKING_LINK_DAYS_AFTER_CLOSE = 0  # type: ignore[attr-defined]
    assert client.get(f"/support/t/{link(closed)}/").status_code == 410


def test_reopening_opens_the_link_again(closed: Case, client: Client, lead: User) -> None:
    services.reopen_case(closed.pk, actor=lead)
    with time_machine.travel(timezone.now() + timedelta(days=60), tick=False):
        assert client.get(f"/support/t/{link(closed)}/").status_code == 200


def test_an_erased_case_closes_its_link_at_once(make_case: Callable[..., Case], client: Client) -> None:
    case = make_case()
    erasure.erase_case(case.pk, actor=None, reason=erasure.BY_REQUEST)

    assert client.get(f"/support/t/{link(case)}/").status_code == 410
    assert client.post(f"/support/t/{link(case)}/message/", {"text": "hi"}).status_code == 410


def test_open_cases_keep_their_link(make_case: Callable[..., Case]) -> None:
    case = make_case()
    assert tickets.tracking_link_open(case, timezone.now() + timedelta(days=1000))


def test_an_unknown_link_is_still_a_plain_404(client: Client) -> None:
    assert client.get("/support/t/not-a-token/").status_code == 404


def test_find_my_ticket_sends_only_links_that_still_open(closed: Case) -> None:
    assert closed.closed_at is not None
    with time_machine.travel(closed.closed_at + timedelta(days=29), tick=False):
        assert tickets.resend_links(closed.reporter_email) == 1
    with time_machine.travel(closed.closed_at + timedelta(days=30), tick=False):
        assert tickets.resend_links(closed.reporter_email) == 0
    links = OutboundEmail.objects.filter(case=None, to=closed.reporter_email)
    assert links.count() == 1  # only the one sent while the link still opened

"""The ticket form's self-help calls a message delivered exactly when the agent's verdict would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from diagnosis.delivery import case_reports
from diagnosis.guide.evidence import Standing
from diagnosis.models import Case
from diagnosis.support import tickets
from tests.diagnosis.conftest import MSG_ID, store_report, ticket

OTHER_ID = "9b1c0e2a-4d5f-4a6b-8c7d-0e1f2a3b4c5d_11840136"
GOOD_NEWS = "Good news: the network confirmed"


@pytest.mark.django_db
def test_a_single_part_delivrd_is_delivered() -> None:
    store_report(MSG_ID, "DELIVRD")

    assert tickets.delivered_message([MSG_ID]) == MSG_ID


@pytest.mark.django_db
def test_every_part_delivered_is_delivered() -> None:
    for part in (1, 2, 3):
        store_report(MSG_ID, "DELIVRD", sequence=part, total=3)

    assert tickets.delivered_message([MSG_ID]) == MSG_ID


@pytest.mark.django_db
@pytest.mark.parametrize("parts", [(1,), (2,), (1, 3)])
def test_some_parts_delivered_is_not_delivered(parts: tuple[int, ...]) -> None:
    for part in parts:
        store_report(MSG_ID, "DELIVRD", sequence=part, total=3)

    assert tickets.delivered_message([MSG_ID]) is None


@pytest.mark.django_db
def test_a_failed_part_next_to_delivered_ones_is_not_delivered() -> None:
    store_report(MSG_ID, "DELIVRD", sequence=1, total=2)
    store_report(MSG_ID, "UNDELIV", sequence=2, total=2)

    assert tickets.delivered_message([MSG_ID]) is None


@pytest.mark.django_db
def test_a_failure_and_a_delivrd_for_the_same_part_is_not_delivered() -> None:
    store_report(MSG_ID, "UNDELIV")
    store_report(MSG_ID, "DELIVRD")

    assert tickets.delivered_message([MSG_ID]) is None


@pytest.mark.django_db
def test_among_several_messages_the_fully_delivered_one_is_named() -> None:
    store_report(MSG_ID, "DELIVRD", sequence=1, total=2)  # half delivered
    for part in (1, 2):
        store_report(OTHER_ID, "DELIVRD", sequence=part, total=2)

    assert tickets.delivered_message([MSG_ID, OTHER_ID]) == OTHER_ID
    assert tickets.delivered_message([OTHER_ID, MSG_ID]) == OTHER_ID
    assert tickets.delivered_message([MSG_ID]) is None


@pytest.mark.django_db
def test_a_delivered_message_next_to_a_failed_one_offers_no_phone_checks() -> None:
    # The agent's verdict over the ticket's messages is then final and failed.
    store_report(MSG_ID, "DELIVRD")
    store_report(OTHER_ID, "UNDELIV")

    assert case_reports.messages_verdict([MSG_ID, OTHER_ID]).standing is Standing.FAILED
    assert tickets.delivered_message([MSG_ID, OTHER_ID]) is None


@pytest.mark.django_db
def test_no_message_ids_or_no_reports_is_not_delivered() -> None:
    assert tickets.delivered_message([]) is None
    assert tickets.delivered_message([MSG_ID]) is None


@pytest.mark.django_db
def test_the_self_help_agrees_with_the_verdict_the_agent_is_shown(make_case: Callable[..., Case]) -> None:
    store_report(MSG_ID, "DELIVRD", sequence=1, total=2)
    case = make_case()
    assert case_reports.evidence_for(case).verdict.standing is Standing.PENDING
    assert tickets.delivered_message([MSG_ID]) is None

    store_report(MSG_ID, "DELIVRD", sequence=2, total=2)
    assert case_reports.evidence_for(case).verdict.standing is Standing.DELIVERED
    assert tickets.delivered_message([MSG_ID]) == MSG_ID


@pytest.mark.django_db
def test_the_reports_are_read_in_one_query_however_many_ids(
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    ids = [f"{MSG_ID[:-2]}{n:02d}" for n in range(tickets.MAX_MSG_IDS)]
    for msg_id in ids:
        for part in (1, 2):
            store_report(msg_id, "DELIVRD", sequence=part, total=2)

    # One query for the reports, one for their catalogue rows.
    with django_assert_max_num_queries(2):
        assert tickets.delivered_message(ids) == ids[0]


@pytest.mark.django_db
def test_the_form_offers_no_phone_checks_for_a_partly_delivered_message(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD", sequence=1, total=3)

    page = client.post("/support/new/", ticket(msg_ids=MSG_ID)).content.decode()
    assert GOOD_NEWS not in page

    for part in (2, 3):
        store_report(MSG_ID, "DELIVRD", sequence=part, total=3)
    page = client.post("/support/new/", ticket(msg_ids=MSG_ID)).content.decode()
    assert GOOD_NEWS in page

"""/cases/ searches: every case unless a tab is chosen, where the matches are, and query counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from diagnosis.cases import services
from diagnosis.models import Case, Message
from tests.diagnosis.workspace.test_queue_views import bulk_cases

CN = "+8613800138000"


@pytest.fixture
def held(make_case: Callable[..., Case], other_agent: User) -> Case:
    """A case a colleague is working on: in no tab but All."""
    case = make_case(number=CN)
    services.assign(case.pk, assignee=other_agent, actor=other_agent, claim=True)
    return case


def test_the_default_tab_searches_every_case(agent_client: Client, held: Case) -> None:
    response = agent_client.get("/cases/", {"q": "8613800138000"})
    html = response.content.decode()

    assert [c.pk for c in response.context["page"].object_list] == [held.pk]
    assert "Showing every case whose number is +8613800138000" in html
    assert "1 case matches: <a" in html and "1 held by a colleague (in All)</a>" in html
    assert "in this tab" not in html
    # The search form keeps no tab, so the next search looks everywhere too.
    assert '<input type="hidden" name="tab" value="" form="queue-form">' in html


def test_a_chosen_tab_keeps_the_search_and_says_where_the_matches_are(
    agent_client: Client, held: Case
) -> None:
    response = agent_client.get("/cases/", {"tab": "unassigned", "q": CN})
    html = response.content.decode()

    assert response.context["page"].object_list == []
    assert "No case matches that search in this tab." in html
    assert "Across all tabs, 1 case matches:" in html
    assert 'href="?tab=all&amp;q=%2B8613800138000&amp;sort=oldest"' in html
    assert 'href="?q=%2B8613800138000&amp;sort=oldest">Search every tab</a>' in html
    assert '<input type="hidden" name="tab" value="unassigned" form="queue-form">' in html


def test_a_search_that_finds_nothing_does_not_blame_the_tab(
    agent_client: Client, make_case: Callable[..., Case]
) -> None:
    make_case()
    html = agent_client.get("/cases/", {"q": "no-such-message"}).content.decode()

    assert "No case matches that search." in html and "in this tab" not in html
    assert 'id="search-summary"' not in html


def test_a_partial_reference_finds_its_case(agent_client: Client, make_case: Callable[..., Case]) -> None:
    case = make_case()
    make_case(msg_ids=("x",))

    page = agent_client.get("/cases/", {"q": case.reference[:6].lower()}).context["page"]

    assert case.pk in [c.pk for c in page.object_list]
    assert all(c.reference.startswith(case.reference[:6]) for c in page.object_list)


def test_paging_a_search_keeps_searching_every_case(agent_client: Client, db: None) -> None:
    cases = bulk_cases(30)
    Message.objects.bulk_create([Message(case=c, msg_id=f"batch-{i:02d}") for i, c in enumerate(cases)])

    first = agent_client.get("/cases/", {"q": "batch-"})
    cursor = first.context["page"].next_cursor
    second = agent_client.get("/cases/", {"q": "batch-", "tab": "", "after": cursor}).context["page"]

    assert f"?tab=&amp;q=batch-&amp;sort=oldest&amp;after={cursor}".encode() in first.content
    assert len(first.context["page"].object_list) == 25 and len(second.object_list) == 5
    assert b"30 cases match" in first.content


def test_the_export_without_a_tab_holds_every_match(
    client: Client, lead: User, held: Case, make_case: Callable[..., Case]
) -> None:
    make_case(number="+14155550123", msg_ids=("x",))
    client.force_login(lead)

    response = client.get("/cases/export.csv", {"q": CN})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]

    assert response["Content-Disposition"].endswith('cases-all.csv"')
    assert [row[0] for row in rows[1:]] == [held.reference]


def test_search_query_count_is_constant_as_cases_grow(
    agent_client: Client, db: None, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    def grow(count: int) -> None:
        cases = bulk_cases(count)
        Message.objects.bulk_create([Message(case=c, msg_id=f"4915123{c.pk:06d}") for c in cases])

    grow(10)
    query = {"q": "4915123"}  # a number's start: a message id prefix matching every case
    agent_client.get("/cases/", query)  # counts the tabs once; later views read the cache
    with CaptureQueriesContext(connection) as small:
        agent_client.get("/cases/", query)
    grow(190)
    # Session, user, the user's two permission sets, the page's rows and where the matches are.
    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as large:
        response = agent_client.get("/cases/", query)

    assert len(response.context["page"].object_list) == 25
    assert response.context["summary"].total == 200
    assert len(small) == len(large), [q["sql"] for q in large.captured_queries]

"""Keyset pages of the queue: every sort walks every row once, forwards and back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diagnosis.cases import queue
from diagnosis.cases.queue import Sort, Tab, encode_cursor, parse_search
from diagnosis.models import Case, CaseState, Recipient

SIZE = 4


@pytest.fixture
def cases(db: None) -> list[Case]:
    """Ties on every sort key: shared creation times, shared deadlines, and no deadline at all."""
    now = timezone.now().replace(microsecond=0)
    rows = []
    for i in range(23):
        created = now - timedelta(minutes=i // 3)  # three cases per minute
        deadline = None if i % 4 == 0 else now + timedelta(hours=i % 3)
        state = CaseState.WAITING if deadline else CaseState.NEW
        rows.append(
            Case(
                reporter_name=f"Customer {i}",
                reporter_email=f"c{i}@example.com",
                current_node="report_returned",
                created_at=created,
                wait_deadline=deadline,
                state=state,
            )
        )
    made = Case.objects.bulk_create(rows)
    Recipient.objects.bulk_create(
        [
            Recipient(case=c, e164=f"+4915123{i:06d}", region="DE", number_type="mobile")
            for i, c in enumerate(made)
        ]
    )
    return made


def expected(sort: Sort) -> list[int]:
    far = timezone.now() + timedelta(days=365 * 1000)
    rows = list(Case.objects.all())
    if sort == Sort.NEWEST:
        rows.sort(key=lambda c: (c.created_at, c.pk), reverse=True)
    elif sort == Sort.DEADLINE:
        rows.sort(key=lambda c: (c.wait_deadline or far, c.created_at, c.pk))
    else:
        rows.sort(key=lambda c: (c.created_at, c.pk))
    return [c.pk for c in rows]


@pytest.mark.parametrize("sort", list(Sort))
def test_every_sort_pages_through_every_row_once_and_back(cases: list[Case], agent: User, sort: Sort) -> None:
    def page(**cursor: str) -> queue.Page:
        return queue.page(Tab.ALL, agent, parse_search(""), sort, size=SIZE, **cursor)

    pages = [page()]
    while pages[-1].has_next:
        pages.append(page(after=pages[-1].next_cursor))
    back = [pages[-1]]
    while back[-1].has_previous:
        back.append(page(before=back[-1].previous_cursor))

    forward = [c.pk for p in pages for c in p.object_list]
    assert forward == expected(sort)
    assert [[c.pk for c in p.object_list] for p in back[::-1]][:-1] == [
        [c.pk for c in p.object_list] for p in pages
    ][:-1]
    assert not pages[0].has_previous and len(back) == len(pages)


def test_encode_cursor_starts_the_page_right_after_a_case(cases: list[Case], agent: User) -> None:
    order = expected(Sort.OLDEST)
    row = Case.objects.get(pk=order[9])

    page = queue.page(
        Tab.ALL, agent, parse_search(""), Sort.OLDEST, after=encode_cursor(row, Sort.OLDEST), size=SIZE
    )

    assert [c.pk for c in page.object_list] == order[10:14]
    assert page.has_previous and page.has_next


def test_a_cursor_made_for_another_sort_gives_the_first_page(cases: list[Case], agent: User) -> None:
    cursor = encode_cursor(cases[5], Sort.DEADLINE)

    page = queue.page(Tab.ALL, agent, parse_search(""), Sort.OLDEST, after=cursor, size=SIZE)

    assert [c.pk for c in page.object_list] == expected(Sort.OLDEST)[:SIZE] and not page.has_previous


def test_a_deep_page_is_one_query_with_its_first_number(cases: list[Case], agent: User) -> None:
    row = Case.objects.get(pk=expected(Sort.OLDEST)[15])

    with CaptureQueriesContext(connection) as queries:
        page = queue.page(
            Tab.ALL, agent, parse_search(""), Sort.OLDEST, after=encode_cursor(row, Sort.OLDEST)
        )
        numbers = [(vars(c)["first_number"], vars(c)["number_count"]) for c in page.object_list]

    assert len(queries) == 1
    assert all(number.startswith("+4915123") and count == 1 for number, count in numbers)


def test_tab_counts_are_cached_and_follow_every_saved_case(cases: list[Case], agent: User) -> None:
    first = queue.tab_counts(agent)
    with CaptureQueriesContext(connection) as queries:
        again = queue.tab_counts(agent)
    case = Case.objects.filter(state=CaseState.NEW).first()
    assert case is not None
    case.assigned_to = agent
    case.save()
    after = queue.tab_counts(agent)

    unassigned, mine = first[Tab.UNASSIGNED], first[Tab.MINE]
    assert len(queries) == 0 and again == first
    assert unassigned is not None and mine is not None
    assert (after[Tab.UNASSIGNED], after[Tab.MINE]) == (unassigned - 1, mine + 1)

"""Queue search: what an entry is read as, what each reading finds, and where the matches are."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from diagnosis.cases import queue, services
from diagnosis.cases.queue import Sort, Tab, Term, parse_search
from diagnosis.models import Case, CaseState
from tests.diagnosis.conftest import walk_to

CN = "+8613800138000"


def readings(text: str, region: str | None = None) -> set[tuple[str, str]]:
    return {(term.kind, term.value) for term in parse_search(text, region).terms}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+8613800138000", {("number", CN)}),
        ("+86 138-0013 (8000)", {("number", CN)}),
        # Without "+" a number may also be the start of a message id: both are searched.
        ("8613800138000", {("number", CN), ("message", "8613800138000")}),
        ("008613800138000", {("number", CN), ("message", "008613800138000")}),
        ("0086 138 0013 8000", {("number", CN)}),
        ("(86) 138 0013 8000", {("number", CN)}),
    ],
)
def test_a_number_is_read_with_or_without_plus_or_with_00(text: str, expected: set[tuple[str, str]]) -> None:
    assert readings(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SMS-Y2", {("reference", "SMS-Y2")}),
        ("sms-y2", {("reference", "SMS-Y2")}),
        ("smsy2k", {("reference", "SMS-Y2K")}),
        ("SMS-Y2K4MN", {("reference", "SMS-Y2K4MN")}),
        # Without its prefix the start of a reference may as well start a message id.
        ("y2k", {("reference", "SMS-Y2K"), ("message", "y2k")}),
        ("abc-123", {("message", "abc-123")}),
        ("2ea20735-f856", {("message", "2ea20735-f856")}),
    ],
)
def test_references_and_message_ids_are_read_as_prefixes(text: str, expected: set[tuple[str, str]]) -> None:
    assert readings(text) == expected


def test_national_notation_needs_the_region() -> None:
    assert readings("0151 23456789", "DE") == {("number", "+4915123456789")}
    without = parse_search("0151 23456789")
    assert not without.terms and "Add the country code" in without.problem


def test_an_unreadable_international_number_is_a_problem_not_a_message_id() -> None:
    search = parse_search("+999 123 456")

    assert search.terms == () and "could not be read as a phone number" in search.problem


def test_the_readings_are_described_in_words() -> None:
    assert parse_search("y2k").description == (
        "whose reference starts with SMS-Y2K or whose message id starts with y2k"
    )
    assert Term("reference", "SMS-Y2K4MN").description == "reference is SMS-Y2K4MN"
    assert Term("number", CN).description == f"number is {CN}"


def found(user: User, text: str, tab: Tab = Tab.ALL) -> list[int]:
    page = queue.page(tab, user, parse_search(text), Sort.OLDEST)
    return [case.pk for case in page.object_list]


@pytest.mark.parametrize("text", ["+8613800138000", "8613800138000", "008613800138000", "+86 138 0013 8000"])
def test_a_number_finds_its_case_exactly(agent: User, make_case: Callable[..., Case], text: str) -> None:
    wanted = make_case(number=CN, msg_ids=("m-1",))
    make_case(number="+8613800138001", msg_ids=("m-2",))  # one digit more would not match

    assert found(agent, text) == [wanted.pk]


def test_digits_find_a_number_and_a_message_id_alike(agent: User, make_case: Callable[..., Case]) -> None:
    by_number = make_case(number=CN, msg_ids=("m-1",))
    by_message = make_case(number="+4915123456789", msg_ids=("8613800138000-77",))
    make_case(number="+14155550123", msg_ids=("m-3",))

    assert set(found(agent, "8613800138000")) == {by_number.pk, by_message.pk}


def test_the_start_of_a_reference_finds_every_case_it_starts(
    agent: User, make_case: Callable[..., Case]
) -> None:
    cases = [make_case(msg_ids=(f"m-{i}",)) for i in range(12)]
    target = cases[0].reference
    for typed in (target[:6], target[:6].lower(), target[4:6], target.lower().replace("sms-", "")):
        prefix = "SMS-" + typed.upper().removeprefix("SMS-")
        expected = {c.pk for c in cases if c.reference.startswith(prefix)}
        assert set(found(agent, typed)) == expected and cases[0].pk in expected, typed


def test_the_start_of_a_message_id_finds_its_case(agent: User, make_case: Callable[..., Case]) -> None:
    wanted = make_case(msg_ids=("abc-123",))
    make_case(msg_ids=("xabc-123",))

    assert found(agent, "abc") == [wanted.pk]
    assert found(agent, "abc-123") == [wanted.pk]
    assert found(agent, "bc-123") == []


def test_like_wildcards_are_taken_literally(agent: User, make_case: Callable[..., Case]) -> None:
    make_case(msg_ids=("abc-123",))
    percent = make_case(msg_ids=("a%bc",))

    assert found(agent, "a%b") == [percent.pk]
    assert found(agent, "ab_") == [] and found(agent, "%") == []


def test_too_short_a_start_is_matched_whole(agent: User, make_case: Callable[..., Case]) -> None:
    short = make_case(msg_ids=("ab",))
    make_case(msg_ids=("abc-123",))

    assert found(agent, "ab") == [short.pk]
    assert parse_search("ab").description == "whose reference starts with SMS-AB or whose message id is ab"
    assert readings("Y") == {("message", "Y")}  # one character starts too many references


def test_a_reference_prefix_needs_two_characters() -> None:
    search = parse_search("SMS-Y")

    assert search.terms == ()
    assert search.problem == "Type at least 2 characters after “SMS-” to find a reference."


def test_no_tab_chosen_searches_every_case_but_not_a_plain_listing() -> None:
    assert queue.scope(None, parse_search("y2k")) == Tab.ALL
    assert queue.scope(None, parse_search("state:open")) == Tab.ALL
    assert queue.scope(None, parse_search("")) == Tab.UNASSIGNED
    assert queue.scope(Tab.UNASSIGNED, parse_search("y2k")) == Tab.UNASSIGNED


@pytest.fixture
def spread(make_case: Callable[..., Case], agent: User, other_agent: User) -> dict[str, Case]:
    """Cases with the same number in every tab, and one a colleague holds (in All alone)."""
    cases = {
        "unassigned": make_case(number=CN),
        "mine": make_case(number=CN),
        "colleague": make_case(number=CN),
        "waiting": walk_to(
            make_case(number=CN), [("report_returned", "no_report"), ("dial_recipient", "yes")], other_agent
        ),
        "elsewhere": make_case(number="+14155550123"),
    }
    services.assign(cases["mine"].pk, assignee=agent, actor=agent, claim=True)
    services.assign(cases["colleague"].pk, assignee=other_agent, actor=other_agent, claim=True)
    services.assign(cases["waiting"].pk, assignee=other_agent, actor=other_agent)
    assert cases["waiting"].state == CaseState.WAITING
    return cases


def test_tabs_that_overlap_each_count_the_case(agent: User, make_case: Callable[..., Case]) -> None:
    walk_to(make_case(number=CN), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)

    summary = queue.summary(agent, parse_search(CN))

    assert summary is not None and summary.total == 1
    assert [m.text for m in summary.tabs] == ["1 in Unassigned", "1 in Waiting for report"]


def test_the_summary_says_which_tabs_hold_the_matches(agent: User, spread: dict[str, Case]) -> None:
    summary = queue.summary(agent, parse_search("8613800138000"))

    assert summary is not None and not summary.capped
    assert summary.total == 4 and summary.headline == "4 cases match"
    assert [(m.tab, m.count, m.text) for m in summary.tabs] == [
        (Tab.UNASSIGNED, 1, "1 in Unassigned"),
        (Tab.MINE, 1, "1 in Mine"),
        (Tab.WAITING, 1, "1 in Waiting for report"),
        (Tab.ALL, 1, "1 held by a colleague (in All)"),
    ]


def test_the_summary_counts_no_further_than_its_limit(agent: User, spread: dict[str, Case]) -> None:
    summary = queue.summary(agent, parse_search(CN), limit=3)
    exact = queue.summary(agent, parse_search(CN), limit=4)

    assert summary is not None and summary.capped and summary.tabs == ()
    assert summary.headline == "more than 3 cases match"
    assert exact is not None and not exact.capped and exact.total == 4


def test_one_case_matches_in_the_singular(agent: User, make_case: Callable[..., Case]) -> None:
    make_case(number=CN)

    summary = queue.summary(agent, parse_search(CN))

    assert summary is not None and summary.headline == "1 case matches"


def test_no_summary_without_a_readable_search(agent: User) -> None:
    assert queue.summary(agent, parse_search("")) is None
    assert queue.summary(agent, parse_search("+999 123 456")) is None


def test_search_results_page_by_keyset(agent: User, make_case: Callable[..., Case]) -> None:
    wanted = [make_case(msg_ids=(f"batch-{i:02d}",)).pk for i in range(7)]
    make_case(msg_ids=("other",))
    search = parse_search("batch-")

    first = queue.page(Tab.ALL, agent, search, Sort.NEWEST, size=3)
    second = queue.page(Tab.ALL, agent, search, Sort.NEWEST, after=first.next_cursor, size=3)
    third = queue.page(Tab.ALL, agent, search, Sort.NEWEST, after=second.next_cursor, size=3)
    back = queue.page(Tab.ALL, agent, search, Sort.NEWEST, before=second.previous_cursor, size=3)

    walked = [c.pk for p in (first, second, third) for c in p.object_list]
    assert walked == wanted[::-1] and not third.has_next
    assert [c.pk for c in back.object_list] == [c.pk for c in first.object_list]


def test_a_search_page_and_its_summary_are_two_queries(agent: User, spread: dict[str, Case]) -> None:
    search = parse_search("8613800138000")

    with CaptureQueriesContext(connection) as queries:
        page = queue.page(Tab.ALL, agent, search, Sort.OLDEST)
        queue.summary(agent, search)

    assert len(page.object_list) == 4 and len(queries) == 2


def test_words_that_are_nothing_searchable_say_so_and_match_nothing(
    agent: User, make_case: Callable[..., Case]
) -> None:
    make_case()
    search = parse_search("Dana Customer")

    assert search.terms == () and search.problem == (
        "“Dana Customer” is not a case reference, phone number or message id."
    )
    assert found(agent, "Dana Customer") == []


@pytest.mark.usefixtures("requires_postgres")
@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("SMS-Y2", "diagnosis_case_reference_"),  # Django's varchar_pattern_ops index of the unique field
        ("52101754bebd", "diagnosis_message_msg_prefix"),
        ("+8613800138000", "diagnosis_recipient_"),
    ],
)
def test_each_reading_is_found_by_an_index(db: None, text: str, index: str) -> None:
    (term,) = parse_search(text).terms
    sql, params = term.case_ids().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tables this small would be scanned whole
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert index in plan and "Seq Scan" not in plan, plan


def test_cases_held_by_colleagues_read_in_the_plural(
    agent: User, other_agent: User, make_case: Callable[..., Case]
) -> None:
    for _ in range(2):
        case = make_case(number=CN)
        services.assign(case.pk, assignee=other_agent, actor=other_agent, claim=True)

    summary = queue.summary(agent, parse_search(CN))

    assert summary is not None and [m.text for m in summary.tabs] == ["2 held by colleagues (in All)"]

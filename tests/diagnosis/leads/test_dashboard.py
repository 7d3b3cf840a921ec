"""/leads/: every live figure against cases built for it, the queue links, polling, query counts,
and the lead's review actions (reassign many, close, reopen)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import count
from unittest.mock import patch

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries, Settings

from diagnosis.cases import queue, services
from diagnosis.guide import Guide
from diagnosis.leads import dashboard
from diagnosis.models import (
    Case,
    CaseState,
    Deflection,
    Escalation,
    Event,
    EventKind,
    Message,
    Recipient,
    ReportChannel,
    StatusReport,
)
from tests.conftest import make_user
from tests.diagnosis.conftest import route_to, walk_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(client: Client, lead: User) -> Client:
    client.force_login(lead)
    return client


@pytest.fixture
def team(
    make_case: Callable[..., Case], guide: Guide, agent: User, other_agent: User, lead: User
) -> dict[str, Case]:
    """Cases in every state, built through the services, with ages set afterwards."""

    def give(case: Case, person: User) -> Case:
        services.assign(case.pk, assignee=person, actor=lead)
        return case

    def walked(target: str) -> Case:
        return walk_to(make_case(), route_to(guide, target), agent)

    waiting_route = [("report_returned", "no_report"), ("dial_recipient", "yes")]
    cases = {
        "n1": make_case(),
        "n2": give(make_case(), agent),
        "p1": give(walk_to(make_case(), [("report_returned", "report_present")], agent), agent),
        "w1": give(walk_to(make_case(), waiting_route, agent), agent),
        "w2": give(walk_to(make_case(), waiting_route, agent), other_agent),
        "w3": walk_to(make_case(), waiting_route, agent),
        "e1": give(walked("E_frequency_limit"), agent),
        "e2": walked("E_frequency_limit"),
        "e3": walked("E_frequency_limit"),  # closed below, its escalation still open at customer service
        "r1": give(walked("R_inbox_full"), agent),
        "c1": give(walked("R_inbox_full"), other_agent),
    }
    services.close_case(cases["e3"].pk, actor=lead)
    services.close_case(cases["c1"].pk, actor=lead)
    old = walked("E_frequency_limit")  # an escalation customer service already answered
    services.close_case(old.pk, actor=lead)
    Escalation.objects.filter(case=old).update(closed_at=timezone.now())
    return cases


def _age(team: dict[str, Case], now: datetime) -> None:
    """Set deadlines, escalation ages and last changes relative to `now` (after every service call)."""
    deadlines = {"w1": timedelta(hours=30), "w2": timedelta(hours=5), "w3": -timedelta(minutes=10)}
    for key, left in deadlines.items():
        Case.objects.filter(pk=team[key].pk).update(wait_deadline=now + left)
    for key, age in {"e1": timedelta(days=3), "e3": timedelta(days=2), "e2": timedelta(hours=1)}.items():
        Escalation.objects.filter(case=team[key]).update(opened_at=now - age)
    for key, idle in {"n1": 40, "p1": 30, "w1": 50, "r1": 60}.items():
        Case.objects.filter(pk=team[key].pk).update(updated_at=now - timedelta(hours=idle))


def test_snapshot_counts_open_work_by_state(team: dict[str, Case]) -> None:
    now = timezone.now()
    _age(team, now)

    live = dashboard.snapshot(24, now=now)

    assert {f.label: f.count for f in live.states} == {
        "New": 2,
        "In progress": 1,
        "Waiting for report": 3,
        "Escalated": 2,
    }
    assert (live.open_total.count, live.unassigned.count, live.waiting_total.count) == (8, 3, 3)


def test_waiting_cases_come_soonest_deadline_first_with_time_left(team: dict[str, Case]) -> None:
    now = timezone.now()
    _age(team, now)

    waiting = dashboard.snapshot(24, now=now).waiting

    assert [row.case.pk for row in waiting] == [team["w3"].pk, team["w2"].pk, team["w1"].pk]
    assert [row.time_left for row in waiting] == [
        -timedelta(minutes=10),
        timedelta(hours=5),
        timedelta(hours=30),
    ]
    assert [(row.overdue, row.soon) for row in waiting] == [(True, True), (False, True), (False, False)]
    assert waiting[1].time_left_text == "5 h"


def test_open_escalations_oldest_first_with_age(team: dict[str, Case]) -> None:
    now = timezone.now()
    _age(team, now)

    live = dashboard.snapshot(24, now=now)

    assert [row.escalation.case_id for row in live.escalations] == [team[k].pk for k in ("e1", "e3", "e2")]
    assert [row.age for row in live.escalations] == [timedelta(days=3), timedelta(days=2), timedelta(hours=1)]
    assert live.escalations[0].title == "Sending frequency limit reached"
    # A closed case whose escalation is still open counts; an answered escalation does not.
    assert live.escalations_total.count == 3


def test_untouched_new_and_in_progress_cases_are_flagged(team: dict[str, Case]) -> None:
    now = timezone.now()
    _age(team, now)

    live = dashboard.snapshot(24, now=now)

    # The waiting and resolved cases are just as old, but their next move is not ours.
    assert [row.case.pk for row in live.stale] == [team["n1"].pk, team["p1"].pk]
    assert [row.idle for row in live.stale] == [timedelta(hours=40), timedelta(hours=30)]
    assert live.stale_total.count == 2
    assert dashboard.snapshot(35, now=now).stale_total.count == 1


def test_each_persons_open_and_waiting_load(team: dict[str, Case], db: None) -> None:
    leaver = make_user("quinn", None, first_name="Quinn", is_active=False)
    services.assign(team["n1"].pk, assignee=leaver, actor=leaver)

    loads = {load.name: (load.open.count, load.waiting.count) for load in dashboard.snapshot(24).loads}

    # Leads work cases too; someone who left still shows while holding a case.
    assert loads == {"Avery": (4, 1), "Blake": (1, 1), "Quinn": (1, 0), "Morgan": (0, 0)}


def test_every_number_opens_the_queue_with_exactly_those_cases(
    team: dict[str, Case], lead_client: Client
) -> None:
    _age(team, timezone.now())
    live = dashboard.snapshot(24)
    figures = [
        *live.states,
        live.open_total,
        live.unassigned,
        live.waiting_total,
        live.escalations_total,
        live.stale_total,
        *(figure for load in live.loads for figure in (load.open, load.waiting)),
    ]

    page = lead_client.get("/leads/").content.decode()

    for figure in figures:
        assert figure.url.startswith("/cases/?tab=")
        assert figure.url.replace("&", "&amp;") in page, figure
        listed = lead_client.get(figure.url).context["page"]
        assert not listed.has_next  # the seeded team fits on one page
        assert len(listed.object_list) == figure.count, (figure, len(listed.object_list))


def test_a_stale_limit_of_one_hour_reads_in_the_singular(
    team: dict[str, Case], lead_client: Client, settings: Settings
) -> None:
    settings.LEAD_STALE_AFTER_HOURS = 1

    content = lead_client.get("/leads/").content.decode()

    assert "Untouched for 1 hour or more" in content


def test_the_page_shows_the_panels_and_the_stale_limit_from_settings(
    team: dict[str, Case], lead_client: Client, settings: Settings
) -> None:
    settings.LEAD_STALE_AFTER_HOURS = 6
    _age(team, timezone.now())

    response = lead_client.get("/leads/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "untouched for 6 h or more" in content and "Untouched for 6 hours or more" in content
    assert 'hx-trigger="every 30s"' in content
    assert "Record their answer" in content and f"/cases/{team['e1'].reference}/#escalations" in content
    assert "Past the deadline" in content
    assert response.context["live"].stale_total.count == 2
    # The trends are not live: the first response only asks for them once the page is shown.
    assert '<svg class="chart" role="img"' not in content and "summary" not in response.context
    assert 'id="trends"' in content and 'hx-get="/leads/?days=7" hx-trigger="load"' in content
    trends = lead_client.get("/leads/", headers={"HX-Request": "true", "HX-Target": "trends"})
    assert '<svg class="chart" role="img"' in trends.content.decode()


def test_trends_not_yet_computed_are_asked_for_never_computed_on_the_request(
    lead_client: Client, settings: Settings
) -> None:
    from django.core.cache import cache

    from diagnosis import tasks
    from diagnosis.leads import trends

    settings.TRENDS_CACHE_SECONDS = 600
    cache.delete(trends.CACHE_KEY.format(days=7))
    cache.delete(trends.REFRESH_ASKED_KEY)
    headers = {"HX-Request": "true", "HX-Target": "trends"}

    with patch.object(trends, "publish") as publish, patch.object(trends, "summarise") as summarise:
        content = lead_client.get("/leads/", headers=headers).content.decode()
    assert content.lstrip().startswith('<section id="trends"')
    assert 'hx-trigger="load delay:10s"' in content and "being worked out" in content
    publish.assert_called_once_with(tasks.refresh_trends_task)
    summarise.assert_not_called()

    trends.refresh_cached_summaries()
    content = lead_client.get("/leads/", headers=headers).content.decode()
    assert '<svg class="chart" role="img"' in content and "hx-trigger" not in content.split("</h2>")[0]
    assert 'id="trends-as-of"' in content  # precomputed, so the page says when


def test_polling_gets_only_the_live_panels(team: dict[str, Case], lead_client: Client) -> None:
    response = lead_client.get("/leads/", headers={"HX-Request": "true", "HX-Target": "live-panels"})

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="live-panels"')
    assert 'hx-trigger="every 30s"' in content
    assert "<html" not in content and 'id="trends"' not in content
    assert "HX-Request" in response["Vary"]


def test_choosing_a_period_swaps_only_the_trends(team: dict[str, Case], lead_client: Client) -> None:
    response = lead_client.get("/leads/?days=30", headers={"HX-Request": "true", "HX-Target": "trends"})

    content = response.content.decode()
    assert content.lstrip().startswith('<section id="trends"')
    assert "last 30 days" in content and 'id="live-panels"' not in content
    opened = f'<span class="figure-count">{len(team) + 1}</span> <span class="figure-label">cases opened'
    assert opened in content


def test_a_history_restore_gets_the_whole_page(lead_client: Client) -> None:
    headers = {"HX-Request": "true", "HX-Target": "trends", "HX-History-Restore-Request": "true"}
    assert b"<html" in lead_client.get("/leads/", headers=headers).content


def test_the_spike_warning_and_its_rule_are_on_the_page(lead_client: Client, db: None) -> None:
    now = timezone.now()
    cases = bulk_cases(10, now - timedelta(days=10), status="DELIVRD")
    bulk_cases(5, now - timedelta(days=1), status="E200024")
    bulk_cases(5, now - timedelta(days=1), status="DELIVRD")
    assert len(cases) == 10

    content = lead_client.get(
        "/leads/", headers={"HX-Request": "true", "HX-Target": "trends"}
    ).content.decode()

    assert 'id="spikes"' in content
    assert (
        "<strong>E200024 · International SMS is not enabled for this sender</strong>: 5 cases, 50%" in content
    )
    assert "at least 5 cases in the period and its share of the cases opened is at least 2 times" in content


def test_the_line_chart_and_self_help_have_their_own_headings(lead_client: Client, db: None) -> None:
    bulk_cases(6, timezone.now() - timedelta(days=2))
    headers = {"HX-Request": "true", "HX-Target": "trends"}

    week = lead_client.get("/leads/?days=90", headers=headers).content.decode()
    day = lead_client.get("/leads/?days=30", headers=headers).content.decode()

    assert '<h3 id="daily-heading">Cases opened and outcomes reached per week</h3>' in week
    assert '<h3 id="daily-heading">Cases opened and outcomes reached per day</h3>' in day
    assert '<section class="card" aria-labelledby="daily-heading">' in day
    # Self-help is a section of its own, not a part of the time to outcome.
    resolution = day.split('aria-labelledby="resolution-heading">', 1)[1].split("</section>", 1)[0]
    assert "self-help" not in resolution.lower()
    selfhelp = day.split('<section class="card" aria-labelledby="selfhelp-heading">', 1)[1]
    assert selfhelp.lstrip().startswith('<h3 id="selfhelp-heading">Solved by self-help</h3>')
    assert "<strong>3</strong> solved at the check" in selfhelp.split("</section>", 1)[0]


# --- Query counts ------------------------------------------------------------------------------

_serial = count()


def bulk_cases(
    number: int, created_at: datetime, *, status: str = "", people: list[User] | None = None
) -> list[Case]:
    """`number` cases spread over every state, with numbers, messages, reports and escalations."""
    states = [
        CaseState.NEW,
        CaseState.IN_PROGRESS,
        CaseState.WAITING,
        CaseState.ESCALATED,
        CaseState.RESOLVED,
    ]
    now = timezone.now()
    batch = []
    for i in range(number):
        state = states[i % len(states)] if people else CaseState.NEW
        concluded = state in (CaseState.RESOLVED, CaseState.ESCALATED)
        outcome = (
            ("E_frequency_limit" if state == CaseState.ESCALATED else "R_inbox_full") if concluded else ""
        )
        batch.append(
            Case(
                reporter_name=f"Customer {i}",
                reporter_email=f"c{i}@example.com",
                current_node=outcome or "report_returned",
                state=state,
                assigned_to=people[i % len(people)] if people and i % 3 else None,
                created_at=created_at - timedelta(minutes=i),
                wait_deadline=now + timedelta(hours=i) if state == CaseState.WAITING else None,
                outcome=outcome,
                cause=outcome[2:],
                resolved_at=now - timedelta(minutes=i) if concluded else None,
            )
        )
    cases = Case.objects.bulk_create(batch)
    serial = [next(_serial) for _ in cases]
    Recipient.objects.bulk_create(
        Recipient(case=c, e164=f"+4915123{n:06d}", region="DE", carrier=("Telekom", "O2")[n % 2])
        for n, c in zip(serial, cases, strict=True)
    )
    Message.objects.bulk_create(
        Message(case=c, msg_id=f"bulk-{n}") for n, c in zip(serial, cases, strict=True)
    )
    code = status or "DELIVRD"
    StatusReport.objects.bulk_create(
        StatusReport(
            msg_id=f"bulk-{n}",
            status=code,
            channel=ReportChannel.CALLBACK,
            updated_at=now,
            dedupe_key=StatusReport.make_dedupe_key(f"bulk-{n}", 1, code, now),
        )
        for n in serial
    )
    Escalation.objects.bulk_create(
        Escalation(case=c, reason="frequency_limit") for c in cases if c.state == CaseState.ESCALATED
    )
    Deflection.objects.bulk_create(
        Deflection(msg_id=f"bulk-{n}", solved_by="junk_folder") for n in serial[:3]
    )
    return cases


# The counts measured when these ceilings were set: a new query per page must be a choice.
# The tests count open work on every request (LEAD_COUNTS_CACHE_SECONDS 0); the trends
# are not in the first response, they load on their own request.
@pytest.mark.parametrize(
    ("headers", "ceiling"), [({}, 10), ({"HX-Request": "true", "HX-Target": "live-panels"}, 10)]
)
def test_query_count_is_constant_as_cases_grow(
    lead_client: Client,
    agent: User,
    other_agent: User,
    headers: dict[str, str],
    ceiling: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    people = [agent, other_agent]

    def untouched() -> None:
        Case.objects.filter(state=CaseState.NEW).update(updated_at=timezone.now() - timedelta(hours=30))

    bulk_cases(10, timezone.now() - timedelta(hours=30), people=people)
    untouched()
    lead_client.get("/leads/", headers=headers)  # warm the session and permission caches alike
    with CaptureQueriesContext(connection) as small:
        lead_client.get("/leads/", headers=headers)
    bulk_cases(190, timezone.now() - timedelta(hours=30), people=people)
    untouched()
    with django_assert_max_num_queries(ceiling), CaptureQueriesContext(connection) as large:
        response = lead_client.get("/leads/", headers=headers)

    content = response.content.decode()
    assert '<span class="figure-count">160</span> <span class="figure-label">open in all' in content
    assert '<span class="figure-count">40</span> <span class="figure-label">untouched' in content
    assert len(small) == len(large), [q["sql"] for q in large.captured_queries]


def test_the_trends_read_from_the_summaries_take_the_same_queries_for_any_period(
    lead_client: Client, settings: Settings, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    from diagnosis.leads import trends

    settings.TRENDS_CACHE_SECONDS = 600
    bulk_cases(20, timezone.now() - timedelta(days=40))
    trends.refresh_cached_summaries()
    headers = {"HX-Request": "true", "HX-Target": "trends"}
    lead_client.get("/leads/?days=7", headers=headers)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as week:
        lead_client.get("/leads/?days=7", headers=headers)
    bulk_cases(200, timezone.now() - timedelta(days=60))
    trends.refresh_cached_summaries()

    # Weekly points for 90 days are counted by the refresh, never on the request.
    with django_assert_max_num_queries(len(week)), CaptureQueriesContext(connection) as quarter:
        content = lead_client.get("/leads/?days=90", headers=headers).content.decode()
    assert "per week" in content and len(quarter) == len(week)


def test_polls_close_together_share_one_count(
    team: dict[str, Case],
    lead_client: Client,
    settings: Settings,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    from django.core.cache import cache

    settings.LEAD_COUNTS_CACHE_SECONDS = 60
    cache.delete(dashboard.TALLY_CACHE_KEY.format(hours=settings.LEAD_STALE_AFTER_HOURS))
    first = lead_client.get("/leads/")
    Case.objects.filter(pk=team["n1"].pk).update(state=CaseState.IN_PROGRESS)

    # Only the three lists are read: the figures are the shared tally's.
    with django_assert_max_num_queries(7):
        second = lead_client.get("/leads/")
    assert second.context["live"].states == first.context["live"].states
    assert second.context["live"].now == first.context["live"].now  # "as of" says when they were counted
    cache.delete(dashboard.TALLY_CACHE_KEY.format(hours=settings.LEAD_STALE_AFTER_HOURS))
    assert lead_client.get("/leads/").context["live"].states != first.context["live"].states


def test_a_due_tally_is_recounted_by_one_request_while_others_show_the_last(
    team: dict[str, Case], settings: Settings
) -> None:
    from django.core.cache import cache

    settings.LEAD_COUNTS_CACHE_SECONDS = 15
    key = dashboard.TALLY_CACHE_KEY.format(hours=24)
    cache.delete_many([key, key + ":counting"])
    start = timezone.now()
    first = dashboard.cached_tally(24, start)
    Case.objects.filter(pk=team["n1"].pk).update(state=CaseState.IN_PROGRESS)

    assert dashboard.cached_tally(24, start + timedelta(seconds=14)) == first  # still fresh
    cache.add(key + ":counting", True, 30)  # another request is counting
    assert dashboard.cached_tally(24, start + timedelta(seconds=20)) == first
    cache.delete(key + ":counting")
    recounted = dashboard.cached_tally(24, start + timedelta(seconds=20))
    assert recounted.counted_at == start + timedelta(seconds=20) and recounted.states != first.states
    assert cache.get(key + ":counting") is None


# --- Queue filters the numbers link to -----------------------------------------------------------


def test_filter_words_are_read_as_a_filter() -> None:
    search = queue.parse_search("state:new,in_progress  assignee:avery untouched:24 escalation:open")

    assert (search.kind, search.problem) == ("filter", "")
    assert search.value == "state:new,in_progress assignee:avery untouched:24h escalation:open"
    assert queue.parse_search("STATE:open").value == "state:open"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("state:sleeping", "“sleeping” is not a case state"),
        ("untouched:soon", "needs a number of hours"),
        ("escalation:closed", "use escalation:open"),
    ],
)
def test_a_filter_it_cannot_read_says_why_and_matches_nothing(
    text: str, problem: str, lead_client: Client, make_case: Callable[..., Case]
) -> None:
    make_case()
    response = lead_client.get("/cases/", {"tab": "all", "q": text})

    assert problem in response.context["search"].problem
    assert not response.context["page"].object_list


def test_plain_searches_are_unchanged_by_filters() -> None:
    msg_id = "2ea20735-f856-4376-afbf-570bd70a46ee_11840135"
    assert queue.parse_search(msg_id).terms == (queue.Term("message", msg_id),)
    mixed = queue.parse_search("state:new and more")  # not only filter words
    assert mixed.kind != "filter" and not mixed.terms and "is not a case reference" in mixed.problem
    assert queue.parse_search("SMS-ABCDEF").terms == (queue.Term("reference", "SMS-ABCDEF"),)


def test_the_queue_says_what_the_filter_is(lead_client: Client, make_case: Callable[..., Case]) -> None:
    make_case()
    content = lead_client.get("/cases/", {"tab": "all", "q": "state:new"}).content.decode()

    assert "Showing cases that match <strong>state:new</strong>" in content
    assert "Clear the filter" in content


# --- Review actions -------------------------------------------------------------------------------


def test_the_queue_offers_leads_selection_and_agents_none(
    client: Client, lead: User, agent: User, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    client.force_login(lead)
    as_lead = client.get("/cases/?tab=all").content.decode()
    client.force_login(agent)
    as_agent = client.get("/cases/?tab=all").content.decode()

    checkbox = f'name="case" value="{case.reference}" form="bulk-reassign"'
    assert checkbox in as_lead and 'id="bulk-reassign"' in as_lead
    assert checkbox not in as_agent and "bulk-reassign" not in as_agent
    assert "/cases/export.csv?tab=all" in as_agent  # everyone who works cases may export the queue


def test_the_reassign_page_shows_the_ticked_cases(
    lead_client: Client, make_case: Callable[..., Case], agent: User
) -> None:
    first, second = make_case(), make_case()

    response = lead_client.get(
        "/leads/reassign/", {"case": [first.reference, second.reference], "next": "/cases/?tab=all"}
    )

    content = response.content.decode()
    assert (
        f'value="{first.reference}" checked' in content and f'value="{second.reference}" checked' in content
    )
    assert f'<option value="{agent.pk}">Avery</option>' in content
    assert 'value="/cases/?tab=all"' in content


def test_reassign_many_at_once(
    lead_client: Client, make_case: Callable[..., Case], agent: User, other_agent: User, lead: User
) -> None:
    cases = [make_case() for _ in range(3)]
    services.assign(cases[0].pk, assignee=other_agent, actor=lead)

    response = lead_client.post(
        "/leads/reassign/",
        {"case": [c.reference for c in cases], "assignee": agent.pk, "next": "/cases/?tab=unassigned"},
        follow=True,
    )

    assert response.redirect_chain == [("/cases/?tab=unassigned", 302)]
    assert "3 cases now assigned to Avery." in response.content.decode()
    assert set(Case.objects.values_list("assigned_to", flat=True)) == {agent.pk}
    events = Event.objects.filter(kind=EventKind.ASSIGNED, data__assignee=agent.pk)
    assert sorted(events.values_list("case_id", flat=True)) == sorted(c.pk for c in cases)
    assert set(events.values_list("actor", flat=True)) == {lead.pk}


def test_reassigning_moves_all_or_none(
    lead_client: Client, make_case: Callable[..., Case], guide: Guide, agent: User, lead: User
) -> None:
    fine = make_case()
    closed = walk_to(make_case(), route_to(guide, "R_inbox_full"), agent)
    services.close_case(closed.pk, actor=lead)

    response = lead_client.post(
        "/leads/reassign/", {"case": [fine.reference, closed.reference], "assignee": agent.pk}
    )

    assert response.status_code == 200
    assert f"{closed.reference} is closed; reopen it first." in response.content.decode()
    fine.refresh_from_db()
    assert fine.assigned_to is None  # rolled back with the refusal


def test_reassign_needs_a_choice_and_can_hand_back_to_nobody(
    lead_client: Client, make_case: Callable[..., Case], agent: User, lead: User
) -> None:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=lead)

    missing = lead_client.post("/leads/reassign/", {"case": [case.reference]})
    nobody = lead_client.post("/leads/reassign/", {"case": [case.reference], "assignee": "nobody"})
    nothing = lead_client.post("/leads/reassign/", {"assignee": agent.pk})

    assert "Choose who gets the cases." in missing.content.decode()
    assert nobody.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to is None
    assert nothing.status_code == 200 and "No case is selected." in nothing.content.decode()


def test_reassign_only_returns_to_pages_of_this_site(
    lead_client: Client, make_case: Callable[..., Case], agent: User
) -> None:
    case = make_case()
    form = {"case": [case.reference], "assignee": agent.pk, "next": "https://elsewhere.example/"}

    response = lead_client.post("/leads/reassign/", form)
    page = lead_client.get("/leads/reassign/", {"case": case.reference, "next": "javascript:alert(1)"})

    assert response["Location"] == "/cases/?tab=all"
    assert 'href="javascript:' not in page.content.decode()


def test_a_lead_closes_and_reopens_a_case_from_the_queue(
    lead_client: Client, make_case: Callable[..., Case], guide: Guide, agent: User
) -> None:
    case = walk_to(make_case(), route_to(guide, "R_inbox_full"), agent)
    back = "/cases/?tab=resolved"

    listed = lead_client.get(back).content.decode()
    closed = lead_client.post(f"/leads/cases/{case.reference}/close/", {"next": back})
    case.refresh_from_db()
    state_after_close = case.state
    reopened = lead_client.post(f"/leads/cases/{case.reference}/reopen/", {"next": back}, follow=True)

    assert f"/leads/cases/{case.reference}/close/" in listed
    assert closed["Location"] == back and state_after_close == CaseState.CLOSED
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED
    assert f"{case.reference} reopened." in reopened.content.decode()


def test_closing_an_open_case_is_refused_with_the_reason(
    lead_client: Client, make_case: Callable[..., Case]
) -> None:
    case = make_case()

    response = lead_client.post(f"/leads/cases/{case.reference}/close/", follow=True)

    assert "Only a resolved or escalated case can be closed." in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.NEW

"""Causes and trends: every figure against cases built for it, the spike rule, and the charts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import count
from unittest.mock import patch

import pytest
from django.utils import timezone
from pytest_django import Settings

from diagnosis.leads import charts, trends
from diagnosis.models import Case, CaseState, Deflection, Message, Recipient
from tests.diagnosis.conftest import store_report

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.get_fixed_timezone(0))
_numbers = count(1)


def seed(
    *,
    opened_ago: timedelta,
    status: str = "",
    statuses: Sequence[str] = (),
    region: str = "DE",
    carrier: str = "Vodafone",
    more_numbers: Sequence[tuple[str, str]] = (),
    outcome: str = "",
    took: timedelta | None = None,
) -> Case:
    """A case opened `opened_ago` before NOW, with one number and one message, and its reports.

    `status` stores one report; `statuses` stores several, a minute apart, in that order.
    `outcome` (an outcome node id) with `took` makes it reach that outcome `took` after opening.
    """
    n = next(_numbers)
    created = NOW - opened_ago
    fields: dict[str, object] = {}
    if outcome:
        fields = {
            "state": CaseState.ESCALATED if outcome.startswith("E_") else CaseState.RESOLVED,
            "outcome": outcome,
            "cause": outcome[2:],
            "current_node": outcome,
            "resolved_at": created + (took or timedelta(hours=1)),
        }
    case = Case.objects.create(
        reporter_name=f"Customer {n}",
        reporter_email=f"c{n}@example.com",
        created_at=created,
        **{"current_node": "report_returned", **fields},
    )
    Recipient.objects.create(case=case, e164=f"+491511{n:07d}", region=region, carrier=carrier)
    for i, (other_region, other_carrier) in enumerate(more_numbers):
        Recipient.objects.create(
            case=case, e164=f"+331{n:07d}{i}", region=other_region, carrier=other_carrier
        )
    msg_id = f"msg-{n}"
    Message.objects.create(case=case, msg_id=msg_id)
    for minute, code in enumerate([status] if status else statuses):
        store_report(msg_id, code, updated_at=created + timedelta(minutes=minute + 1))
    return case


def rows(breakdown: trends.Breakdown) -> dict[str, int]:
    return {row.key: row.count for row in breakdown.rows}


def test_period_and_baseline_are_equal_and_back_to_back() -> None:
    period = trends.Period.ending(30, NOW)

    assert period.start == NOW - timedelta(days=30)
    assert period.baseline_start == NOW - timedelta(days=60)
    assert trends.Period.ending(12, NOW).days == 7  # only 7, 30 and 90 are offered


def test_cases_opened_are_counted_by_final_status_country_and_carrier() -> None:
    seed(opened_ago=timedelta(days=1), status="DELIVRD", region="DE", carrier="Vodafone")
    seed(opened_ago=timedelta(days=2), statuses=["UNDELIV", "ACCEPTD"], region="DE", carrier="Telekom")
    seed(opened_ago=timedelta(days=3), statuses=["ACCEPTD"], region="FR", carrier="Orange")
    seed(opened_ago=timedelta(days=4), status="E200024", more_numbers=[("FR", "Orange")])
    seed(opened_ago=timedelta(days=9), status="DELIVRD")  # before the 7-day period

    summary = trends.summarise(trends.Period.ending(7, NOW))

    assert summary.opened == 4 and summary.opened_baseline == 1
    # The late ACCEPTD is not final, so UNDELIV stays that case's status; ACCEPTD alone is no final report.
    assert rows(summary.status_codes) == {"DELIVRD": 1, "UNDELIV": 1, "E200024": 1, "": 1}
    labels = {row.key: row.label for row in summary.status_codes.rows}
    assert labels[""] == "No final report yet"
    assert labels["E200024"].startswith("E200024 · International SMS is not enabled")
    # The case with a German and a French number counts once in each country.
    assert rows(summary.countries) == {"DE": 3, "FR": 2}
    assert {row.key: row.label for row in summary.countries.rows}["DE"] == "Germany (DE, +49)"
    assert rows(summary.carriers) == {"Vodafone": 2, "Telekom": 1, "Orange": 2}
    assert summary.countries.rows[0].share == 0.75


def test_a_report_matched_by_number_counts_only_for_a_case_without_message_ids() -> None:
    with_id = seed(opened_ago=timedelta(hours=5))
    without_id = seed(opened_ago=timedelta(hours=5))
    without_id.messages.all().delete()
    for case in (with_id, without_id):
        store_report(
            f"other-message-to-{case.pk}",
            "LIMIT",
            to_number=case.recipients.get().e164,
            updated_at=NOW - timedelta(hours=4),
        )

    statuses = trends.final_statuses(Case.objects.filter(pk__in=[with_id.pk, without_id.pk]))

    assert with_id.pk not in statuses
    assert statuses[without_id.pk].code == "LIMIT"


def test_outcomes_causes_and_time_to_outcome() -> None:
    for hours in (1, 2, 3, 4):
        seed(opened_ago=timedelta(days=2), outcome="R_inbox_full", took=timedelta(hours=hours))
    seed(opened_ago=timedelta(days=3), outcome="R_no_signal", took=timedelta(hours=10))
    seed(opened_ago=timedelta(days=4), outcome="E_frequency_limit", took=timedelta(hours=30))
    seed(opened_ago=timedelta(days=12), outcome="R_inbox_full", took=timedelta(hours=1))  # baseline
    seed(opened_ago=timedelta(days=1))  # still open: no outcome

    summary = trends.summarise(trends.Period.ending(7, NOW))

    assert summary.concluded == 6 and summary.concluded_baseline == 1
    assert rows(summary.results) == {"resolved": 5, "escalated": 1}
    assert rows(summary.causes) == {"inbox_full": 4, "no_signal": 1, "frequency_limit": 1}
    inbox = summary.causes.rows[0]
    assert (inbox.label, inbox.baseline_count, inbox.baseline_share) == ("The inbox was full", 1, 1.0)
    every, resolved, escalated = summary.resolution
    # Six durations 1, 2, 3, 4, 10, 30 h: median halfway between 3 and 4; nearest-rank p90 is the 6th.
    assert (every.count, every.median, every.p90) == (6, timedelta(hours=3.5), timedelta(hours=30))
    assert (resolved.count, resolved.median, resolved.p90) == (5, timedelta(hours=3), timedelta(hours=10))
    assert (escalated.count, escalated.median, escalated.p90) == (1, timedelta(hours=30), timedelta(hours=30))
    assert every.median_text == "3 h 30 min"


def test_percentiles_use_the_nearest_rank() -> None:
    ten = [timedelta(minutes=m) for m in range(1, 11)]

    assert trends.percentile(ten, 0.9) == timedelta(minutes=9)
    assert trends.percentile(ten[:1], 0.9) == timedelta(minutes=1)
    assert trends.percentile([], 0.9) is None
    assert trends.median([]) is None


def test_deflections_are_counted_by_the_check_that_helped() -> None:
    for ago, check in [(1, "junk_folder"), (2, "junk_folder"), (3, "inbox_full"), (10, "junk_folder")]:
        Deflection.objects.create(msg_id="m", solved_by=check, created_at=NOW - timedelta(days=ago))

    deflections = trends.summarise(trends.Period.ending(7, NOW)).deflections

    assert (deflections.total, deflections.baseline_total) == (3, 1)
    assert rows(deflections) == {"junk_folder": 2, "inbox_full": 1}


def test_the_period_choice_changes_what_is_counted() -> None:
    seed(opened_ago=timedelta(days=1), status="DELIVRD")
    seed(opened_ago=timedelta(days=20), status="DELIVRD")
    seed(opened_ago=timedelta(days=80), status="DELIVRD")

    opened = {days: trends.summarise(trends.Period.ending(days, NOW)).opened for days in (7, 30, 90)}

    assert opened == {7: 1, 30: 2, 90: 3}


def test_daily_series_puts_each_case_on_its_day(settings: Settings) -> None:
    settings.TIME_ZONE = "UTC"  # days are cut in the portal's zone
    seed(opened_ago=timedelta(days=1), outcome="R_inbox_full", took=timedelta(hours=2))
    seed(opened_ago=timedelta(days=1, hours=1))
    seed(opened_ago=timedelta(days=3))

    summary = trends.summarise(trends.Period.ending(7, NOW))

    assert summary.buckets.unit == "day"
    assert len(summary.buckets.labels) == 8 and summary.buckets.labels[-1] == "25 Nov"
    assert summary.opened_series == (0, 0, 0, 0, 1, 0, 2, 0)
    assert summary.concluded_series == (0, 0, 0, 0, 0, 0, 1, 0)
    assert [t.text for t in summary.buckets.ticks] == list(summary.buckets.labels)  # few days: every one


def test_thirty_days_are_counted_per_day_with_mondays_marked(settings: Settings) -> None:
    settings.TIME_ZONE = "UTC"
    seed(opened_ago=timedelta(days=29))
    seed(opened_ago=timedelta(days=2))

    summary = trends.summarise(trends.Period.ending(30, NOW))

    buckets = summary.buckets
    assert buckets.unit == "day" and len(buckets.labels) == 31  # 26 Oct (from noon) to 25 Nov
    assert (buckets.labels[0], buckets.labels[-1]) == ("26 Oct", "25 Nov")
    assert summary.opened_series[1] == 1 and summary.opened_series[-3] == 1
    assert sum(summary.opened_series) == 2
    assert [t.text for t in buckets.ticks] == ["26 Oct", "2 Nov", "9 Nov", "16 Nov", "23 Nov"]  # Mondays


def test_ninety_days_are_counted_per_week_from_monday(settings: Settings) -> None:
    settings.TIME_ZONE = "UTC"
    seed(opened_ago=timedelta(days=89))  # Friday 28 Aug: the first, short week
    seed(opened_ago=timedelta(days=2, hours=12, minutes=30))  # Sunday 22 Nov, 23:30
    seed(opened_ago=timedelta(days=2, hours=11, minutes=30))  # Monday 23 Nov, 00:30

    summary = trends.summarise(trends.Period.ending(90, NOW))

    buckets = summary.buckets
    assert buckets.unit == "week" and len(buckets.labels) == 14
    assert buckets.labels[:2] == ("27–30 Aug", "31 Aug – 6 Sep")  # the period starts on a Thursday
    assert buckets.labels[-2:] == ("16–22 Nov", "23–25 Nov")  # and ends on a Wednesday
    assert summary.opened_series[0] == 1 and summary.opened_series[-2:] == (1, 1)
    assert sum(summary.opened_series) == 3
    # Every other Monday, back from the latest week, which is always marked.
    assert [(t.index, t.text) for t in buckets.ticks] == [
        (1, "31 Aug"),
        (3, "14 Sep"),
        (5, "28 Sep"),
        (7, "12 Oct"),
        (9, "26 Oct"),
        (11, "9 Nov"),
        (13, "23 Nov"),
    ]
    chart = trends.summary_charts(summary)["daily"]
    assert ">Cases per week</text>" in chart and '<th scope="col">Week (Monday to Sunday)</th>' in chart


def test_weeks_are_cut_at_midnight_in_the_portals_time_zone(settings: Settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"  # an hour ahead of UTC in November
    seed(opened_ago=timedelta(days=2, hours=12, minutes=30))  # 23:30 UTC on Sunday is Monday in Berlin
    seed(opened_ago=timedelta(days=2, hours=11, minutes=30))

    summary = trends.summarise(trends.Period.ending(90, NOW))

    assert summary.opened_series[-2:] == (0, 2)


# --- The spike rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "total", "before", "before_total", "spike"),
    [
        (5, 10, 1, 10, True),  # 50% against 10%, and 5 cases
        (4, 8, 1, 10, False),  # the share jumped, but only 4 cases
        (5, 10, 3, 10, False),  # 50% against 30%: not doubled
        (6, 20, 3, 20, True),  # 30% against 15%: exactly doubled counts
        (5, 10, 0, 10, True),  # new: share 0 before, 5 cases now
        (9, 9, 0, 0, False),  # no baseline cases at all: nothing to compare with
    ],
)
def test_spike_rule(count: int, total: int, before: int, before_total: int, spike: bool) -> None:
    assert trends.is_spike(count, total, before, before_total) is spike


def test_a_status_code_that_doubles_its_share_is_flagged() -> None:
    # Baseline (days 8-14): 10 cases, 1 with E200024 (10%).
    seed(opened_ago=timedelta(days=9), status="E200024")
    for _ in range(9):
        seed(opened_ago=timedelta(days=10), status="DELIVRD", carrier="Telekom")
    # Period: 10 cases, 5 with E200024 (50%): a spike. Carrier Orange is new with 5 cases: a spike.
    for _ in range(5):
        seed(opened_ago=timedelta(days=1), status="E200024", carrier="Orange")
    for _ in range(5):
        seed(opened_ago=timedelta(days=2), status="DELIVRD", carrier="Telekom")

    summary = trends.summarise(trends.Period.ending(7, NOW))

    assert [(kind, row.key) for kind, row in summary.spikes] == [
        ("Status code", "E200024"),
        ("Carrier", "Orange"),
    ]
    flagged = summary.status_codes.spikes[0]
    assert (flagged.count, flagged.share_text, flagged.baseline_text) == (5, "50%", "10%")
    delivered = next(r for r in summary.status_codes.rows if r.key == "DELIVRD")
    assert not delivered.spike  # 50% against 90%


def test_four_cases_are_not_a_spike_and_missing_reports_never_are() -> None:
    for _ in range(10):
        seed(opened_ago=timedelta(days=10), status="DELIVRD", carrier="Telekom")
    for _ in range(4):
        seed(opened_ago=timedelta(days=1), status="LIMIT")
    for _ in range(6):
        seed(opened_ago=timedelta(days=1), carrier="")  # no report, unknown carrier: 0% before, 60% now

    summary = trends.summarise(trends.Period.ending(7, NOW))

    assert summary.spikes == []
    assert rows(summary.status_codes) == {"": 6, "LIMIT": 4}


# --- Charts ------------------------------------------------------------------------------------


def test_bar_chart_is_an_accessible_svg_with_a_table_of_every_row() -> None:
    bars = [charts.Bar(f"Code <{i}>", 20 - i, f"{i}%") for i in range(12)]

    html = charts.bar_chart("chart-x", "Final status", bars, heading="Status code")

    assert '<svg class="chart" role="img" aria-labelledby="chart-x-title chart-x-desc"' in html
    assert '<title id="chart-x-title">Final status</title>' in html
    assert "the largest is Code &lt;0&gt; with 20 cases" in html
    assert "Other (2 more)" in html  # ten bars are drawn, the rest as one
    assert html.count("<rect") == 11
    assert html.count("<tr><td>") == 12  # the table lists all twelve
    assert "<0>" not in html  # labels are escaped


def test_spiking_bars_are_drawn_in_the_warning_colour() -> None:
    html = charts.bar_chart("c", "T", [charts.Bar("A", 5, highlight=True), charts.Bar("B", 3)])

    assert html.count("chart-bar-spike") == 1


def test_line_chart_says_the_totals_in_words() -> None:
    html = charts.line_chart(
        "daily", "Per day", ["1 Nov", "2 Nov", "3 Nov"], [charts.Series("Opened", [1, 0, 4], "a")]
    )

    assert 'role="img"' in html and '<title id="daily-title">Per day</title>' in html
    assert "From 1 Nov to 3 Nov, cases per day. Opened: 5." in html
    assert html.count("<tr><th scope='row'>") == 3


def test_empty_charts_say_so_instead_of_drawing_nothing() -> None:
    assert "nothing in this period" in charts.bar_chart("c", "Causes", [])
    assert "nothing in this period" in charts.line_chart("c", "Per day", [], [])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=5), "5 h"),
        (timedelta(hours=5, minutes=20), "5 h 20 min"),
        (timedelta(days=3, hours=4, minutes=10), "3 d 4 h"),
        (timedelta(days=2), "2 d"),
        (-timedelta(hours=2), "2 h"),
        (None, "—"),
    ],
)
def test_durations_read_the_way_people_say_them(value: timedelta | None, text: str) -> None:
    assert charts.duration_text(value) == text


def test_dashboard_reads_trends_refreshed_in_the_background(
    make_case: Callable[..., Case], settings: Settings
) -> None:
    from django.core.cache import cache

    from diagnosis import tasks

    settings.TRENDS_CACHE_SECONDS = 600
    for days in trends.PERIOD_DAYS:
        cache.delete(trends.CACHE_KEY.format(days=days))
    cache.delete(trends.REFRESH_ASKED_KEY)
    make_case()
    with patch.object(trends, "publish") as publish:
        assert trends.cached_summary(7) is None  # never computed on the request
        assert trends.cached_summary(7) is None
    publish.assert_called_once_with(tasks.refresh_trends_task)  # asked for once, not per request
    trends.refresh_cached_summaries()  # what the refresh asked for does
    first = trends.cached_summary(7)
    assert first is not None
    make_case()

    assert trends.cached_summary(7) == first  # served from the cache
    tasks.refresh_trends_task()  # what beat runs every TRENDS_REFRESH_SECONDS
    refreshed = trends.cached_summary(7)
    assert refreshed is not None and refreshed.opened == first.opened + 1

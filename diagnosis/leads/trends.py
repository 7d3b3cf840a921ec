"""Causes and trends over a period: what failed, where, how fast it was settled, and spikes.

A period is the last 7, 30 or 90 days up to now; its *baseline* is the period of the
same length just before it. Two groups of cases are counted, and the page names both:

- cases **opened** in the period, by the final status code of their reports, by the
  country and by the carrier of their numbers (a case with numbers in two countries
  counts once in each, so those shares can add up to more than 100%);
- cases that **reached an outcome** in the period, by result and cause, and how long
  that took (median and 90th percentile, nearest-rank).

Spike rule: a status code or carrier is flagged when it has at least
`SPIKE_MIN_CASES` cases in the period *and* its share of the period's opened cases is
at least `SPIKE_FACTOR` times its share in the baseline. Something absent from a
baseline that had cases has a share of 0 there, so a new code with 5 cases is a spike;
when the baseline has no cases at all there is no usual share and nothing is flagged.
"No final report yet" and an unknown carrier are gaps in the data, never spikes.

Every figure takes a fixed number of queries however many cases there are; the rows
are fetched as plain values and counted here.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from diagnosis.delivery import case_reports, catalogue
from diagnosis.guide import Result, get_guide
from diagnosis.leads import charts, countries
from diagnosis.models import Case, Deflection, Message, Recipient, StatusReport, TestMessage
from portal.periodic import once_per_slot
from portal.publish import publish

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PERIOD_DAYS = (7, 30, 90)
DEFAULT_DAYS = 7
SPIKE_FACTOR = 2
SPIKE_MIN_CASES = 5
# From this many days the line chart counts per week (Monday to Sunday), not per day:
# 90 daily points are too narrow to read.
WEEKLY_FROM_DAYS = 90
# A daily chart with more points than this marks only Mondays on its axis.
DAILY_TICKS_ALL_UP_TO = 10

NO_FINAL_REPORT = ""  # the status-code key of a case without a final report yet
# Labels kept in the cached summary are lazy, so each page shows them in its own language.
NO_FINAL_REPORT_LABEL = gettext_lazy("No final report yet")
UNKNOWN_LABEL = gettext_lazy("Unknown")
RESULT_LABELS: dict[str, StrOrPromise] = {
    Result.RESOLVED: gettext_lazy("Resolved by support"),
    Result.ESCALATED: gettext_lazy("Handed to customer service"),
}
# Where beat leaves each period's summary. Renaming the class or changing its fields means
# a new key: a cached object of the old shape could not be read back.
CACHE_KEY = "trends-summary:v3:{days}"
# Set while a refresh asked for by a page (on a cache miss) is on its way.
REFRESH_ASKED_KEY = "trends-refresh-asked"
# How long a summary may stand in for the next one if refreshes fall behind.
SUMMARY_KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Period:
    """The last `days` days up to `end`, and the baseline of equal length before them."""

    days: int
    end: datetime

    @classmethod
    def ending(cls, days: int, now: datetime | None = None) -> Period:
        return cls(days if days in PERIOD_DAYS else DEFAULT_DAYS, now or timezone.now())

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    @property
    def baseline_start(self) -> datetime:
        return self.end - timedelta(days=2 * self.days)


@dataclass(frozen=True)
class Share:
    """One row of a breakdown: how many cases, and their share now and in the baseline."""

    key: str
    label: StrOrPromise
    count: int
    share: float
    baseline_count: int
    baseline_share: float | None  # None when the baseline had no cases to compare with
    spike: bool = False

    @property
    def share_text(self) -> str:
        return f"{self.share:.0%}"

    @property
    def baseline_text(self) -> str:
        return _("no cases") if self.baseline_share is None else f"{self.baseline_share:.0%}"

    @property
    def detail(self) -> str:
        return _("%(share)s (before: %(baseline)s)") % {
            "share": self.share_text,
            "baseline": self.baseline_text,
        }


@dataclass(frozen=True)
class Breakdown:
    title: StrOrPromise
    heading: StrOrPromise  # what the rows are: "Status code", "Carrier"
    total: int  # cases in the period the shares are of
    baseline_total: int
    rows: tuple[Share, ...]

    @property
    def spikes(self) -> list[Share]:
        return [row for row in self.rows if row.spike]

    def bars(self) -> list[charts.Bar]:
        return [charts.Bar(str(r.label), r.count, r.detail, r.spike) for r in self.rows if r.count]


@dataclass(frozen=True)
class Durations:
    """How long cases took from opening to their outcome."""

    label: StrOrPromise
    count: int
    median: timedelta | None
    p90: timedelta | None

    @property
    def median_text(self) -> str:
        return charts.duration_text(self.median)

    @property
    def p90_text(self) -> str:
        return charts.duration_text(self.p90)


@dataclass(frozen=True)
class FinalStatus:
    code: str
    summary: str

    @property
    def label(self) -> str:
        # The summary is the catalogue's English, kept in the cached summary; worded when shown.
        return f"{self.code} · {_(self.summary)}" if self.summary else self.code


@dataclass(frozen=True)
class Buckets:
    """The points of the line chart: days, or weeks from Monday, in the portal's time zone.

    The first and last bucket may be partial (the period starts mid-day, or mid-week);
    their labels name only the days they count. Only dates are kept (the summary is
    cached); the labels are written when read, in the active language.
    """

    unit: str  # "day" or "week"
    spans: tuple[tuple[date, date], ...]  # the first and last day of each point
    marked: tuple[tuple[int, date], ...]  # the points the x axis marks, and the day it names
    index: Mapping[date, int]  # the bucket of each day of the period

    @property
    def labels(self) -> tuple[str, ...]:
        """Each point in full, e.g. "3 Nov" or "3–9 Nov"."""
        return tuple(_span_text(first, last) for first, last in self.spans)

    @property
    def ticks(self) -> tuple[charts.Tick, ...]:
        return tuple(charts.Tick(n, _day_text(day)) for n, day in self.marked)


@dataclass(frozen=True)
class TrendSummary:
    """Every figure of the causes and trends section for one period (see the module docstring)."""

    period: Period
    opened: int
    opened_baseline: int
    concluded: int
    concluded_baseline: int
    results: Breakdown
    causes: Breakdown
    status_codes: Breakdown
    countries: Breakdown
    carriers: Breakdown
    resolution: tuple[Durations, ...]
    deflections: Breakdown
    buckets: Buckets
    opened_series: tuple[int, ...]  # cases opened per bucket
    concluded_series: tuple[int, ...]  # outcomes reached per bucket

    @property
    def spikes(self) -> list[tuple[str, Share]]:
        """Spiking status codes and carriers, with what kind of thing each one is."""
        return [(_("Status code"), s) for s in self.status_codes.spikes] + [
            (_("Carrier"), s) for s in self.carriers.spikes
        ]


# --- Rules ----------------------------------------------------------------------------------------


def is_spike(count: int, total: int, baseline_count: int, baseline_total: int) -> bool:
    """The spike rule (see the module docstring), in whole numbers so no rounding decides it."""
    if count < SPIKE_MIN_CASES or total == 0 or baseline_total == 0:
        return False
    return count * baseline_total >= SPIKE_FACTOR * baseline_count * total


def percentile(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """Nearest-rank percentile: the smallest value at least `fraction` of all values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def durations(label: StrOrPromise, values: Sequence[timedelta]) -> Durations:
    return Durations(label, len(values), median(values), percentile(values, 0.9))


def breakdown(
    title: StrOrPromise,
    heading: StrOrPromise,
    current: Mapping[str, int],
    baseline: Mapping[str, int],
    totals: tuple[int, int],
    labels: Mapping[str, StrOrPromise],
    *,
    watch: bool = False,
    never_spike: Iterable[str] = (),
) -> Breakdown:
    """Rows for every key seen now, largest first; `watch` applies the spike rule."""
    total, baseline_total = totals
    quiet = set(never_spike)
    rows = []
    for key, count in sorted(current.items(), key=lambda item: (-item[1], str(labels.get(item[0], item[0])))):
        before = baseline.get(key, 0)
        rows.append(
            Share(
                key=key,
                label=labels.get(key, key),
                count=count,
                share=count / total if total else 0.0,
                baseline_count=before,
                baseline_share=before / baseline_total if baseline_total else None,
                spike=watch and key not in quiet and is_spike(count, total, before, baseline_total),
            )
        )
    return Breakdown(title, heading, total, baseline_total, tuple(rows))


# --- Queries --------------------------------------------------------------------------------------


def final_statuses(cases: QuerySet[Case]) -> dict[int, FinalStatus]:
    """The final status code of each case, by the same rule as the case page (`case_reports.arrange`).

    Five queries for any number of cases; cases without a final status are absent
    from the result.
    """
    rows = {case.pk: case for case in cases.only("pk", "sent_at", "created_at", "waiting_since")}
    msg_ids: dict[int, set[str]] = defaultdict(set)
    numbers: dict[int, set[str]] = defaultdict(set)
    tests: dict[int, set[str]] = defaultdict(set)
    case_ids = list(rows)
    for case_id, msg_id in Message.objects.filter(case__in=case_ids).values_list("case_id", "msg_id"):
        msg_ids[case_id].add(msg_id)
    for case_id, e164 in Recipient.objects.filter(case__in=case_ids).values_list("case_id", "e164"):
        numbers[case_id].add(e164)
    for case_id, msg_id in TestMessage.objects.filter(case__in=case_ids).values_list("case_id", "msg_id"):
        tests[case_id].add(msg_id)
    by_msg: dict[str, list[int]] = defaultdict(list)
    by_number: dict[str, list[int]] = defaultdict(list)
    for case_id in case_ids:
        for msg_id in msg_ids[case_id]:
            by_msg[msg_id].append(case_id)
        # Reports matched by number only count for a case that names no message id.
        if not msg_ids[case_id]:
            for e164 in numbers[case_id]:
                by_number[e164].append(case_id)
    # Literal lists, not subqueries: an OR of two subqueries makes PostgreSQL scan every report.
    reports = StatusReport.objects.filter(Q(msg_id__in=list(by_msg)) | Q(to_number__in=list(by_number))).only(
        "msg_id", "to_number", "status", "sequence", "total", "updated_at", "received_at"
    )
    per_case: dict[int, list[StatusReport]] = defaultdict(list)
    for report in reports:
        for case_id in {*by_msg.get(report.msg_id, ()), *by_number.get(report.to_number, ())}:
            per_case[case_id].append(report)
    codes = catalogue.branches_for({r.status for found in per_case.values() for r in found})
    result = {}
    for case_id, found in per_case.items():
        arranged = case_reports.arrange(
            rows[case_id],
            found,
            msg_ids=sorted(msg_ids[case_id]),
            numbers=numbers[case_id],
            test_ids=tests[case_id],
            codes=codes,
        )
        found_verdict = arranged.evidence().verdict
        if found_verdict.final:
            code = catalogue.normalise_code(found_verdict.code)
            row = codes.get(code)
            result[case_id] = FinalStatus(code, row.summary if row and row.documented else "")
    return result


def cached_summary(days: int) -> TrendSummary | None:
    """The summary of the last `days` as the periodic refresh left it; None until there is one.

    At production size one summary reads every case of the period and their reports,
    so it is never computed on a request: beat recomputes them in the background
    (`refresh_cached_summaries`) and the dashboard reads the result. On a miss (a cache
    just flushed or a fresh install) a refresh is asked for, once per refresh interval,
    and the page says the trends are on their way. With the cache switched off
    (`TRENDS_CACHE_SECONDS` 0, as in the tests) the summary is computed here instead.
    """
    if settings.TRENDS_CACHE_SECONDS <= 0:
        return summarise(Period.ending(days))
    cached: TrendSummary | None = cache.get(CACHE_KEY.format(days=days))
    if cached is None and cache.add(REFRESH_ASKED_KEY, True, settings.TRENDS_REFRESH_SECONDS or 60):
        publish(refresh_trends_task)
    return cached


def refresh_cached_summaries() -> None:
    # Kept until the next refresh replaces them, however long that takes at production
    # size (minutes per period): the page shows when a summary was worked out.
    keep = max(settings.TRENDS_CACHE_SECONDS, SUMMARY_KEEP_SECONDS)
    for days in PERIOD_DAYS:
        cache.set(CACHE_KEY.format(days=days), summarise(Period.ending(days)), keep)


def summarise(period: Period) -> TrendSummary:
    """Every figure of the causes and trends section, in eight queries."""
    window = Q(created_at__gte=period.baseline_start, created_at__lt=period.end)
    opened_rows = list(Case.objects.filter(window).values_list("pk", "created_at"))
    in_period = {pk for pk, created in opened_rows if created >= period.start}
    baseline_ids = {pk for pk, _ in opened_rows} - in_period
    totals = (len(in_period), len(baseline_ids))

    statuses = final_statuses(Case.objects.filter(window))
    codes_now = Counter(statuses[pk].code if pk in statuses else NO_FINAL_REPORT for pk in in_period)
    codes_before = Counter(statuses[pk].code if pk in statuses else NO_FINAL_REPORT for pk in baseline_ids)
    code_labels = {s.code: s.label for s in statuses.values()} | {NO_FINAL_REPORT: NO_FINAL_REPORT_LABEL}

    regions: dict[int, set[str]] = defaultdict(set)
    carriers: dict[int, set[str]] = defaultdict(set)
    for case_id, region, carrier in Recipient.objects.filter(
        case__in=Case.objects.filter(window)
    ).values_list("case_id", "region", "carrier"):
        regions[case_id].add(region)
        carriers[case_id].add(carrier)

    def tally(by_case: Mapping[int, set[str]], ids: set[int]) -> Counter[str]:
        return Counter(key for pk in ids for key in by_case.get(pk, ()))

    region_labels = {
        key: countries.country_label_lazy(key) for pk in in_period for key in regions.get(pk, ())
    }
    concluded = _concluded(period)
    buckets = bucket_period(period)
    return TrendSummary(
        period=period,
        opened=len(in_period),
        opened_baseline=len(baseline_ids),
        concluded=concluded.count,
        concluded_baseline=concluded.baseline_count,
        results=concluded.results,
        causes=concluded.causes,
        status_codes=breakdown(
            gettext_lazy("Final status of cases opened"),
            gettext_lazy("Status code"),
            codes_now,
            codes_before,
            totals,
            code_labels,
            watch=True,
            never_spike=[NO_FINAL_REPORT],
        ),
        countries=breakdown(
            gettext_lazy("Countries of the numbers"),
            gettext_lazy("Country"),
            tally(regions, in_period),
            tally(regions, baseline_ids),
            totals,
            region_labels,
        ),
        carriers=breakdown(
            gettext_lazy("Carriers of the numbers"),
            gettext_lazy("Carrier"),
            tally(carriers, in_period),
            tally(carriers, baseline_ids),
            totals,
            {"": UNKNOWN_LABEL},
            watch=True,
            never_spike=[""],
        ),
        resolution=concluded.resolution,
        deflections=_deflections(period),
        buckets=buckets,
        opened_series=count_per_bucket(buckets, [created for pk, created in opened_rows if pk in in_period]),
        concluded_series=count_per_bucket(buckets, concluded.times),
    )


@dataclass(frozen=True)
class _Concluded:
    count: int
    baseline_count: int
    times: list[datetime]
    results: Breakdown
    causes: Breakdown
    resolution: tuple[Durations, ...]


def _concluded(period: Period) -> _Concluded:
    """Outcomes reached in the period (and its baseline): results, causes, time to outcome."""
    rows = Case.objects.filter(
        resolved_at__gte=period.baseline_start, resolved_at__lt=period.end
    ).values_list("guide_version", "outcome", "cause", "created_at", "resolved_at")
    results_now: Counter[str] = Counter()
    results_before: Counter[str] = Counter()
    causes_now: Counter[str] = Counter()
    causes_before: Counter[str] = Counter()
    cause_labels: dict[str, str] = {}
    took: dict[str, list[timedelta]] = defaultdict(list)
    times = []
    for version, outcome, cause, created_at, resolved_at in rows:
        assert resolved_at is not None  # the filter's range excludes NULL
        result, title = outcome_of(version, outcome)
        key = cause or outcome
        if resolved_at < period.start:
            results_before[result] += 1
            causes_before[key] += 1
            continue
        results_now[result] += 1
        causes_now[key] += 1
        cause_labels[key] = outcome_title_lazy(version, outcome) if title != outcome else title
        took[result].append(resolved_at - created_at)
        times.append(resolved_at)
    totals = (sum(results_now.values()), sum(results_before.values()))
    return _Concluded(
        count=totals[0],
        baseline_count=totals[1],
        times=times,
        results=breakdown(
            gettext_lazy("Outcomes reached"),
            gettext_lazy("Result"),
            results_now,
            results_before,
            totals,
            RESULT_LABELS,
        ),
        causes=breakdown(
            gettext_lazy("Causes found"),
            gettext_lazy("Cause"),
            causes_now,
            causes_before,
            totals,
            cause_labels,
        ),
        resolution=(
            durations(gettext_lazy("Every outcome"), [t for values in took.values() for t in values]),
            *(durations(RESULT_LABELS[r], took.get(r, [])) for r in (Result.RESOLVED, Result.ESCALATED)),
        ),
    )


def outcome_of(version: str, node_id: str) -> tuple[str, str]:
    """The result and title of an outcome node; a guide version since retired falls back to ids."""
    try:
        node = get_guide(version)[node_id]
    except (LookupError, KeyError):
        return (Result.ESCALATED if node_id.startswith("E_") else Result.RESOLVED), node_id
    return str(node.result or Result.RESOLVED), node.title


def outcome_title(version: str, node_id: str) -> str:
    return outcome_of(version, node_id)[1]


def deflection_title(key: str) -> str:
    guide = get_guide()
    return guide[key].title if key in guide else key


# Guide titles worked out when shown, in the page's language: the summary is cached.
outcome_title_lazy = lazy(outcome_title, str)
deflection_title_lazy = lazy(deflection_title, str)


def _deflections(period: Period) -> Breakdown:
    """Problems the customer's own checks on the ticket form solved, so no ticket was filed."""
    rows = Deflection.objects.filter(
        created_at__gte=period.baseline_start, created_at__lt=period.end
    ).values_list("solved_by", "created_at")
    now: Counter[str] = Counter()
    before: Counter[str] = Counter()
    for solved_by, created_at in rows:
        (now if created_at >= period.start else before)[solved_by] += 1
    guide = get_guide()
    labels = {key: deflection_title_lazy(key) if key in guide else key for key in now}
    return breakdown(
        gettext_lazy("Solved by self-help"),
        gettext_lazy("Check that helped"),
        now,
        before,
        (sum(now.values()), sum(before.values())),
        labels,
    )


def _days(period: Period) -> list[date]:
    first, last = timezone.localdate(period.start), timezone.localdate(period.end)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _day_text(day: date) -> str:
    # Translators: a date format (letters of Django's date filter) for a day, e.g. "3 Nov"; Chinese "n月j日".
    return date_format(day, pgettext("date format: day and month, e.g. 3 Nov", "j M"))


def _span_text(first: date, last: date) -> str:
    """ "3–9 Nov", "27 Oct – 2 Nov", or one day alone, in the active language."""
    if first == last:
        return _day_text(first)
    if (first.year, first.month) == (last.year, last.month):
        # Translators: date formats for the two ends of a week within one month, "3–9 Nov":
        # the first day, then the last day with its month. In Chinese "n月j日" and "j日".
        start = date_format(first, pgettext("date format: first day of a span in one month, e.g. 3", "j"))
        end = date_format(last, pgettext("date format: last day of a span in one month, e.g. 9 Nov", "j M"))
        return pgettext("dates", "%(first)s–%(last)s") % {"first": start, "last": end}
    return pgettext("dates", "%(first)s – %(last)s") % {"first": _day_text(first), "last": _day_text(last)}


def bucket_period(period: Period) -> Buckets:
    """Daily buckets for 7 and 30 days; weekly ones (Monday to Sunday) for longer periods."""
    days = _days(period)
    if period.days < WEEKLY_FROM_DAYS:
        every_day = len(days) <= DAILY_TICKS_ALL_UP_TO
        return Buckets(
            unit="day",
            spans=tuple((day, day) for day in days),
            marked=tuple((n, day) for n, day in enumerate(days) if every_day or day.weekday() == 0),
            index={day: n for n, day in enumerate(days)},
        )
    weeks: dict[date, list[date]] = {}
    for day in days:
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(day)
    spans = list(weeks.values())
    last = len(spans) - 1
    return Buckets(
        unit="week",
        spans=tuple((span[0], span[-1]) for span in spans),
        # Every other week, counted back from this one so the latest is always marked.
        marked=tuple(
            (n, span[0]) for n, span in enumerate(spans) if (last - n) % 2 == 0 and span[0].weekday() == 0
        ),
        index={day: n for n, span in enumerate(spans) for day in span},
    )


def count_per_bucket(buckets: Buckets, moments: Iterable[datetime]) -> tuple[int, ...]:
    """How many of the moments fall in each bucket, by their date in the portal's time zone."""
    counts = Counter(buckets.index.get(timezone.localdate(moment)) for moment in moments)
    return tuple(counts.get(n, 0) for n in range(len(buckets.spans)))


# --- Presentation ---------------------------------------------------------------------------------


def summary_charts(data: TrendSummary) -> dict[str, SafeString]:
    """The section's charts, keyed by the name the template places them under, in the active language."""
    days = data.period.days
    weekly = data.buckets.unit == "week"
    if weekly:
        title = ngettext(
            "Cases opened and outcomes reached per week, last %(days)d day",
            "Cases opened and outcomes reached per week, last %(days)d days",
            days,
        )
    else:
        title = ngettext(
            "Cases opened and outcomes reached per day, last %(days)d day",
            "Cases opened and outcomes reached per day, last %(days)d days",
            days,
        )
    return {
        "daily": charts.line_chart(
            "chart-daily",
            title % {"days": days},
            data.buckets.labels,
            [
                charts.Series(
                    _("Cases opened"),
                    data.opened_series,
                    "chart-line-opened",
                    # Translators: short label at the end of the line of cases opened.
                    short_name=pgettext("chart line", "Opened"),
                ),
                charts.Series(
                    _("Outcomes reached"),
                    data.concluded_series,
                    "chart-line-concluded",
                    dash="7 5",
                    marker="square",
                    # Translators: short label at the end of the line of outcomes reached.
                    short_name=pgettext("chart line", "Outcomes"),
                ),
            ],
            unit=_("cases per week") if weekly else _("cases per day"),
            ticks=data.buckets.ticks,
            label_heading=_("Week (Monday to Sunday)") if weekly else _("Day"),
        ),
        **{
            name: charts.bar_chart(
                f"chart-{name.replace('_', '-')}", str(part.title), part.bars(), heading=str(part.heading)
            )
            for name, part in (
                ("causes", data.causes),
                ("status_codes", data.status_codes),
                ("countries", data.countries),
                ("carriers", data.carriers),
            )
        },
    }


@shared_task(name="diagnosis.refresh_trends", ignore_result=True)
@once_per_slot("refresh-trends")
def refresh_trends_task() -> None:
    refresh_cached_summaries()

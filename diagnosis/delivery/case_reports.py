"""Which stored reports are a case's evidence, which are only context, which are the agent's tests.

- Reports of the case's own message ids are its evidence.
- Reports for other messages to the case's numbers, around the send time, are shown
  apart. They decide a proposal only when the case names no message id at all.
- Reports of test SMS the agent sent from the case are the agent's own check and
  never evidence about the customer's message.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar, cast

from django.db import connection
from django.db.models import CharField, OuterRef, Q, QuerySet, Value

from diagnosis.delivery import catalogue
from diagnosis.guide.engine import CaseEvidence
from diagnosis.guide.evidence import MessageStatus, ReportFact, Verdict, verdict
from diagnosis.models import (
    Case,
    Message,
    Recipient,
    StatusCode,
    StatusReport,
    TestMessage,
    wait_deadline_after,
)

# Clock slack around the send time for reports matched by number only.
NUMBER_MATCH_SLACK = timedelta(days=1)


class ReportRow(Protocol):
    """What sorting and verdicts read of a report: a `StatusReport`, or a row of just these columns."""

    @property
    def pk(self) -> int: ...
    @property
    def msg_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def total(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def updated_at(self) -> datetime | None: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def to_number(self) -> str: ...


R = TypeVar("R", bound=ReportRow)


@dataclass(frozen=True)
class Window:
    """When reports matched by number may concern the case's message."""

    start: datetime
    end: datetime

    def __contains__(self, report: ReportRow) -> bool:
        return self.start <= report_time(report) <= self.end


def report_time(report: ReportRow) -> datetime:
    return report.updated_at or report.received_at


def send_window(case: Case) -> Window:
    """From a day before the (approximate) send time to a day after the platform's 72 hours.

    Without a send time the case's creation stands in for it; a wait that started
    later stretches the end to that wait's own 72 hours.
    """
    anchor = case.sent_at or case.created_at
    last_start = max(anchor, case.waiting_since or anchor)
    return Window(anchor - NUMBER_MATCH_SLACK, wait_deadline_after(last_start) + NUMBER_MATCH_SLACK)


def reports_query(msg_ids: Collection[str], numbers: Collection[str], window: Window) -> Q | None:
    """The reports of these message ids, and those to these numbers inside the window.

    Literal lists rather than subqueries: PostgreSQL then combines the two indexes
    instead of scanning every report.
    """
    parts = []
    if msg_ids:
        parts.append(Q(msg_id__in=list(msg_ids)))
    if numbers:
        in_window = Q(updated_at__range=(window.start, window.end)) | Q(
            updated_at__isnull=True, received_at__range=(window.start, window.end)
        )
        # Spelled out so PostgreSQL may use the partial index on numbers even for lists longer
        # than the 100 items up to which it proves `to_number <> ''` from the list itself.
        parts.append(Q(to_number__in=list(numbers)) & ~Q(to_number="") & in_window)
    if not parts:
        return None
    query = parts[0]
    for part in parts[1:]:
        query |= part
    return query


def facts_for(reports: Iterable[ReportRow], codes: dict[str, StatusCode]) -> list[ReportFact]:
    """What the guide needs of each report; a code missing from the catalogue counts as final."""
    facts = []
    for report in reports:
        row = codes.get(catalogue.normalise_code(report.status))
        facts.append(
            ReportFact(
                status=report.status,
                branch=row.branch if row else "unknown",
                final=row.final if row else True,
                at=report_time(report),
                msg_id=report.msg_id,
                sequence=report.sequence,
                total=report.total,
                reported_at=report.updated_at,
            )
        )
    return facts


@dataclass
class CaseReports:
    """A case's reports, sorted into evidence, context and the agent's tests."""

    msg_ids: tuple[str, ...]
    own: list[StatusReport]
    by_number: list[StatusReport]
    tests: list[StatusReport]
    codes: dict[str, StatusCode] = field(default_factory=dict)

    def code(self, report: StatusReport) -> StatusCode | None:
        return self.codes.get(catalogue.normalise_code(report.status))

    def evidence(self) -> CaseEvidence:
        """What proposals rest on: the own messages' reports, or by number when there is no id."""
        return evidence_of(self.msg_ids, self.own, self.by_number, self.codes)

    def test_statuses(self, test_ids: Sequence[str]) -> dict[str, MessageStatus]:
        found = verdict(facts_for(self.tests, self.codes), test_ids)
        return {m.msg_id: m for m in found.messages}


def evidence_of(
    msg_ids: Sequence[str],
    own: Iterable[ReportRow],
    by_number: Iterable[ReportRow],
    codes: dict[str, StatusCode],
) -> CaseEvidence:
    """What proposals rest on: the own messages' reports, or by number when there is no id."""
    if msg_ids:
        return CaseEvidence(verdict(facts_for(own, codes), msg_ids))
    return CaseEvidence(verdict(facts_for(by_number, codes)), by_number=True)


def sort_reports(
    reports: Iterable[R],
    *,
    msg_ids: Collection[str],
    numbers: Collection[str],
    test_ids: Collection[str],
    window: Window,
) -> tuple[list[R], list[R], list[R]]:
    """(own, by number, tests), each newest first by the platform's time."""
    own: list[R] = []
    by_number: list[R] = []
    tests: list[R] = []
    for report in reports:
        if report.msg_id in test_ids:
            tests.append(report)
        elif report.msg_id in msg_ids:
            own.append(report)
        elif report.to_number in numbers and report in window:
            by_number.append(report)

    def newest_first(rows: list[R]) -> list[R]:
        # The id last, so reports alike in all else keep one order however they were fetched.
        return sorted(rows, key=lambda r: (report_time(r), r.received_at, r.sequence, r.pk), reverse=True)

    return newest_first(own), newest_first(by_number), newest_first(tests)


def arrange(
    case: Case,
    reports: Iterable[StatusReport],
    *,
    msg_ids: Sequence[str],
    numbers: Collection[str],
    test_ids: Collection[str],
    codes: dict[str, StatusCode],
) -> CaseReports:
    """Reports fetched for the case, sorted into its evidence, context and tests.

    The one place a case's reports are sorted, whether fetched for its page (`collect`)
    or together with many other cases' (the trends' final statuses).
    """
    own, by_number, tests = sort_reports(
        reports, msg_ids=set(msg_ids), numbers=set(numbers), test_ids=set(test_ids), window=send_window(case)
    )
    return CaseReports(tuple(msg_ids), own, by_number, tests, codes)


def collect(
    case: Case, *, msg_ids: Sequence[str], numbers: Sequence[str], test_ids: Sequence[str] = ()
) -> CaseReports:
    """The case's reports in two queries (reports, then their catalogue rows)."""
    query = reports_query([*msg_ids, *test_ids], numbers, send_window(case))
    reports = list(StatusReport.objects.filter(query)) if query is not None else []
    codes = catalogue.branches_for({r.status for r in reports}) if reports else {}
    return arrange(case, reports, msg_ids=msg_ids, numbers=numbers, test_ids=test_ids, codes=codes)


def for_case(case: Case) -> CaseReports:
    """`collect` for a case whose messages, numbers and tests are not loaded yet."""
    return collect(
        case,
        msg_ids=list(Message.objects.filter(case=case).order_by("msg_id").values_list("msg_id", flat=True)),
        numbers=list(Recipient.objects.filter(case=case).values_list("e164", flat=True)),
        test_ids=list(TestMessage.objects.filter(case=case).values_list("msg_id", flat=True)),
    )


def evidence_for(case: Case) -> CaseEvidence:
    return for_case(case).evidence()


@dataclass
class _Share(Generic[R]):
    """One case's part of a batch's reports, with what sorting them needs."""

    case: Case
    reports: list[R]
    msg_ids: list[str]
    numbers: list[str]
    test_ids: list[str]


# The cases' message ids, numbers and test ids, as `with_report_keys` annotates them.
_KEYS = ("report_msg_ids", "report_numbers", "report_test_ids")


def with_report_keys(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The cases with their message ids, numbers and test ids, read in the same query.

    PostgreSQL only (arrays): a batch then needs no separate query for them. Elsewhere the
    cases are returned as they are and `_shares` reads the lists itself.
    """
    if connection.vendor != "postgresql":
        return cases
    from django.contrib.postgres.expressions import ArraySubquery

    return cases.annotate(
        report_msg_ids=ArraySubquery(Message.objects.filter(case_id=OuterRef("pk")).values("msg_id")),
        report_numbers=ArraySubquery(Recipient.objects.filter(case_id=OuterRef("pk")).values("e164")),
        report_test_ids=ArraySubquery(TestMessage.objects.filter(case_id=OuterRef("pk")).values("msg_id")),
    )


def _read_keys(
    ids: list[int],
    msg_ids: dict[int, list[str]],
    numbers: dict[int, list[str]],
    test_ids: dict[int, list[str]],
) -> None:
    """The cases' message ids, numbers and test ids in one round trip, each row tagged with its list."""
    lists = {"message": msg_ids, "number": numbers, "test": test_ids}
    rows = (
        Message.objects.filter(case_id__in=ids)
        .order_by()  # SQLite allows no ORDER BY inside a UNION
        .values_list("case_id", "msg_id", Value("message", output_field=CharField()))
        .union(
            Recipient.objects.filter(case_id__in=ids)
            .order_by()
            .values_list("case_id", "e164", Value("number", output_field=CharField())),
            TestMessage.objects.filter(case_id__in=ids)
            .order_by()
            .values_list("case_id", "msg_id", Value("test", output_field=CharField())),
            all=True,
        )
    )
    for case_id, value, kind in rows:
        lists[kind][case_id].append(value)


@dataclass
class KnownCodes:
    """Catalogue rows remembered across calls: a sweep's batches then look up only codes not met yet.

    Most batches meet only codes an earlier batch met, so they skip the catalogue query. A
    catalogue edit made during the sweep is seen by the next sweep.
    """

    rows: dict[str, StatusCode] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)

    def branches_for(self, codes: set[str]) -> dict[str, StatusCode]:
        new = {catalogue.normalise_code(c) for c in codes if c} - self.asked
        if new:
            self.rows.update(catalogue.branches_for(new))
            self.asked |= new
        return self.rows


def _shares(
    cases: Sequence[Case],
    fetch: Callable[[Q], list[R]],
    branches_for: Callable[[set[str]], dict[str, StatusCode]] = catalogue.branches_for,
) -> tuple[list[_Share[R]], dict[str, StatusCode]]:
    """The reports of many cases in three queries, each case given only those of its own ids and numbers.

    One query for the cases' messages, numbers and tests together (none when the cases were
    read `with_report_keys`), one for all their reports
    (`fetch`, given literal lists bounded by the union of the cases' send windows; sorting
    then applies each case's own window) and one for the catalogue rows.
    """
    if not cases:
        return [], {}
    ids = [case.pk for case in cases]
    msg_ids: dict[int, list[str]] = {pk: [] for pk in ids}
    numbers: dict[int, list[str]] = {pk: [] for pk in ids}
    test_ids: dict[int, list[str]] = {pk: [] for pk in ids}
    if all(hasattr(case, _KEYS[0]) for case in cases):  # read along with the cases (`with_report_keys`)
        for case in cases:
            msg_ids[case.pk], numbers[case.pk], test_ids[case.pk] = (list(getattr(case, k)) for k in _KEYS)
    else:
        _read_keys(ids, msg_ids, numbers, test_ids)
    windows = [send_window(case) for case in cases]
    union = Window(min(w.start for w in windows), max(w.end for w in windows))
    all_ids = {m for pk in ids for m in (*msg_ids[pk], *test_ids[pk])}
    all_numbers = {n for pk in ids for n in numbers[pk]}
    query = reports_query(all_ids, all_numbers, union)
    reports = fetch(query) if query is not None else []
    codes = branches_for({r.status for r in reports}) if reports else {}
    by_msg_id: dict[str, list[R]] = {}
    by_number: dict[str, list[R]] = {}
    for report in reports:
        by_msg_id.setdefault(report.msg_id, []).append(report)
        by_number.setdefault(report.to_number, []).append(report)
    shares = []
    for case in cases:
        pk = case.pk
        picked: dict[int, R] = {}
        for key in (*msg_ids[pk], *test_ids[pk]):
            picked.update((id(r), r) for r in by_msg_id.get(key, ()))
        for number in numbers[pk]:
            picked.update((id(r), r) for r in by_number.get(number, ()))
        shares.append(_Share(case, list(picked.values()), sorted(msg_ids[pk]), numbers[pk], test_ids[pk]))
    return shares, codes


def for_cases(cases: Sequence[Case]) -> dict[int, CaseReports]:
    """`for_case` for many cases at once, in a constant number of queries."""
    shares, codes = _shares(cases, lambda query: list(StatusReport.objects.filter(query)))
    return {
        share.case.pk: arrange(
            share.case,
            share.reports,
            msg_ids=share.msg_ids,
            numbers=share.numbers,
            test_ids=share.test_ids,
            codes=codes,
        )
        for share in shares
    }


# What a verdict reads of a report (`ReportRow`): fetched as plain rows, no model instances, no payload.
_VERDICT_FIELDS = ("pk", "msg_id", "status", "total", "sequence", "updated_at", "received_at", "to_number")


def _verdict_rows(query: Q) -> list[ReportRow]:
    return cast(
        "list[ReportRow]", list(StatusReport.objects.filter(query).values_list(*_VERDICT_FIELDS, named=True))
    )


def messages_verdict(msg_ids: Sequence[str]) -> Verdict:
    """The verdict over these messages from their own reports, as a case naming them would have it.

    One query for the reports of all the ids, one for their catalogue rows; none without ids.
    """
    reports = _verdict_rows(Q(msg_id__in=list(msg_ids))) if msg_ids else []
    codes = catalogue.branches_for({r.status for r in reports}) if reports else {}
    return verdict(facts_for(reports, codes), msg_ids)


def with_final_evidence(cases: Sequence[Case], known: KnownCodes | None = None) -> set[int]:
    """The cases whose evidence is final now (`for_case(case).evidence().verdict.final`), for a batch.

    A verdict is final only on a final report, so a case none of whose reports carries a
    final code (a code missing from the catalogue counts as final) is not sorted at all:
    that is most of a waiting sweep's batch. `known`, shared by a sweep's batches, saves
    them the catalogue query for codes an earlier batch met.
    """
    shares, codes = _shares(cases, _verdict_rows, (known or KnownCodes()).branches_for)

    def is_final(report: ReportRow) -> bool:
        row = codes.get(catalogue.normalise_code(report.status))
        return row.final if row else True

    def final_evidence(share: _Share[ReportRow]) -> bool:
        own, by_number, _tests = sort_reports(
            share.reports,
            msg_ids=set(share.msg_ids),
            numbers=set(share.numbers),
            test_ids=set(share.test_ids),
            window=send_window(share.case),
        )
        return evidence_of(share.msg_ids, own, by_number, codes).verdict.final

    return {
        share.case.pk for share in shares if any(is_final(r) for r in share.reports) and final_evidence(share)
    }

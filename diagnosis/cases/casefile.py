"""Everything the case page shows, gathered with a fixed number of queries."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.utils import timezone

from diagnosis.cases import console_search, history, readable, waiting
from diagnosis.cases.console_search import ConsoleSearch
from diagnosis.cases.conversation import KINDS as CONVERSATION_KINDS
from diagnosis.cases.conversation import Entry, thread
from diagnosis.delivery import case_reports
from diagnosis.guide import Answer, Evidence, Guide, Kind, Node, engine
from diagnosis.guide.engine import CaseEvidence, Proposal
from diagnosis.guide.evidence import MessageStatus, Standing
from diagnosis.models import (
    AnswerRecord,
    Case,
    CaseState,
    Escalation,
    Event,
    EventKind,
    Message,
    Recipient,
    StatusCode,
    StatusReport,
    TestMessage,
)


@dataclass(frozen=True)
class PathStep:
    node: Node
    answer: Answer
    record: AnswerRecord
    revisable: bool


@dataclass(frozen=True)
class ReportRow:
    report: StatusReport
    code: StatusCode | None


@dataclass(frozen=True)
class TestRow:
    """A test SMS the agent sent, with its reports and the status they add up to."""

    message: TestMessage
    status: MessageStatus
    reports: list[ReportRow]

    @property
    def settled(self) -> bool:
        return self.status.standing in (Standing.DELIVERED, Standing.FAILED)


@dataclass(frozen=True)
class WaitInfo:
    since: datetime
    deadline: datetime
    next_poll: datetime | None
    schedule: str

    @property
    def time_left(self) -> timedelta:
        return max(self.deadline - timezone.now(), timedelta(0))


@dataclass(frozen=True)
class SetAside:
    """An answer a revision replaced: what it said, and the revision that replaced it."""

    record: AnswerRecord
    ref: str
    title: str
    label: str
    # None only when no revision explains the answer being set aside.
    revision: Event | None


@dataclass(frozen=True)
class RevisionGroup:
    """The answers one revision set aside, in the order they had been given."""

    revision: Event | None
    answers: list[SetAside]
    # The revision's own change, e.g. step "C1" now answered "No final report yet".
    step_ref: str = ""
    new_label: str = ""


@dataclass(frozen=True)
class TimelineEntry:
    event: Event
    # Set when the answer this event recorded was later set aside by a revision.
    replaced: SetAside | None = None
    # The event's summary in the reader's language (history.describe), filled in by
    # CaseFile.timeline.
    summary: str = ""


@dataclass(frozen=True)
class Replacements:
    groups: list[RevisionGroup]
    timeline: list[TimelineEntry]


class CaseFile:
    """Everything the case page shows, each part loaded on first use.

    Every part costs a fixed number of queries whatever the size of the case, and a region
    of the page rendered alone, as htmx refreshes it, pays only for the parts it shows.
    """

    def __init__(self, case: Case) -> None:
        self.case = case
        self.node: Node = case.node

    @cached_property
    def recipients(self) -> list[Recipient]:
        return list(self.case.recipients.order_by("pk"))

    @cached_property
    def messages(self) -> list[Message]:
        return list(self.case.messages.order_by("pk"))

    @cached_property
    def _test_messages(self) -> list[TestMessage]:
        return list(TestMessage.objects.filter(case=self.case).select_related("recipient", "sent_by"))

    @cached_property
    def _found(self) -> case_reports.CaseReports:
        # One query for the evidence, the context and the tests alike.
        return case_reports.collect(
            self.case,
            msg_ids=sorted(m.msg_id for m in self.messages),
            numbers=[r.e164 for r in self.recipients],
            test_ids=[t.msg_id for t in self._test_messages],
        )

    @cached_property
    def evidence(self) -> CaseEvidence:
        return self._found.evidence()

    @cached_property
    def reports(self) -> list[ReportRow]:
        """The case's evidence: reports of its own message ids."""
        return _rows(self._found.own, self._found)

    @cached_property
    def number_reports(self) -> list[ReportRow]:
        """Context: other messages to the case's numbers around the send time."""
        return _rows(self._found.by_number, self._found)

    @cached_property
    def tests(self) -> list[TestRow]:
        return _test_rows(self._test_messages, self._found)

    @cached_property
    def _answers(self) -> list[AnswerRecord]:
        return list(self.case.answers.select_related("answered_by").order_by("answered_at", "pk"))

    @cached_property
    def path(self) -> list[PathStep]:
        live = {a.node: a for a in self._answers if a.superseded_at is None}
        walk = engine.walk(self.case.guide, {n: a.value for n, a in live.items()})
        revisable = self.case.state != CaseState.CLOSED
        return [
            PathStep(node, answer, live[node.id], revisable=revisable and node.kind is Kind.CHECK)
            for node, answer in walk.steps
        ]

    @cached_property
    def superseded(self) -> list[AnswerRecord]:
        return [a for a in self._answers if a.superseded_at is not None]

    @cached_property
    def events(self) -> list[Event]:
        """Newest first; the messages to and from the customer are in `conversation` instead."""
        return list(
            self.case.events.exclude(kind__in=CONVERSATION_KINDS)
            .select_related("actor")
            .order_by("-at", "-pk")
        )

    @cached_property
    def conversation(self) -> list[Entry]:
        return thread(self.case)

    @cached_property
    def _replacements(self) -> Replacements:
        return replacements_for(self.case.guide, self._answers, self.events)

    @property
    def set_aside(self) -> list[RevisionGroup]:
        """Superseded answers grouped by the revision that replaced them, oldest revision first."""
        return self._replacements.groups

    @cached_property
    def timeline(self) -> list[TimelineEntry]:
        """`events`, each with the replacement of the answer it recorded, if any, and its summary
        in the reader's language (worded only here: the path panel needs no summaries)."""
        guide = self.case.guide
        return [
            replace(entry, summary=history.describe(entry.event, guide))
            for entry in self._replacements.timeline
        ]

    @cached_property
    def escalations(self) -> list[Escalation]:
        rows = list(Escalation.objects.filter(case=self.case).order_by("-opened_at"))
        for row in rows:
            row.case = self.case  # the page's own case: titles read its guide without a query
        return rows

    @cached_property
    def proposal(self) -> Proposal | None:
        if not self.case.is_open():
            return None
        if self.node.evidence is not Evidence.STATUS_CODE:
            # Reports only decide steps that ask for a status code: the others (phone checks,
            # waits, outcomes) skip the five queries that gather the evidence.
            return engine.propose(self.node, customer_answers=self.case.customer_answers)
        return engine.propose(self.node, self.evidence, self.case.customer_answers)

    @cached_property
    def wait(self) -> WaitInfo | None:
        case = self.case
        if not (case.is_waiting() and case.waiting_since and case.wait_deadline):
            return None
        next_poll = case.next_poll_at or waiting.next_poll_at(
            case.waiting_since, case.wait_deadline, timezone.now()
        )
        return WaitInfo(case.waiting_since, case.wait_deadline, next_poll, waiting.describe_schedule())

    @cached_property
    def console_search(self) -> ConsoleSearch | None:
        """What to search on the console's Send Details page; None once a final report is stored."""
        return console_search_for(self.case, self.recipients, self.evidence)

    @property
    def open_escalation(self) -> Escalation | None:
        return next((e for e in self.escalations if e.is_open), None)

    @cached_property
    def open_package(self) -> dict[str, Any] | None:
        """The open escalation's package as people read it (times, names and labels)."""
        escalation = self.open_escalation
        return readable.package(escalation.package) if escalation else None

    @property
    def message_statuses(self) -> tuple[MessageStatus, ...]:
        return self.evidence.verdict.messages

    @property
    def tests_settled(self) -> bool:
        return all(t.settled for t in self.tests)


def load_tests(case: Case) -> list[TestRow]:
    """Only the test panel (its live refresh): the case's test messages and their reports."""
    tests = list(TestMessage.objects.filter(case=case).select_related("recipient", "sent_by"))
    found = case_reports.collect(case, msg_ids=(), numbers=(), test_ids=[t.msg_id for t in tests])
    return _test_rows(tests, found)


def _rows(reports: list[StatusReport], found: case_reports.CaseReports) -> list[ReportRow]:
    return [ReportRow(r, found.code(r)) for r in reports]


def _test_rows(tests: list[TestMessage], found: case_reports.CaseReports) -> list[TestRow]:
    statuses = found.test_statuses([t.msg_id for t in tests])
    by_message: dict[str, list[StatusReport]] = defaultdict(list)
    for report in found.tests:
        by_message[report.msg_id].append(report)
    return [TestRow(t, statuses[t.msg_id], _rows(by_message[t.msg_id], found)) for t in tests]


def load(case: Case) -> CaseFile:
    """The case file, loading nothing yet: each part queries when first used."""
    return CaseFile(case)


def console_search_for(
    case: Case, recipients: Sequence[Recipient], evidence: CaseEvidence
) -> ConsoleSearch | None:
    """The console search to prepare until the case's own messages have a final status.

    A case without message ids keeps it: only a search by number can find its message,
    whatever reports to the same number happen to be stored.
    """
    if not evidence.by_number and evidence.verdict.final:
        return None
    return console_search.plan([r.e164 for r in recipients], case.sent_at, case.created_at, timezone.now())


# Events that record an answer (data["node"]): a step answered, a wait ended, a revision's new answer.
_ANSWERING = (EventKind.ANSWERED, EventKind.WAIT_ENDED, EventKind.REVISED)


def replacements_for(guide: Guide, answers: Sequence[AnswerRecord], events: Iterable[Event]) -> Replacements:
    """Which revision set aside each superseded answer, worked out from the append-only history.

    Rule: a revision names the steps it sets aside (its own step in data["node"], later ones
    in data["superseded"]), and `revise_answer` stamps their `superseded_at` just before writing
    the event. So for each revision, oldest first, the answer it set aside at a named step is
    the latest one answered at or before the revision whose stamp is at or before it; an answer
    revised several times is matched once per revision. An answer no revision names (the
    off-path clean-up in `services._settle`, which stamps after the event in the same
    transaction) goes to the last revision at or before its stamp.

    The timeline pairs each answering event with the answer it stored: the latest answer at
    its step given at or before the event (the answer row is written just before its event).
    """
    events = list(events)
    revisions = sorted((e for e in events if e.kind == EventKind.REVISED), key=lambda e: (e.at, e.pk))
    ordered = sorted(answers, key=lambda a: (a.answered_at, a.pk))
    superseded_by_node: dict[str, list[AnswerRecord]] = defaultdict(list)
    for answer in ordered:
        if answer.superseded_at is not None:
            superseded_by_node[answer.node].append(answer)

    replaced_by: dict[int, Event | None] = {}
    for revision in revisions:
        named = [revision.data.get("node"), *revision.data.get("superseded", [])]
        for node_id in dict.fromkeys(n for n in named if n):
            candidates = [
                a
                for a in superseded_by_node.get(node_id, [])
                if a.pk not in replaced_by
                and a.answered_at <= revision.at
                and _set_aside_at(a) <= revision.at
            ]
            if candidates:
                replaced_by[candidates[-1].pk] = revision
    revision_times = [r.at for r in revisions]
    for answers_at_node in superseded_by_node.values():
        for answer in answers_at_node:
            if answer.pk not in replaced_by:
                index = bisect_right(revision_times, _set_aside_at(answer))
                replaced_by[answer.pk] = revisions[index - 1] if index else None

    set_aside = {
        a.pk: _set_aside(guide, a, replaced_by[a.pk]) for a in ordered if a.superseded_at is not None
    }
    grouped: dict[int | None, list[SetAside]] = defaultdict(list)
    for item in set_aside.values():
        grouped[item.revision.pk if item.revision else None].append(item)
    groups = [RevisionGroup(None, grouped[None])] if None in grouped else []
    groups += [_group(guide, r, grouped[r.pk]) for r in revisions if r.pk in grouped]

    given_at_node: dict[str, list[AnswerRecord]] = defaultdict(list)
    for answer in ordered:
        given_at_node[answer.node].append(answer)
    times_at_node = {node_id: [a.answered_at for a in given] for node_id, given in given_at_node.items()}
    timeline = []
    for event in events:
        node_id = event.data.get("node") if event.kind in _ANSWERING else None
        stored = None
        if node_id in times_at_node:
            index = bisect_right(times_at_node[node_id], event.at)
            stored = given_at_node[node_id][index - 1] if index else None
        timeline.append(TimelineEntry(event, set_aside.get(stored.pk) if stored else None))
    return Replacements(groups, timeline)


def _set_aside_at(answer: AnswerRecord) -> datetime:
    """When a superseded answer was set aside; only those are grouped by `replacements_for`."""
    assert answer.superseded_at is not None
    return answer.superseded_at


def _group(guide: Guide, revision: Event, answers: list[SetAside]) -> RevisionGroup:
    ref, _, label = _describe(guide, revision.data.get("node", ""), revision.data.get("value", ""))
    return RevisionGroup(revision, answers, ref, label)


def _set_aside(guide: Guide, answer: AnswerRecord, revision: Event | None) -> SetAside:
    ref, title, label = _describe(guide, answer.node, answer.value)
    return SetAside(record=answer, ref=ref, title=title, label=label, revision=revision)


def _describe(guide: Guide, node_id: str, value: str) -> tuple[str, str, str]:
    """Step ref, title and answer label; the raw ids for a step the guide does not have."""
    if node_id not in guide:
        return "", node_id, value
    node = guide[node_id]
    option = node.answer(value)
    return node.ref, node.title, option.label if option else value

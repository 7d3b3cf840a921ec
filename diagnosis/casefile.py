"""Everything the case page shows, gathered with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from diagnosis import case_evidence, engine, waiting
from diagnosis.engine import CaseEvidence, Proposal
from diagnosis.evidence import MessageStatus, Standing
from diagnosis.guide import Answer, Kind, Node
from diagnosis.models import (
    AnswerRecord,
    Case,
    CaseState,
    Escalation,
    Event,
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


@dataclass
class CaseFile:
    case: Case
    recipients: list[Recipient]
    messages: list[Message]
    # The case's evidence: reports of its own message ids.
    reports: list[ReportRow]
    # Context: other messages to the case's numbers around the send time.
    number_reports: list[ReportRow]
    tests: list[TestRow]
    evidence: CaseEvidence
    path: list[PathStep]
    superseded: list[AnswerRecord]
    events: list[Event]
    escalations: list[Escalation]
    proposal: Proposal | None
    wait: WaitInfo | None
    node: Node = field(init=False)

    def __post_init__(self) -> None:
        self.node = self.case.node

    @property
    def open_escalation(self) -> Escalation | None:
        return next((e for e in self.escalations if e.is_open), None)

    @property
    def message_statuses(self) -> tuple[MessageStatus, ...]:
        return self.evidence.verdict.messages

    @property
    def tests_settled(self) -> bool:
        return all(t.settled for t in self.tests)


def load_tests(case: Case) -> list[TestRow]:
    """Only the test panel (its live refresh): the case's test messages and their reports."""
    tests = list(TestMessage.objects.filter(case=case).select_related("recipient", "sent_by"))
    found = case_evidence.collect(case, msg_ids=(), numbers=(), test_ids=[t.msg_id for t in tests])
    return _test_rows(tests, found)


def _rows(reports: list[StatusReport], found: case_evidence.CaseReports) -> list[ReportRow]:
    return [ReportRow(r, found.code(r)) for r in reports]


def _test_rows(tests: list[TestMessage], found: case_evidence.CaseReports) -> list[TestRow]:
    statuses = found.test_statuses([t.msg_id for t in tests])
    return [
        TestRow(t, statuses[t.msg_id], _rows([r for r in found.tests if r.msg_id == t.msg_id], found))
        for t in tests
    ]


def load(case: Case) -> CaseFile:
    """Build the case file: about eight queries whatever the size of the case."""
    recipients = list(case.recipients.order_by("pk"))
    messages = list(case.messages.order_by("pk"))
    tests = list(TestMessage.objects.filter(case=case).select_related("recipient", "sent_by"))
    found = case_evidence.collect(
        case,
        msg_ids=sorted(m.msg_id for m in messages),
        numbers=[r.e164 for r in recipients],
        test_ids=[t.msg_id for t in tests],
    )
    evidence = found.evidence()
    answers = list(case.answers.select_related("answered_by").order_by("answered_at", "pk"))
    live = {a.node: a for a in answers if a.superseded_at is None}
    walk = engine.walk(case.guide, {n: a.value for n, a in live.items()})
    path = [
        PathStep(
            node, answer, live[node.id], revisable=node.kind is Kind.CHECK and case.state != CaseState.CLOSED
        )
        for node, answer in walk.steps
    ]
    wait = None
    if case.is_waiting() and case.waiting_since and case.wait_deadline:
        wait = WaitInfo(
            case.waiting_since,
            case.wait_deadline,
            case.next_poll_at or waiting.next_poll_at(case.waiting_since, case.wait_deadline, timezone.now()),
            waiting.describe_schedule(),
        )
    return CaseFile(
        case=case,
        recipients=recipients,
        messages=messages,
        reports=_rows(found.own, found),
        number_reports=_rows(found.by_number, found),
        tests=_test_rows(tests, found),
        evidence=evidence,
        path=path,
        superseded=[a for a in answers if a.superseded_at is not None],
        events=list(case.events.select_related("actor").order_by("-at", "-pk")),
        escalations=list(Escalation.objects.filter(case=case).order_by("-opened_at")),
        proposal=engine.propose(case.node, evidence, case.customer_answers) if case.is_open() else None,
        wait=wait,
    )

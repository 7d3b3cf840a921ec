"""Everything the case page shows, gathered with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from diagnosis import catalogue, engine, services, waiting
from diagnosis.engine import Proposal
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
    reports: list[ReportRow]
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


def load(case: Case) -> CaseFile:
    """Build the case file: about eight queries whatever the size of the case."""
    recipients = list(case.recipients.order_by("pk"))
    messages = list(case.messages.order_by("pk"))
    reports = list(
        services.reports_query(
            [m.msg_id for m in messages], [r.e164 for r in recipients], case.sent_at or case.created_at
        ).order_by("-received_at")
    )
    codes = catalogue.branches_for({r.status for r in reports}) if reports else {}
    rows = [ReportRow(r, codes.get(catalogue.normalise_code(r.status))) for r in reports]
    answers = list(case.answers.select_related("answered_by").order_by("answered_at", "pk"))
    live = {a.node: a for a in answers if a.superseded_at is None}
    walk = engine.walk(case.guide, {n: a.value for n, a in live.items()})
    path = [
        PathStep(
            node, answer, live[node.id], revisable=node.kind is Kind.CHECK and case.state != CaseState.CLOSED
        )
        for node, answer in walk.steps
    ]
    facts = services.facts_for(reports, codes)
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
        reports=rows,
        path=path,
        superseded=[a for a in answers if a.superseded_at is not None],
        events=list(case.events.select_related("actor").order_by("-at", "-pk")),
        escalations=list(Escalation.objects.filter(case=case).order_by("-opened_at")),
        proposal=engine.propose(case.node, facts, case.customer_answers) if case.is_open() else None,
        wait=wait,
    )

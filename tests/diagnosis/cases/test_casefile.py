"""casefile.replacements_for: which revision set aside each superseded answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from diagnosis.cases.casefile import replacements_for
from diagnosis.guide import get_guide
from diagnosis.models import AnswerRecord, Event, EventKind

T0 = datetime(2026, 3, 2, 9, 0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def answer(pk: int, node: str, value: str, given: float, superseded: float | None = None) -> AnswerRecord:
    stamp = at(superseded) if superseded else None
    return AnswerRecord(pk=pk, node=node, value=value, answered_at=at(given), superseded_at=stamp)


def event(pk: int, kind: str, when: float, **data: object) -> Event:
    return Event(pk=pk, kind=kind, at=at(when), summary=kind, data=data)


def test_off_path_answers_stamped_after_the_revision_go_to_that_revision() -> None:
    answers = [
        answer(1, "report_returned", "report_present", 0, superseded=100),
        answer(2, "status_is_delivrd", "delivered", 10, superseded=100.002),  # named: no
        answer(3, "report_returned", "no_report", 100.0005, superseded=300),
        answer(4, "dial_recipient", "yes", 200, superseded=300.003),
        answer(5, "report_returned", "report_present", 300.0005),
    ]
    events = [
        event(11, EventKind.ANSWERED, 0.001, node="report_returned"),
        event(12, EventKind.ANSWERED, 10.001, node="status_is_delivrd"),
        event(13, EventKind.REVISED, 100.001, node="report_returned", superseded=[]),
        event(14, EventKind.ANSWERED, 200.001, node="dial_recipient"),
        # Names only its own step: C2 was set aside by the off-path clean-up just after.
        event(15, EventKind.REVISED, 300.001, node="report_returned", superseded=[]),
    ]

    result = replacements_for(get_guide(), answers, reversed(events))

    groups = [
        (g.revision.pk if g.revision else None, [a.record.pk for a in g.answers]) for g in result.groups
    ]
    assert groups == [
        (13, [1, 2]),
        (15, [3, 4]),
    ]
    marked = {
        entry.event.pk: entry.replaced.revision.pk if entry.replaced.revision else None
        for entry in result.timeline
        if entry.replaced
    }
    assert marked == {11: 13, 12: 13, 13: 15, 14: 15}


def test_an_answer_set_aside_before_any_revision_is_still_shown_as_replaced() -> None:
    answers = [answer(1, "report_returned", "report_present", 0, superseded=5)]
    events = [event(11, EventKind.ANSWERED, 0.001, node="report_returned")]

    result = replacements_for(get_guide(), answers, events)

    assert [(g.revision, [a.label for a in g.answers]) for g in result.groups] == [
        (None, ["Yes, a final report is there"])
    ]
    assert result.timeline[0].replaced is not None and result.timeline[0].replaced.revision is None

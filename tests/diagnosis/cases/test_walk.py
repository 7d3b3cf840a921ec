"""Walking cases through every edge of the guide with the real services and database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from diagnosis.guide import Kind, Result, get_guide
from diagnosis.models import AnswerRecord, Case, CaseState, Escalation, Event, EventKind, wait_deadline_after
from tests.diagnosis.conftest import route_to, walk_to

GUIDE = get_guide()
EDGES = GUIDE.edges()


@pytest.mark.parametrize(("source", "value", "target"), EDGES, ids=[f"{s}-{v}" for s, v, _ in EDGES])
def test_every_edge_is_taken(
    make_case: Callable[..., Case], agent: User, source: str, value: str, target: str
) -> None:
    case = walk_to(make_case(), [*route_to(GUIDE, source), (source, value)], agent)

    assert case.current_node == target
    kind = GUIDE[target].kind
    if kind is Kind.OUTCOME:
        expected = CaseState.RESOLVED if GUIDE[target].result is Result.RESOLVED else CaseState.ESCALATED
        assert (case.state, case.outcome, case.cause) == (expected, target, GUIDE[target].cause)
    elif kind is Kind.WAIT:
        assert case.state == CaseState.WAITING and case.wait_deadline is not None
    else:
        assert case.state == CaseState.IN_PROGRESS


@pytest.mark.parametrize("outcome", [n.id for n in GUIDE.outcomes()])
def test_every_outcome_is_reached(make_case: Callable[..., Case], agent: User, outcome: str) -> None:
    case = walk_to(make_case(), route_to(GUIDE, outcome), agent)

    node = GUIDE[outcome]
    assert case.outcome == outcome
    assert case.resolved_at is not None
    escalations = Escalation.objects.filter(case=case)
    if node.result is Result.ESCALATED:
        assert case.state == CaseState.ESCALATED
        escalation = escalations.get()
        assert escalation.reason == node.cause and escalation.is_open
        assert escalation.package["numbers"] == ["+4915123456789"]
        assert escalation.package["message_ids"] == [case.messages.get().msg_id]
        assert [c["step"] for c in escalation.package["checks"]] == [
            GUIDE[n].ref for n, _ in route_to(GUIDE, outcome)
        ]
        assert case.events.filter(kind=EventKind.ESCALATED).count() == 1
    else:
        assert case.state == CaseState.RESOLVED
        assert not escalations.exists()
    assert case.events.filter(kind=EventKind.OUTCOME).count() == 1


def test_revision_supersedes_later_answers_and_keeps_them(
    make_case: Callable[..., Case], agent: User, lead: User
) -> None:
    from diagnosis.cases import services

    case = walk_to(
        make_case(),
        [("report_returned", "report_present"), ("status_is_delivrd", "number"), ("number_dead", "no")],
        agent,
    )
    assert case.current_node == "ported_in"
    assert services.discarded_by_revision(case, "report_returned") == [
        GUIDE["status_is_delivrd"],
        GUIDE["number_dead"],
    ]

    case = services.revise_answer(
        case.pk, node="report_returned", value="no_report", actor=lead, notes="misread the console"
    )

    assert case.current_node == "dial_recipient"
    assert case.state == CaseState.IN_PROGRESS
    rows = AnswerRecord.objects.filter(case=case)
    assert rows.count() == 4  # three originals kept, one new
    assert set(rows.filter(superseded_at__isnull=False).values_list("node", flat=True)) == {
        "report_returned",
        "status_is_delivrd",
        "number_dead",
    }
    live = rows.get(superseded_at__isnull=True)
    assert (live.node, live.value, live.answered_by, live.notes) == (
        "report_returned",
        "no_report",
        lead,
        "misread the console",
    )
    revised = case.events.get(kind=EventKind.REVISED)
    assert revised.data["superseded"] == ["status_is_delivrd", "number_dead"]
    assert revised.data["previous"] == "report_present"
    assert revised.summary.endswith("; 2 later answers set aside")


def test_revising_an_outcome_reopens_the_case(make_case: Callable[..., Case], agent: User) -> None:
    from diagnosis.cases import services

    case = walk_to(make_case(), route_to(GUIDE, "R_spam_filtered"), agent)
    assert case.state == CaseState.RESOLVED

    case = services.revise_answer(case.pk, node="junk_folder", value="no", actor=agent)

    assert (case.current_node, case.state, case.outcome, case.cause, case.resolved_at) == (
        "signal",
        CaseState.IN_PROGRESS,
        "",
        "",
        None,
    )


def test_revising_into_a_wait_and_out_of_it(make_case: Callable[..., Case], agent: User) -> None:
    from diagnosis.cases import services

    case = walk_to(make_case(), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)
    assert case.is_waiting()
    assert case.sent_at is not None
    deadline = wait_deadline_after(case.sent_at)
    assert case.wait_deadline == deadline

    case = services.revise_answer(case.pk, node="report_returned", value="report_present", actor=agent)

    assert case.current_node == "status_is_delivrd"
    assert (case.state, case.waiting_since, case.wait_deadline) == (CaseState.IN_PROGRESS, None, None)


def test_events_are_append_only(make_case: Callable[..., Case]) -> None:
    from diagnosis.models import AppendOnlyError

    event = make_case().events.get()
    event.summary = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert Event.objects.get(pk=event.pk).summary.startswith("Case opened")

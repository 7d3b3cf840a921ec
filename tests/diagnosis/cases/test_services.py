"""Transitions: validation, proposals from stored reports, the wait, and the guards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from diagnosis.cases import services
from diagnosis.delivery import catalogue
from diagnosis.guide.engine import GuideError
from diagnosis.models import Case, CaseState, Escalation, EventKind, StatusCode, wait_deadline_after
from tests.diagnosis.conftest import MSG_ID, proposal_for, store_report, walk_to


def test_open_case_stores_numbers_and_messages(make_case: Callable[..., Case]) -> None:
    case = make_case(msg_ids=(MSG_ID, MSG_ID, " second-id "))

    assert case.reference.startswith("SMS-") and len(case.reference) == 10
    recipient = case.recipients.get()
    assert (recipient.e164, recipient.region, recipient.number_type) == ("+4915123456789", "DE", "mobile")
    assert sorted(case.messages.values_list("msg_id", flat=True)) == sorted([MSG_ID, "second-id"])
    assert (case.state, case.current_node, case.guide_version) == (CaseState.NEW, "report_returned", "1")
    assert case.events.get().kind == EventKind.CREATED


def test_open_case_needs_a_number(db: None) -> None:
    with pytest.raises(services.CaseError, match="at least one recipient"):
        services.open_case(services.NewCase("A", "a@example.com", numbers=[]))


def test_c1_proposal_follows_stored_reports(make_case: Callable[..., Case]) -> None:
    case = make_case()
    assert proposal_for(case).value == "no_report"

    store_report(status="ACCEPTD")
    proposal = proposal_for(case)
    assert (proposal.value, proposal.evidence) == ("no_report", "")
    assert "intermediate" in proposal.reason

    store_report(status="UNDELIV", updated_at=timezone.now() - timedelta(minutes=5))
    assert (proposal_for(case).value, proposal_for(case).evidence) == ("report_present", "UNDELIV")


def test_c3_proposal_uses_the_latest_final_report_and_its_branch(
    make_case: Callable[..., Case], agent: User
) -> None:
    case = walk_to(make_case(), [("report_returned", "report_present")], agent)
    now = timezone.now()
    store_report(status="BLACK", updated_at=now - timedelta(minutes=10))
    store_report(status="MK:0208", updated_at=now - timedelta(minutes=1))
    # A late intermediate report never replaces a final one.
    store_report(status="ACCEPTD", updated_at=now)

    proposal = proposal_for(case)

    assert proposal is not None
    assert (proposal.node, proposal.value, proposal.evidence) == ("status_is_delivrd", "number", "MK:0208")


def test_unknown_code_is_kept_and_routed_to_escalation(make_case: Callable[..., Case], agent: User) -> None:
    case = walk_to(make_case(), [("report_returned", "report_present")], agent)
    store_report(status="ZX:4242")

    proposal = proposal_for(case)
    assert (proposal.value, proposal.evidence) == ("other", "ZX:4242")
    case = services.answer_step(
        case.pk, node="status_is_delivrd", value="other", evidence="zx:4242", actor=agent
    )

    assert (case.state, case.outcome) == (CaseState.ESCALATED, "E_unexplained_failure")
    kept = StatusCode.objects.get(code="ZX:4242")
    assert (kept.branch, kept.documented) == ("unknown", False)
    assert case.answers.get(node="status_is_delivrd").evidence == "ZX:4242"


def test_family_codes_resolve_by_prefix_and_exact_codes_win(db: None) -> None:
    assert catalogue.lookup("MK:9999").code == "MK:"
    assert catalogue.lookup("MK:0209").branch == "not_supported"
    assert catalogue.lookup(" delivrd ").code == "DELIVRD"
    assert catalogue.lookup("ACCEPTD").final is False
    assert StatusCode.objects.filter(documented=True).count() == 118


def test_evidence_must_agree_with_the_answer(make_case: Callable[..., Case], agent: User) -> None:
    case = walk_to(make_case(), [("report_returned", "report_present")], agent)

    with pytest.raises(GuideError, match="points to “No: a sending-rate or quota limit”"):
        services.answer_step(
            case.pk, node="status_is_delivrd", value="delivered", evidence="LIMIT", actor=agent
        )
    with pytest.raises(GuideError, match="Choose one of the offered answers"):
        services.answer_step(case.pk, node="status_is_delivrd", value="maybe", actor=agent)

    case.refresh_from_db()
    assert case.current_node == "status_is_delivrd"
    assert case.answers.count() == 1  # nothing half-written


def test_answering_a_step_the_case_has_left_is_refused(
    make_case: Callable[..., Case], agent: User, other_agent: User
) -> None:
    case = make_case()
    services.answer_step(case.pk, node="report_returned", value="no_report", actor=agent)

    with pytest.raises(services.StaleCase, match="already answered"):
        services.answer_step(case.pk, node="report_returned", value="report_present", actor=other_agent)


def test_a_stale_revision_number_is_refused(make_case: Callable[..., Case], agent: User) -> None:
    case = make_case()
    seen = case.revision
    services.add_note(case.pk, text="Called the customer", actor=agent)

    with pytest.raises(services.StaleCase, match="Someone else changed this case"):
        services.answer_step(
            case.pk, node="report_returned", value="no_report", actor=agent, expected_revision=seen
        )


def test_waits_cannot_be_answered_by_people(make_case: Callable[..., Case], agent: User) -> None:
    case = walk_to(make_case(), [("report_returned", "no_report"), ("dial_recipient", "no")], agent)

    with pytest.raises(GuideError, match="ends by itself"):
        services.answer_step(case.pk, node="wait_review_hold", value="report", actor=agent)
    store_report(status="DELIVRD")
    assert services.resume_with_report(case.pk)
    with pytest.raises(GuideError, match="cannot be revised"):
        services.revise_answer(case.pk, node="wait_review_hold", value="deadline", actor=agent)


def test_only_steps_on_the_path_can_be_revised(make_case: Callable[..., Case], agent: User) -> None:
    case = make_case()
    with pytest.raises(GuideError, match="current path"):
        services.revise_answer(case.pk, node="junk_folder", value="yes", actor=agent)


def test_entering_a_wait_with_a_report_already_stored_resumes_at_once(
    make_case: Callable[..., Case], agent: User
) -> None:
    case = walk_to(make_case(), [("report_returned", "no_report")], agent)
    store_report(status="DELIVRD")

    case = services.answer_step(case.pk, node="dial_recipient", value="no", actor=agent)

    assert (case.current_node, case.state) == ("status_is_delivrd", CaseState.IN_PROGRESS)
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds.count(EventKind.WAIT_STARTED) == 1 and kinds.count(EventKind.WAIT_ENDED) == 1


def test_resume_needs_a_waiting_case_and_a_final_report(make_case: Callable[..., Case], agent: User) -> None:
    case = make_case()
    assert services.resume_with_report(case.pk) is False

    walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)
    store_report(status="ACCEPTD")
    assert services.resume_with_report(case.pk) is False
    case.refresh_from_db()
    assert case.is_waiting()


def test_wait_deadline_is_72_hours_after_sending(make_case: Callable[..., Case], agent: User) -> None:
    case = walk_to(
        make_case(sent_ago=timedelta(hours=10)),
        [("report_returned", "no_report"), ("dial_recipient", "yes")],
        agent,
    )

    assert case.sent_at is not None
    assert case.wait_deadline == wait_deadline_after(case.sent_at) == case.sent_at + timedelta(hours=73)
    assert case.events.filter(kind=EventKind.WAIT_STARTED).count() == 1


def test_unknown_send_time_waits_72_hours_from_now(db: None, agent: User) -> None:
    from diagnosis.delivery import numbers

    case = services.open_case(
        services.NewCase("A", "a@example.com", numbers=[numbers.normalise("+4915123456789")])
    )
    with time_machine.travel(timezone.now(), tick=False):
        case = services.answer_step(case.pk, node="report_returned", value="no_report", actor=agent)
        case = services.answer_step(case.pk, node="dial_recipient", value="yes", actor=agent)
        assert case.wait_deadline == wait_deadline_after(timezone.now())


def test_the_72_hour_boundary_escalates_exactly_once(make_case: Callable[..., Case], agent: User) -> None:
    case = walk_to(make_case(), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)
    deadline = case.wait_deadline

    assert deadline is not None
    assert services.expire_wait(case.pk, now=deadline - timedelta(minutes=1)) is False
    assert services.expire_wait(case.pk, now=deadline) is True
    assert services.expire_wait(case.pk, now=deadline + timedelta(minutes=1)) is False

    case.refresh_from_db()
    assert (case.state, case.outcome) == (CaseState.ESCALATED, "E_no_report_after_72h")
    assert Escalation.objects.filter(case=case).count() == 1
    assert case.events.filter(kind=EventKind.ESCALATED).count() == 1


def test_reaching_the_same_escalation_again_reuses_the_open_one(
    make_case: Callable[..., Case], agent: User
) -> None:
    case = walk_to(
        make_case(),
        [("report_returned", "report_present"), ("status_is_delivrd", "limit"), ("frequency_limit", "yes")],
        agent,
    )
    services.revise_answer(case.pk, node="frequency_limit", value="yes", actor=agent, notes="confirmed")

    assert Escalation.objects.filter(case=case, reason="frequency_limit").count() == 1


def test_claim_assign_and_notes(
    make_case: Callable[..., Case], agent: User, other_agent: User, lead: User
) -> None:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)

    with pytest.raises(services.StaleCase, match="already claimed by"):
        services.assign(case.pk, assignee=other_agent, actor=other_agent, claim=True)
    services.assign(case.pk, assignee=other_agent, actor=lead)
    with pytest.raises(services.CaseError, match="Write something"):
        services.add_note(case.pk, text="  ", actor=agent)
    services.add_note(case.pk, text="Customer says it is urgent", actor=agent)

    case.refresh_from_db()
    assert case.assigned_to == other_agent
    assert list(case.events.values_list("kind", flat=True)) == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.ASSIGNED,
        EventKind.NOTE,
    ]


def test_close_and_reopen(make_case: Callable[..., Case], agent: User) -> None:
    from tests.diagnosis.conftest import route_to

    case = make_case()
    with pytest.raises(services.CaseError, match="Only a resolved or escalated"):
        services.close_case(case.pk, actor=agent)
    case = walk_to(case, route_to(case.guide, "R_inbox_full"), agent)
    services.close_case(case.pk, actor=agent)
    with pytest.raises(services.CaseError, match="is closed"):
        services.add_note(case.pk, text="late note", actor=agent)
    with pytest.raises(services.CaseError, match="Only a closed case"):
        services.reopen_case(make_case().pk, actor=agent)

    case = services.reopen_case(case.pk, actor=agent)
    assert case.state == CaseState.RESOLVED

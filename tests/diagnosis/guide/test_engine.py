"""The pure engine, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from diagnosis.guide import engine, get_guide
from diagnosis.guide.engine import CaseEvidence, GuideError
from diagnosis.guide.evidence import ReportFact

GUIDE = get_guide()
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def fact(status: str, branch: str, *, final: bool = True, minutes: int = 0) -> ReportFact:
    return ReportFact(status, branch, final, T0 + timedelta(minutes=minutes))


def test_walk_follows_answers_and_reports_leftovers() -> None:
    path = engine.walk(GUIDE, {"report_returned": "no_report", "dial_recipient": "yes", "junk_folder": "yes"})
    assert path.node_ids == ("report_returned", "dial_recipient")
    assert path.current.id == "wait_phone_off"
    assert path.off_path == {"junk_folder"}


def test_walk_stops_at_a_value_the_guide_no_longer_offers() -> None:
    path = engine.walk(GUIDE, {"report_returned": "retired-option"})
    assert path.current.id == "report_returned" and path.steps == ()


def of(*facts: ReportFact) -> CaseEvidence:
    return CaseEvidence.of(list(facts))


def test_propose_only_for_steps_that_take_a_status_code() -> None:
    assert engine.propose(GUIDE["junk_folder"], of(fact("DELIVRD", "delivered"))) is None
    assert engine.propose(GUIDE["wait_phone_off"], of(fact("DELIVRD", "delivered"))) is None


def test_c3_has_no_proposal_without_a_final_report() -> None:
    assert engine.propose(GUIDE["status_is_delivrd"], of(fact("ACCEPTD", "pending", final=False))) is None


def test_c3_has_no_proposal_for_a_branch_it_does_not_know() -> None:
    assert engine.propose(GUIDE["status_is_delivrd"], of(fact("X", "made-up-branch"))) is None


def test_an_intermediate_report_never_overrides_a_final_one() -> None:
    reports = [fact("DELIVRD", "delivered", minutes=9), fact("ACCEPTD", "pending", final=False, minutes=20)]
    for order in (reports, list(reversed(reports))):
        proposal = engine.propose(GUIDE["status_is_delivrd"], of(*order))
        assert proposal is not None
        assert (proposal.value, proposal.evidence) == ("delivered", "DELIVRD")


def test_a_failure_outweighs_a_conflicting_delivered_report_for_the_same_part() -> None:
    reports = [fact("UNDELIV", "number_invalid", minutes=5), fact("DELIVRD", "delivered", minutes=9)]
    for order in (reports, list(reversed(reports))):
        proposal = engine.propose(GUIDE["status_is_delivrd"], of(*order))
        assert proposal is not None
        assert (proposal.value, proposal.evidence) == ("number", "UNDELIV")


def test_reports_matched_by_number_say_so() -> None:
    evidence = CaseEvidence.of([fact("DELIVRD", "delivered")], by_number=True)
    proposal = engine.propose(GUIDE["report_returned"], evidence)
    assert proposal is not None
    assert proposal.value == "report_present"
    assert "matched only by the recipient number" in proposal.reason


def test_outcomes_take_no_answers() -> None:
    with pytest.raises(GuideError, match="reached an outcome"):
        engine.check_answer(GUIDE["R_inbox_full"], "yes", None)


def test_evidence_that_no_answer_claims_is_accepted() -> None:
    assert engine.check_answer(GUIDE["status_is_delivrd"], "number", "made-up-branch").next == "number_dead"


def test_revision_lists_the_later_steps() -> None:
    answers = {"report_returned": "report_present", "status_is_delivrd": "delivered", "junk_folder": "no"}
    assert engine.revision(GUIDE, answers, "status_is_delivrd") == ("junk_folder",)


def test_guide_membership() -> None:
    assert "report_returned" in GUIDE
    assert "nowhere" not in GUIDE

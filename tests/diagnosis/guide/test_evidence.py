"""A message's status from all of its parts, whatever order the reports arrived in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from diagnosis.guide import engine, get_guide
from diagnosis.guide.engine import CaseEvidence
from diagnosis.guide.evidence import ReportFact, Standing, message_status, verdict

GUIDE = get_guide()
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
BRANCHES = {
    "DELIVRD": "delivered",
    "UNDELIV": "number_invalid",
    "E200027": "carrier_block",
    "ACCEPTD": "pending",
}


def part(
    status: str, sequence: int, *, total: int = 3, msg_id: str = "B", minutes: int | None = 0
) -> ReportFact:
    reported = None if minutes is None else T0 + timedelta(minutes=minutes)
    return ReportFact(
        status=status,
        branch=BRANCHES[status],
        final=status != "ACCEPTD",
        # Without updateTime, the arrival time stands in: exactly what must not decide anything.
        at=reported or T0 + timedelta(hours=sequence),
        msg_id=msg_id,
        sequence=sequence,
        total=total,
        reported_at=reported,
    )


LONG_SMS = [part("DELIVRD", 1, minutes=1), part("DELIVRD", 2, minutes=2), part("UNDELIV", 3, minutes=0)]


def proposals(facts: list[ReportFact]) -> tuple[tuple[str, str], tuple[str, str]]:
    evidence = CaseEvidence.of(facts, ["B"])
    c1 = engine.propose(GUIDE["report_returned"], evidence)
    c3 = engine.propose(GUIDE["status_is_delivrd"], evidence)
    assert c1 is not None and c3 is not None
    return (c1.value, c1.evidence), (c3.value, c3.evidence)


@given(st.permutations(LONG_SMS), st.booleans())
def test_one_failed_part_fails_the_long_message_in_any_arrival_order(
    order: list[ReportFact], without_update_time: bool
) -> None:
    if without_update_time:
        order = [part(f.status, f.sequence, minutes=None) for f in order]

    assert proposals(order) == (("report_present", "UNDELIV"), ("number", "UNDELIV"))
    status = message_status("B", order)
    assert status.failure is not None
    assert (status.standing, status.failure.sequence, status.delivered_parts) == (Standing.FAILED, 3, (1, 2))


def test_a_long_message_is_delivered_only_when_every_part_is() -> None:
    two_of_three = [part("DELIVRD", 1), part("DELIVRD", 2)]
    assert message_status("B", two_of_three).missing_parts == (3,)
    evidence = CaseEvidence.of(two_of_three, ["B"])
    proposal = engine.propose(GUIDE["report_returned"], evidence)
    assert proposal is not None and proposal.value == "no_report"
    assert engine.propose(GUIDE["status_is_delivrd"], evidence) is None

    every_part = [*two_of_three, part("DELIVRD", 3)]
    assert proposals(every_part) == (("report_present", "DELIVRD"), ("delivered", "DELIVRD"))


def test_a_part_with_only_an_intermediate_status_has_no_final_report_yet() -> None:
    facts = [part("DELIVRD", 1, total=2), part("ACCEPTD", 2, total=2)]
    status = message_status("B", facts)
    assert (status.standing, status.missing_parts) == (Standing.PENDING, (2,))
    assert status.describe() == "no final report yet for part 2 of 2"


def test_part_numbers_that_do_not_add_up_are_placed_where_they_can_be() -> None:
    # One part, whatever `sequence` says: the report is for that part.
    assert message_status("B", [part("DELIVRD", 2, total=1)]).standing is Standing.DELIVERED
    assert message_status("B", [part("DELIVRD", 1, total=1), part("UNDELIV", 2, total=1)]).standing is (
        Standing.FAILED
    )
    # Reports disagreeing on the total: the largest counts, so a part is still awaited.
    assert message_status("B", [part("DELIVRD", 1, total=1), part("DELIVRD", 2, total=3)]).missing_parts == (
        3,
    )
    # A part beyond a longer message's total is unknown: it fails, never completes.
    beyond = [part("DELIVRD", 1, total=2), part("DELIVRD", 5, total=2)]
    assert message_status("B", beyond).missing_parts == (2,)
    assert message_status("B", [*beyond[:1], part("UNDELIV", 5, total=2)]).standing is Standing.FAILED


def test_a_named_message_without_any_report_keeps_the_verdict_open() -> None:
    found = verdict([part("DELIVRD", 1, total=1, msg_id="A")], ["A", "B"])
    assert found.standing is Standing.PENDING
    assert "B: no report yet" in found.describe()


statuses = st.sampled_from(sorted(BRANCHES))
reports = st.lists(
    st.builds(
        part,
        statuses,
        st.integers(1, 4),
        total=st.integers(1, 3),
        msg_id=st.sampled_from(["A", "B"]),
        minutes=st.one_of(st.none(), st.integers(0, 5)),
    ),
    max_size=8,
)


@given(reports, st.randoms())
def test_the_verdict_never_depends_on_arrival_order(facts: list[ReportFact], rnd: object) -> None:
    shuffled = list(facts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert verdict(shuffled, ["A"]) == verdict(facts, ["A"])


@given(reports)
def test_delivered_means_every_part_of_every_message_has_a_final_delivrd(facts: list[ReportFact]) -> None:
    found = verdict(facts, ["A"])
    if found.standing is Standing.DELIVERED:
        for msg_id in {"A"} | {f.msg_id for f in facts}:
            mine = [f for f in facts if f.msg_id == msg_id]
            parts = max([1, *(f.total for f in mine)])
            for n in range(1, parts + 1):
                # A report is for part `sequence` when that fits its total; a one-part report is for part 1.
                placed = [f for f in mine if f.sequence == n <= f.total or (n == 1 and f.total <= 1)]
                finals = [f for f in placed if f.final]
                assert finals and all(f.status == "DELIVRD" for f in finals)


def test_a_report_whose_part_could_not_be_read_fails_but_never_completes_a_message() -> None:
    unknown_part_failed = [part("DELIVRD", 1, total=2), part("UNDELIV", 0, total=2)]
    assert message_status("B", unknown_part_failed).standing is Standing.FAILED
    unknown_part_delivered = [part("DELIVRD", 1, total=2), part("DELIVRD", 0, total=2)]
    assert message_status("B", unknown_part_delivered).missing_parts == (2,)
    assert message_status("B", [part("DELIVRD", 0, total=1)]).standing is Standing.DELIVERED


def test_reports_that_tie_on_time_and_code_give_the_same_verdict_in_either_order() -> None:
    # Found by the property test above: one-part message, two E200027 reports at the same
    # platform time that differ only in `sequence` (both count for part 1).
    same_time = [
        part("E200027", 1, total=1, msg_id="A", minutes=1),
        part("E200027", 2, total=1, msg_id="A", minutes=1),
    ]
    # Failures of a part the numbers do not place: which one decides shows in the description.
    unplaced = [part("UNDELIV", 0, total=2, minutes=1), part("UNDELIV", 5, total=2, minutes=1)]
    for facts in (same_time, unplaced):
        orders = [verdict(list(order), ["A"]) for order in itertools.permutations(facts)]
        assert all(found == orders[0] for found in orders)
        assert len({found.describe() for found in orders}) == 1


def test_an_intermediate_status_never_outranks_a_final_one_for_the_same_part() -> None:
    # A later ACCEPTD (with or without updateTime) after the part's final failure changes nothing.
    for later in (part("ACCEPTD", 1, total=1, minutes=5), part("ACCEPTD", 1, total=1, minutes=None)):
        facts = [part("E200027", 1, total=1, minutes=1), later]
        for order in itertools.permutations(facts):
            found = verdict(list(order), ["B"])
            assert (found.standing, found.code, found.branch) == (Standing.FAILED, "E200027", "carrier_block")
    # Nor does it complete a part, however late it comes.
    waiting = [part("DELIVRD", 1, total=2, minutes=1), part("ACCEPTD", 2, total=2, minutes=5)]
    for order in itertools.permutations(waiting):
        assert message_status("B", list(order)).missing_parts == (2,)

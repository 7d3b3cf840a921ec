"""Walking the guide: pure functions over a guide and a case's live answers.

No database and no HTTP here. `diagnosis.services` loads a case, asks the engine
where it stands and what an answer would do, and stores the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from diagnosis.guide import Answer, Evidence, Guide, Kind, Node


class GuideError(Exception):
    """An answer the guide does not allow; the message is shown to the agent."""


@dataclass(frozen=True)
class Walk:
    """Where the live answers lead: the steps taken, the current node, and leftovers."""

    steps: tuple[tuple[Node, Answer], ...]
    current: Node
    # Live answers that are no longer on the path (after a revision); to be superseded.
    off_path: frozenset[str]

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(node.id for node, _ in self.steps)


def walk(guide: Guide, answers: Mapping[str, str]) -> Walk:
    """Follow the answers from the start until a node has none (or is an outcome)."""
    steps: list[tuple[Node, Answer]] = []
    node = guide[guide.start]
    while node.kind is not Kind.OUTCOME and node.id in answers:
        answer = node.answer(answers[node.id])
        if answer is None:
            # A stored value the guide no longer offers: stop here so it can be answered again.
            break
        steps.append((node, answer))
        node = guide[answer.next]
    on_path = {n.id for n, _ in steps}
    return Walk(tuple(steps), node, frozenset(set(answers) - on_path))


@dataclass(frozen=True)
class ReportFact:
    """What the engine needs to know about one stored status report."""

    status: str
    branch: str
    final: bool
    at: datetime


@dataclass(frozen=True)
class Proposal:
    """A suggested answer for a step, with the evidence and a reason to show."""

    node: str
    value: str
    evidence: str
    reason: str


def answer_for_branch(node: Node, branch: str) -> Answer | None:
    return next((a for a in node.answers if branch in a.branches), None)


def latest_final(reports: Sequence[ReportFact]) -> ReportFact | None:
    finals = [r for r in reports if r.final]
    return max(finals, key=lambda r: r.at) if finals else None


def propose(
    node: Node, reports: Sequence[ReportFact], customer_answers: Mapping[str, str] | None = None
) -> Proposal | None:
    """Propose the answer to a step that stored reports or the customer already decided.

    C1 (a check asking for a status code with a "report present" option) is decided by
    whether a final report exists; C3 by the branch of the latest final report's code.
    A message's status only moves forward, so intermediate reports never override a
    final one, whatever their order of arrival. A phone-side check the customer already
    did on the ticket form is proposed with their answer, so nobody asks twice.
    """
    if node.kind is not Kind.CHECK:
        return None
    given = (customer_answers or {}).get(node.id)
    if given is not None and node.answer(given) is not None:
        return Proposal(node.id, given, "", "The customer already answered this on the ticket form.")
    if node.evidence is not Evidence.STATUS_CODE:
        return None
    final = latest_final(reports)
    if node.answer("report_present") is not None:
        if final is None:
            seen = "only an intermediate status" if reports else "no report"
            return Proposal(node.id, "no_report", "", f"The portal has {seen} for this message so far.")
        return Proposal(
            node.id, "report_present", final.status, f"A final report with status {final.status} is stored."
        )
    if final is None:
        return None
    answer = answer_for_branch(node, final.branch)
    if answer is None:
        return None
    return Proposal(node.id, answer.value, final.status, f"The latest final report says {final.status}.")


def check_answer(node: Node, value: str, evidence_branch: str | None) -> Answer:
    """The chosen option, after checking it is allowed here and fits the evidence."""
    if node.kind is Kind.WAIT:
        raise GuideError("This step ends by itself when a report arrives or the 72 hours pass.")
    if node.kind is Kind.OUTCOME:
        raise GuideError("The case has reached an outcome; revise an earlier answer to change it.")
    answer = node.answer(value)
    if answer is None:
        raise GuideError(f"Choose one of the offered answers ({', '.join(a.label for a in node.answers)}).")
    if evidence_branch is not None and answer.branches:
        expected = answer_for_branch(node, evidence_branch)
        if expected is not None and expected.value != answer.value:
            raise GuideError(f"That status code points to “{expected.label}”, not “{answer.label}”.")
    return answer


def revision(guide: Guide, answers: Mapping[str, str], node_id: str) -> tuple[str, ...]:
    """The later steps that revising `node_id` would discard, in path order.

    Only a step on the current path can be revised; waits end by themselves.
    """
    path = walk(guide, answers)
    if node_id not in path.node_ids:
        raise GuideError("Only a step on the case's current path can be revised.")
    if guide[node_id].kind is not Kind.CHECK:
        raise GuideError("A wait is ended by a report or the deadline and cannot be revised.")
    index = path.node_ids.index(node_id)
    return path.node_ids[index + 1 :] + tuple(sorted(path.off_path))

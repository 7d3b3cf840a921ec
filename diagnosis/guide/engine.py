"""Walking the guide: pure functions over a guide and a case's live answers.

No database and no HTTP here. `diagnosis.cases.services` loads a case, asks the engine
where it stands and what an answer would do, and stores the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

from django.utils.translation import gettext as _

from diagnosis.guide import Answer, Evidence, Guide, Kind, Node
from diagnosis.guide.evidence import ReportFact, Verdict, verdict


class GuideError(Exception):
    """An answer the guide does not allow; the message (translated) is shown to the agent.

    `field` names the form field the error is about ("status_code" when the given status
    code contradicts the answer), or None when it concerns the answer or the step itself,
    so a view places the error without reading the message.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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
class Proposal:
    """A suggested answer for a step, with the evidence and a reason to show."""

    node: str
    value: str
    evidence: str
    reason: str


@dataclass(frozen=True)
class CaseEvidence:
    """The reports a case's proposals rest on, and how they were found."""

    verdict: Verdict
    # True when the case names no message id and the reports were matched by its numbers.
    by_number: bool = False

    @classmethod
    def of(cls, facts: Sequence[ReportFact], msg_ids: Sequence[str] = (), *, by_number: bool = False) -> Self:
        return cls(verdict(facts, msg_ids), by_number)

    def basis(self) -> str:
        if self.by_number:
            return _("Reports matched only by the recipient number (the case names no message id)")
        return _("Reports of the case's own messages")


NO_EVIDENCE = CaseEvidence(Verdict(()))


def answer_for_branch(node: Node, branch: str) -> Answer | None:
    return next((a for a in node.answers if branch in a.branches), None)


def propose(
    node: Node, evidence: CaseEvidence = NO_EVIDENCE, customer_answers: Mapping[str, str] | None = None
) -> Proposal | None:
    """Propose the answer to a step that stored reports or the customer already decided.

    C1 (a check asking for a status code with a "report present" option) is decided by
    whether the case's messages have a final status; C3 by that status's branch. The
    status of a message comes from all of its parts (`diagnosis.guide.evidence`), so
    neither arrival order nor a missing `updateTime` changes a proposal. A phone-side
    check the customer already did on the ticket form is proposed with their answer,
    so nobody asks twice.
    """
    if node.kind is not Kind.CHECK:
        return None
    given = (customer_answers or {}).get(node.id)
    if given is not None and node.answer(given) is not None:
        return Proposal(node.id, given, "", _("The customer already answered this on the ticket form."))
    if node.evidence is not Evidence.STATUS_CODE:
        return None
    found = evidence.verdict
    # Translators: why a step's answer is proposed: where the reports come from, then what they say.
    because = _("%(basis)s: %(verdict)s.") % {"basis": evidence.basis(), "verdict": found.describe()}
    if node.answer("report_present") is not None:
        if not found.final:
            return Proposal(node.id, "no_report", "", because)
        return Proposal(node.id, "report_present", found.code, because)
    if not found.final:
        return None
    answer = answer_for_branch(node, found.branch)
    if answer is None:
        return None
    return Proposal(node.id, answer.value, found.code, because)


def check_answer(node: Node, value: str, evidence_branch: str | None) -> Answer:
    """The chosen option, after checking it is allowed here and fits the evidence."""
    if node.kind is Kind.WAIT:
        raise GuideError(_("This step ends by itself when a report arrives or the 72 hours pass."))
    if node.kind is Kind.OUTCOME:
        raise GuideError(_("The case has reached an outcome; revise an earlier answer to change it."))
    answer = node.answer(value)
    if answer is None:
        # Translators: the offered answers are listed after it, separated by a comma.
        offered = _(", ").join(str(a.label) for a in node.answers)
        raise GuideError(_("Choose one of the offered answers (%(answers)s).") % {"answers": offered})
    if evidence_branch is not None and answer.branches:
        expected = answer_for_branch(node, evidence_branch)
        if expected is not None and expected.value != answer.value:
            raise GuideError(
                _("That status code points to “%(expected)s”, not “%(chosen)s”.")
                % {"expected": expected.label, "chosen": answer.label},
                field="status_code",
            )
    return answer


def revision(guide: Guide, answers: Mapping[str, str], node_id: str) -> tuple[str, ...]:
    """The later steps that revising `node_id` would discard, in path order.

    Only a step on the current path can be revised; waits end by themselves.
    """
    path = walk(guide, answers)
    if node_id not in path.node_ids:
        raise GuideError(_("Only a step on the case's current path can be revised."))
    if guide[node_id].kind is not Kind.CHECK:
        raise GuideError(_("A wait is ended by a report or the deadline and cannot be revised."))
    index = path.node_ids.index(node_id)
    return path.node_ids[index + 1 :] + tuple(sorted(path.off_path))

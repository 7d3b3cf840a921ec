"""The building blocks of a troubleshooting guide: checks, waits and outcomes.

A guide is plain, immutable data. `Guide.validate()` proves it is a well-formed
graph (every edge lands on a node, every node is reachable, no cycles, every path
ends in an outcome) so a typo fails at import time, not in front of an agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext


class Text(str):
    """A text of the guide a person reads: English as data, translated when shown.

    Its value is the English msgid, so comparing, hashing, json.dumps, slicing and
    storing it give English and never depend on the active language; `str()` and
    formatting (f-strings, `%`, templates, form choice labels) give it translated by
    gettext in the active language. The guide module marks its texts with it under the
    name `_`, so makemessages extracts them. Wrap it in str() to get the translation.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return gettext(str.__str__(self))

    def __format__(self, format_spec: str) -> str:
        return format(str(self), format_spec)


class Kind(StrEnum):
    CHECK = "check"
    WAIT = "wait"
    OUTCOME = "outcome"


class Result(StrEnum):
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class Evidence(StrEnum):
    STATUS_CODE = "status_code"


@dataclass(frozen=True)
class Answer:
    """One option of a check (or one way a wait ends) and the node it leads to."""

    value: str
    label: str
    next: str
    # Status-code branches (from the code catalogue) that make this the right answer.
    branches: tuple[str, ...] = ()
    # The same answer in the customer's words, for checks customers can do themselves.
    customer_label: str = ""


class DetailKind(StrEnum):
    TEXT = "text"
    DATE = "date"


@dataclass(frozen=True)
class Detail:
    """Something an escalation outcome needs from the agent before its escalation is sent."""

    name: str  # its key in the escalation package
    label: str
    kind: DetailKind = DetailKind.TEXT
    help_text: str = ""
    required: bool = True
    max_length: int = 100


@dataclass(frozen=True)
class Node:
    id: str
    kind: Kind
    ref: str  # the guide's own short name: C1, W2, N3, P5, R, E
    title: str
    agent_text: str  # what the agent does and why
    customer_text: str  # what the customer is told while the case is here
    answers: tuple[Answer, ...] = ()
    evidence: Evidence | None = None
    result: Result | None = None
    cause: str = ""
    # A question the customer can answer alone (self-help before filing); only some checks have one.
    customer_question: str = ""
    # What the agent must give before an escalation outcome's package is sent (outcomes only).
    details: tuple[Detail, ...] = ()

    def answer(self, value: str) -> Answer | None:
        return next((a for a in self.answers if a.value == value), None)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(a.value for a in self.answers)


# A wait ends one of two ways; the engine records them as the wait's "answer".
WAIT_REPORT = "report"
WAIT_DEADLINE = "deadline"


@dataclass(frozen=True)
class Guide:
    version: str
    start: str
    nodes: tuple[Node, ...]
    _by_id: dict[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {node.id: node for node in self.nodes})
        self.validate()

    def __getitem__(self, node_id: str) -> Node:
        return self._by_id[node_id]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._by_id

    def edges(self) -> list[tuple[str, str, str]]:
        return [(node.id, a.value, a.next) for node in self.nodes for a in node.answers]

    def outcomes(self) -> list[Node]:
        return [node for node in self.nodes if node.kind is Kind.OUTCOME]

    def validate(self) -> None:
        if len(self._by_id) != len(self.nodes):
            raise ValueError(f"guide {self.version}: duplicate node ids")
        if self.start not in self._by_id:
            raise ValueError(f"guide {self.version}: unknown start node {self.start!r}")
        for node in self.nodes:
            self._validate_node(node)
        self._validate_acyclic_and_reachable()

    def _validate_node(self, node: Node) -> None:
        where = f"guide {self.version}, node {node.id}"
        if node.kind is Kind.OUTCOME:
            if node.answers or node.result is None or not node.cause:
                raise ValueError(f"{where}: an outcome has a result, a cause and no answers")
            if node.details and node.result is not Result.ESCALATED:
                raise ValueError(f"{where}: only an escalation asks for details")
            names = [d.name for d in node.details]
            if len(set(names)) != len(names):
                raise ValueError(f"{where}: duplicate detail names")
            return
        if node.details:
            raise ValueError(f"{where}: only an outcome asks for details")
        if not node.answers:
            raise ValueError(f"{where}: a {node.kind} needs answers")
        if len(set(node.values)) != len(node.values):
            raise ValueError(f"{where}: duplicate answer values")
        if node.kind is Kind.WAIT and set(node.values) != {WAIT_REPORT, WAIT_DEADLINE}:
            raise ValueError(f"{where}: a wait ends on '{WAIT_REPORT}' or '{WAIT_DEADLINE}'")
        for answer in node.answers:
            if answer.next not in self._by_id:
                raise ValueError(f"{where}: answer {answer.value!r} leads to unknown {answer.next!r}")

    def _validate_acyclic_and_reachable(self) -> None:
        seen: set[str] = set()
        on_stack: set[str] = set()

        def visit(node_id: str) -> None:
            if node_id in on_stack:
                raise ValueError(f"guide {self.version}: cycle through {node_id}")
            if node_id in seen:
                return
            on_stack.add(node_id)
            for answer in self[node_id].answers:
                visit(answer.next)
            on_stack.discard(node_id)
            seen.add(node_id)

        visit(self.start)
        unreachable = set(self._by_id) - seen
        if unreachable:
            raise ValueError(f"guide {self.version}: unreachable nodes {sorted(unreachable)}")

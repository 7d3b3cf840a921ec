"""What stored status reports say about a case's messages: pure functions, no database.

A long SMS is sent in parts, and the platform reports each part on its own. A
message is delivered only when every part has a final `DELIVRD`; one failed part
makes the whole message failed, with that part's code. The verdict never depends on
the order in which reports arrived, nor on whether they carried `updateTime`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

DELIVERED_BRANCH = "delivered"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReportFact:
    """What the guide needs to know about one stored status report."""

    status: str
    branch: str
    final: bool
    # The platform's `updateTime`, or when the portal received the report if it had none.
    at: datetime
    msg_id: str = ""
    sequence: int = 1
    total: int = 1
    # Only the platform's own time: arrival time must never decide between two reports.
    reported_at: datetime | None = None

    @property
    def delivered(self) -> bool:
        return self.final and self.branch == DELIVERED_BRANCH


class Standing(StrEnum):
    NO_REPORT = "no_report"  # nothing at all yet
    PENDING = "pending"  # reports, but some message or part has no final one yet
    FAILED = "failed"
    DELIVERED = "delivered"


def _part_key(fact: ReportFact) -> tuple[bool, datetime, str, str, int, int, datetime, str, bool]:
    """Which of a part's failed reports decides: a total order over every field of a report.

    The platform's time first; the rest only breaks ties. Two reports that tie on the key
    are equal, so the choice never depends on the order they are given in.
    """
    return (
        fact.reported_at is not None,
        fact.reported_at or _EPOCH,
        fact.status,
        fact.branch,
        fact.total,
        fact.sequence,
        fact.at,
        fact.msg_id,
        fact.final,
    )


@dataclass(frozen=True)
class MessageStatus:
    """One message's status, from the reports of all of its parts."""

    msg_id: str
    parts: int
    delivered_parts: tuple[int, ...]
    missing_parts: tuple[int, ...]
    # The failed part that decides the message's status, when one failed.
    failure: ReportFact | None
    # Any report of this message, intermediate ones included.
    reported: bool

    @property
    def standing(self) -> Standing:
        if self.failure is not None:
            return Standing.FAILED
        if not self.reported:
            return Standing.NO_REPORT
        return Standing.PENDING if self.missing_parts else Standing.DELIVERED

    def describe(self) -> str:
        """What the reports say about this message, for the agent (in the active language)."""
        if self.failure is not None:
            if self.parts <= 1:
                return _("the message failed with %(code)s") % {"code": self.failure.status}
            # A report the part numbers do not place (`_part`) names no part.
            number = str(self.failure.sequence) if 1 <= self.failure.sequence <= self.parts else "?"
            return _("part %(number)s of %(parts)d failed with %(code)s") % {
                "number": number,
                "parts": self.parts,
                "code": self.failure.status,
            }
        if not self.reported:
            return _("no report yet")
        if not self.missing_parts:
            if self.parts > 1:
                return _("all %(parts)d parts delivered") % {"parts": self.parts}
            return _("the message delivered")
        if self.parts == 1:
            return _("only an intermediate status so far")
        # Translators: separates the numbers of a message's parts, as in "parts 2, 3 of 4".
        waiting = _(", ").join(str(n) for n in self.missing_parts)
        return ngettext(
            "no final report yet for part %(numbers)s of %(parts)d",
            "no final report yet for parts %(numbers)s of %(parts)d",
            len(self.missing_parts),
        ) % {"numbers": waiting, "parts": self.parts}


def _part(fact: ReportFact) -> int:
    """The part a report is for, or 0 when its part numbers do not say.

    A report of a one-part message is for that part whatever its `sequence` says. On a
    longer message, a report of an unknown part can still fail the message but
    completes no part.
    """
    if 1 <= fact.sequence <= fact.total:
        return fact.sequence
    return 1 if fact.total <= 1 else 0


def message_status(msg_id: str, facts: Sequence[ReportFact]) -> MessageStatus:
    """The status of one message from the reports of its parts (all with this `msg_id`)."""
    # Reports may disagree on `total`: the largest one counts.
    parts = max([1, *(f.total for f in facts)])
    finals: dict[int, list[ReportFact]] = defaultdict(list)
    for fact in facts:
        if fact.final:
            finals[_part(fact)].append(fact)
    failures = []
    delivered = []
    for part, reports in sorted(finals.items()):
        failed = [f for f in reports if not f.delivered]
        if failed:
            # A failure outweighs a conflicting DELIVRD for the same part: better a check too many.
            failures.append(max(failed, key=_part_key))
        else:
            delivered.append(part)
    return MessageStatus(
        msg_id=msg_id,
        parts=parts,
        delivered_parts=tuple(delivered),
        missing_parts=tuple(n for n in range(1, parts + 1) if n not in finals),
        failure=failures[0] if failures else None,
        reported=bool(facts),
    )


@dataclass(frozen=True)
class Verdict:
    """What the reports say about a set of messages taken together."""

    messages: tuple[MessageStatus, ...]

    @property
    def standing(self) -> Standing:
        standings = {m.standing for m in self.messages}
        if Standing.FAILED in standings:
            return Standing.FAILED
        if not standings or standings == {Standing.NO_REPORT}:
            return Standing.NO_REPORT
        if standings == {Standing.DELIVERED}:
            return Standing.DELIVERED
        return Standing.PENDING

    @property
    def final(self) -> bool:
        return self.standing in (Standing.FAILED, Standing.DELIVERED)

    @property
    def code(self) -> str:
        """The status code that decides the verdict; empty while it is not final."""
        failure = self.failure
        if failure is not None:
            return failure.status
        return "DELIVRD" if self.standing is Standing.DELIVERED else ""

    @property
    def branch(self) -> str:
        failure = self.failure
        if failure is not None:
            return failure.branch
        return DELIVERED_BRANCH if self.standing is Standing.DELIVERED else ""

    @property
    def failure(self) -> ReportFact | None:
        return next((m.failure for m in self.messages if m.failure is not None), None)

    def describe(self) -> str:
        """One sentence, for the agent, on what the verdict rests on."""
        if not self.messages:
            return _("no report")
        # Translators: one message's id, then what its reports say.
        described = [
            _("%(msg_id)s: %(status)s") % {"msg_id": m.msg_id, "status": m.describe()} for m in self.messages
        ]
        # Translators: separates the messages of a case in the evidence sentence.
        return _("; ").join(described)


def verdict(facts: Iterable[ReportFact], msg_ids: Sequence[str] = ()) -> Verdict:
    """The verdict over the messages `msg_ids` (and any other message the facts are about).

    A message of `msg_ids` without any report counts as having no final report yet.
    Messages are taken in id order, so the failure reported first does not depend on
    arrival either.
    """
    by_message: dict[str, list[ReportFact]] = {m: [] for m in msg_ids}
    for fact in facts:
        by_message.setdefault(fact.msg_id, []).append(fact)
    return Verdict(tuple(message_status(m, by_message[m]) for m in sorted(by_message)))

"""Live pages: a cheap "has it changed since?" check that open pages poll.

A case's change stamp is read in one statement from what its page shows: the case row
itself (state, step, holder, wait times, `updated_at`), its newest event (step answers,
notes, replies, customer messages, state changes, assignments), its newest status report
(by message id, test message id or number), its newest sent escalation and where its
emails to the customer stand (the thread shows each one's delivery). Reading rather
than writing a stamp means no writer can forget to bump it, including the set-based
updates of the sweep and the matcher, and the callback's hot path stays as it is.

The stamp travels to the page and back as an opaque token; its parts say what changed,
for the line a screen reader announces. The case page reads it with the case row itself
(`with_stamp`): no extra query, and any change committed after that read is news.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case as SqlCase
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from diagnosis.cases import outbox
from diagnosis.models import (
    Case,
    Escalation,
    Event,
    EventKind,
    Message,
    OutboundEmail,
    Recipient,
    StaffNotification,
    StatusReport,
    TestMessage,
)

# What the newest event says happened, for the announcement ("Updated at 10:04: …").
_EVENT_PHRASES = {
    EventKind.CREATED: gettext_lazy("the case was opened"),
    EventKind.STATE: gettext_lazy("the case's state changed"),
    EventKind.ANSWERED: gettext_lazy("a step was answered"),
    EventKind.REVISED: gettext_lazy("an answer was changed"),
    EventKind.ASSIGNED: gettext_lazy("the case was assigned"),
    EventKind.NOTE: gettext_lazy("a note was added"),
    EventKind.CUSTOMER_MESSAGE: gettext_lazy("the customer wrote"),
    EventKind.REPLY: gettext_lazy("a reply went to the customer"),
    EventKind.WAIT_STARTED: gettext_lazy("the case started waiting for a report"),
    EventKind.WAIT_ENDED: gettext_lazy("the wait ended"),
    EventKind.ESCALATED: gettext_lazy("the case was escalated"),
    EventKind.OUTCOME: gettext_lazy("the case reached an outcome"),
    EventKind.TEST_SMS: gettext_lazy("a test SMS was sent"),
    EventKind.ERASED: gettext_lazy("the customer's personal data was erased"),
}


def _micros(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1_000_000) if moment else 0


@dataclass(frozen=True)
class CaseStamp:
    row: str
    event_at: int
    event_kind: str
    report_at: int
    escalation_at: int
    emails: int
    open: bool

    @property
    def token(self) -> str:
        return f"{self.row}.{self.event_at:x}.{self.report_at:x}.{self.escalation_at:x}.{self.emails:x}"

    def what_changed(self, since: str) -> str:
        """In plain words, what differs from the page's token (its parts, compared one by one)."""
        parts = since.split(".")
        if len(parts) != 5:  # no token, or one this page cannot have had
            return _("the case changed")
        said = []
        if parts[2] != f"{self.report_at:x}":
            said.append(_("a status report arrived"))
        if parts[1] != f"{self.event_at:x}" and self.event_kind:
            said.append(str(_EVENT_PHRASES.get(self.event_kind, _("the case changed"))))  # type: ignore[call-overload]
        if parts[3] != f"{self.escalation_at:x}":
            said.append(_("an escalation went to the provider"))
        if parts[4] != f"{self.emails:x}":
            said.append(_("an email to the customer was sent or retried"))
        # Translators: between two changes announced together.
        return pgettext("list of changes", "; ").join(said) or _("the case changed")


# The case's own columns the page shows, beyond `updated_at`: set-based updates (the sweep's
# reschedules) change some of them without touching it.
_ROW_FIELDS = (
    "state",
    "revision",
    "current_node",
    "assigned_to_id",
    "updated_at",
    "next_poll_at",
    "wait_deadline",
    "erased_at",
)


# Each email's delivery as the thread shows it (conversation.delivery: queued, retrying,
# sent, given up) as a number; their sum changes when one of them moves on.
_EMAIL_MARK = SqlCase(
    When(sent_at__isnull=False, then=Value(4)),
    When(attempts__gte=outbox.MAX_ATTEMPTS, then=Value(2)),
    When(~Q(last_error=""), then=Value(1)),
    default=Value(0),
)


def with_stamp(cases: QuerySet[Case]) -> QuerySet[Case]:
    """`cases` with what `stamp_of` reads, as subqueries of the same statement (each indexed)."""
    case_pk = OuterRef("pk")
    # Read inside the report subqueries: the case is two levels out.
    outer_case = OuterRef(OuterRef("pk"))
    msg_ids = Message.objects.filter(case_id=outer_case).values("msg_id")
    test_ids = TestMessage.objects.filter(case_id=outer_case).values("msg_id")
    numbers = Recipient.objects.filter(case_id=outer_case).values("e164")
    newest_event = Event.objects.filter(case_id=case_pk).order_by("-at", "-pk")

    def newest_report(lookup: Q) -> Subquery:
        return Subquery(
            StatusReport.objects.filter(lookup).order_by("-received_at").values("received_at")[:1]
        )

    return cases.annotate(
        live_event_at=Subquery(newest_event.values("at")[:1]),
        live_event_kind=Subquery(newest_event.values("kind")[:1]),
        live_report_by_id=newest_report(Q(msg_id__in=msg_ids)),
        live_report_by_test=newest_report(Q(msg_id__in=test_ids)),
        # Spelled out so PostgreSQL may use the partial index on numbers.
        live_report_by_number=newest_report(Q(to_number__in=numbers) & ~Q(to_number="")),
        live_escalation_at=Subquery(
            Escalation.objects.filter(case_id=case_pk, sent_at__isnull=False)
            .order_by("-sent_at")
            .values("sent_at")[:1]
        ),
        live_emails=Subquery(
            OutboundEmail.objects.filter(case_id=case_pk)
            .values("case_id")
            .annotate(mark=Sum(_EMAIL_MARK))
            .values("mark")[:1]
        ),
    )


def stamp_of(case: Case) -> CaseStamp:
    """The stamp of a case read through `with_stamp`."""
    fields = "|".join(str(getattr(case, name)) for name in _ROW_FIELDS)
    reports = [
        getattr(case, name)
        for name in ("live_report_by_id", "live_report_by_test", "live_report_by_number")
        if getattr(case, name)
    ]
    return CaseStamp(
        row=hashlib.sha256(fields.encode()).hexdigest()[:12],
        event_at=_micros(case.live_event_at),  # type: ignore[attr-defined]
        event_kind=case.live_event_kind or "",  # type: ignore[attr-defined]
        report_at=_micros(max(reports, default=None)),
        escalation_at=_micros(case.live_escalation_at),  # type: ignore[attr-defined]
        emails=case.live_emails or 0,  # type: ignore[attr-defined]
        open=case.is_open(),
    )


def case_stamp(reference: str) -> CaseStamp | None:
    """The case's change stamp in one query, or None if there is no such case."""
    case = with_stamp(Case.objects.filter(reference=reference).only(*_ROW_FIELDS)).first()
    return stamp_of(case) if case else None


def notifications_token(user_id: int) -> str:
    """The unread notifications' count and newest time, in one query on their partial index."""
    unread = StaffNotification.objects.filter(user_id=user_id, read_at__isnull=True).aggregate(
        count=Count("pk"), newest=Max("created_at")
    )
    return f"{unread['count']}.{_micros(unread['newest']):x}"

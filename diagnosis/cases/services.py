"""State transitions of a case. Each runs in one transaction, with the case row locked.

Every function takes the acting user (None for the system), checks the case's
current state under the lock, writes the change and its event together, and raises
`CaseError` with a message fit to show next to a form when it cannot proceed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from diagnosis.cases import escalations, history, outbox, readable, unseen_replies, waiting
from diagnosis.delivery import case_reports, catalogue
from diagnosis.delivery.numbers import NumberInfo
from diagnosis.guide import (
    CURRENT_VERSION,
    WAIT_DEADLINE,
    WAIT_REPORT,
    Answer,
    Guide,
    Kind,
    Node,
    Result,
    engine,
)
from diagnosis.guide import details as outcome_details
from diagnosis.guide.details import DetailsError
from diagnosis.guide.engine import GuideError
from diagnosis.models import (
    AnswerRecord,
    Case,
    CaseState,
    Escalation,
    Event,
    EventKind,
    Message,
    OutboundEmail,
    Recipient,
    StatusReport,
)


class CaseError(Exception):
    """A transition that cannot happen; the message is written for the person who tried."""


class StaleCase(CaseError):
    """Someone else changed the case first."""


# --- Opening a case -----------------------------------------------------------------


@dataclass(frozen=True)
class NewCase:
    reporter_name: str
    reporter_email: str
    numbers: Sequence[NumberInfo]
    msg_ids: Sequence[str] = ()
    sent_at: datetime | None = None
    sender: str = ""
    template_id: str = ""
    description: str = ""


def open_case(data: NewCase, *, actor: User | None = None) -> Case:
    """Create a case at the start of the current guide, with its numbers and messages."""
    if not data.numbers:
        raise CaseError(_("Give at least one recipient number."))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return _create_case(data, actor)
        except IntegrityError as exc:
            # A reference collision (one in a billion) is retried; anything else is real.
            if "reference" not in str(exc):
                raise
    raise CaseError(_("Could not allocate a case reference; please try again."))


def _create_case(data: NewCase, actor: User | None) -> Case:
    guide_start = engine.walk(_guide(), {}).current
    case = Case.objects.create(
        reporter_name=data.reporter_name,
        reporter_email=data.reporter_email,
        sent_at=data.sent_at,
        sender=data.sender,
        template_id=data.template_id,
        description=data.description,
        guide_version=CURRENT_VERSION,
        current_node=guide_start.id,
    )
    recipients = Recipient.objects.bulk_create(
        [
            Recipient(case=case, e164=n.e164, region=n.region, number_type=n.number_type, carrier=n.carrier)
            for n in {n.e164: n for n in data.numbers}.values()
        ]
    )
    only = recipients[0] if len(recipients) == 1 else None
    Message.objects.bulk_create(
        [
            Message(case=case, msg_id=m, recipient=only)
            for m in dict.fromkeys(m.strip() for m in data.msg_ids)
            if m
        ]
    )
    numbers = ", ".join(r.e164 for r in recipients)
    history.record(case, EventKind.CREATED, actor, history.CASE_OPENED.english(numbers=numbers))
    return case


def _guide() -> Guide:
    # A small indirection so a new guide version is picked up in one place.
    from diagnosis.guide import get_guide

    return get_guide(CURRENT_VERSION)


# --- Reading where a case stands ----------------------------------------------------------


def live_answers(case: Case) -> dict[str, AnswerRecord]:
    return {a.node: a for a in case.answers.filter(superseded_at__isnull=True)}


# --- Answering and revising ------------------------------------------------------------------


def answer_step(
    case_id: int,
    *,
    node: str,
    value: str,
    actor: User | None,
    evidence: str = "",
    notes: str = "",
    expected_revision: int | None = None,
) -> Case:
    """Record the answer to the case's current step and move the case along.

    1. Lock the case row, so concurrent answers queue up here.
    2. Refuse if the case moved on (another answer won) or is closed.
    3. Validate the value (and the status code, when one is given) against the step.
    4. Store the answer and its event, then settle the case on its new node.
    """
    with transaction.atomic():
        case = _locked(case_id, expected_revision)
        if case.current_node != node:
            raise StaleCase(
                _("This step was already answered; the case is now at “%(title)s”. Reload to see it.")
                % {"title": case.node.title}
            )
        step = case.guide[node]
        answer, evidence = _checked(step, value, evidence)
        _store_answer(case, step, answer.value, evidence, notes, actor)
        # The stored summary is English; the timeline translates it (history.describe).
        with translation.override("en"):
            history.record(
                case,
                EventKind.ANSWERED,
                actor,
                f"{step.ref} {step.title} → {answer.label}",
                node=node,
                value=value,
                evidence=evidence,
            )
        _settle(case, actor)
        return case


def revise_answer(
    case_id: int,
    *,
    node: str,
    value: str,
    actor: User | None,
    evidence: str = "",
    notes: str = "",
    expected_revision: int | None = None,
) -> Case:
    """Change an earlier answer. It and every later answer are superseded (kept), then the
    new answer is stored and the case settles on wherever the new path leads."""
    with transaction.atomic():
        case = _locked(case_id, expected_revision)
        live = live_answers(case)
        current = {n: a.value for n, a in live.items()}
        discarded = engine.revision(case.guide, current, node)
        step = case.guide[node]
        answer, evidence = _checked(step, value, evidence)
        now = timezone.now()
        AnswerRecord.objects.filter(pk__in=[live[n].pk for n in (node, *discarded) if n in live]).update(
            superseded_at=now
        )
        _store_answer(case, step, answer.value, evidence, notes, actor)
        # The stored summary is English; the timeline translates it (history.describe).
        with translation.override("en"):
            history.record(
                case,
                EventKind.REVISED,
                actor,
                f"{step.ref} revised to “{answer.label}”" + (_set_aside(len(discarded)) if discarded else ""),
                node=node,
                value=value,
                previous=live[node].value,
                superseded=list(discarded),
            )
        if case.state in (CaseState.RESOLVED, CaseState.ESCALATED, CaseState.CLOSED):
            case.outcome = case.cause = ""
            case.resolved_at = None
        _settle(case, actor)
        return case


def _set_aside(count: int) -> str:
    return ngettext("; %(n)d later answer set aside", "; %(n)d later answers set aside", count) % {"n": count}


def discarded_by_revision(case: Case, node: str) -> list[Node]:
    """The steps a revision of `node` would set aside, for the confirmation prompt."""
    current = {n: a.value for n, a in live_answers(case).items()}
    return [case.guide[n] for n in engine.revision(case.guide, current, node)]


# --- Waiting -------------------------------------------------------------------------------------


def resume_with_report(case_id: int, report: StatusReport | None = None) -> bool:
    """End the wait because a final report is stored; the case goes on at C3.

    Returns False (and changes nothing) when the case is no longer waiting, so a
    duplicate trigger is harmless.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if not case.is_waiting():
            return False
        found = case_reports.evidence_for(case).verdict
        if not found.final:
            return False
        _end_wait(case, WAIT_REPORT, found.code, history.REPORT_ARRIVED.english(code=found.code))
        return True


def expire_wait(case_id: int, now: datetime | None = None) -> bool:
    """Escalate a case whose 72 hours passed with no report. Exactly once.

    The state check happens on the locked row, and the escalation has a unique
    constraint per case and reason, so a second sweep (or a second worker) finds the
    case no longer waiting and does nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if not case.is_waiting() or case.wait_deadline is None or case.wait_deadline > now:
            return False
        _end_wait(case, WAIT_DEADLINE, "", gettext_noop("72 hours passed without a status report."))
        return True


def _end_wait(case: Case, how: str, evidence: str, summary: str, *, tell_customer: bool = True) -> None:
    node = case.node
    answer = node.answer(how)
    assert answer is not None  # every wait offers both endings (Guide.validate)
    _store_answer(case, node, how, evidence, "", None)
    history.record(case, EventKind.WAIT_ENDED, None, summary, node=node.id, value=how, evidence=evidence)
    _settle(case, None)
    if tell_customer:
        _tell_customer_wait_ended(case)


def _tell_customer_wait_ended(case: Case) -> None:
    """Tell the customer where the case went: a message on their tracking page and an email.

    The text is the customer text of the node the case landed on. Written in the
    transaction that ends the wait, which acts only on a case still waiting, so a
    second sweep or a repeated report sends nothing more.
    """
    # In the customer's language, whoever or whatever ended the wait.
    with translation.override(case.reader_language):
        text = str(case.node.customer_text)
    history.record(case, EventKind.REPLY, None, text[:300], text=text)
    if case.reporter_email:
        _email_customer(case, text)


# --- Assignment, notes, closing ------------------------------------------------------------------


def assign(
    case_id: int,
    *,
    assignee: User | None,
    actor: User,
    expected_assignee_id: int | None = None,
    claim: bool = False,
) -> Case:
    """Give the case to `assignee` (None: unassign). A claim only succeeds on an unassigned case."""
    with transaction.atomic():
        case = _locked(case_id, None)
        if claim and case.assigned_to_id is not None:
            if case.assigned_to_id == actor.pk:
                who = ""
            else:
                holder = case.assigned_to
                assert holder is not None  # assigned_to_id is set
                who = holder.get_full_name() or holder.get_username()
            if not who:
                raise StaleCase(_("You already claimed %(reference)s.") % {"reference": case.reference})
            raise StaleCase(
                _("%(reference)s was already claimed by %(name)s.")
                % {"reference": case.reference, "name": who}
            )
        if case.assigned_to_id == (assignee.pk if assignee else None):
            return case
        if case.unseen_message_at is not None:
            # The unseen message moves to the new assignee's count.
            unseen_replies.forget(case.assigned_to_id, assignee.pk if assignee else None)
        case.assigned_to = assignee
        _bump(case)
        name = (assignee.get_full_name() or assignee.get_username()) if assignee else "nobody"
        history.record(
            case, EventKind.ASSIGNED, actor, f"Assigned to {name}", assignee=assignee.pk if assignee else None
        )
        return case


def add_note(case_id: int, *, text: str, actor: User | None, kind: str = EventKind.NOTE) -> Event:
    text = (text or "").strip()
    if not text:
        raise CaseError(_("Write something first."))
    with transaction.atomic():
        case = _locked(case_id, None)
        event = history.record(case, kind, actor, text[:300], text=text)
        if kind == EventKind.CUSTOMER_MESSAGE:
            unseen_replies.customer_wrote(case, event.at)
        _bump(case)
        return event


class ReplyAlreadySent(CaseError):
    """The same reply form came in twice (a double click, a resubmission): it was sent once."""


class RepeatedReply(CaseError):
    """A new form with the text of a reply sent moments ago: most likely sent twice by mistake."""


# An identical reply within this window is refused; after it, sending the same words is deliberate.
REPEAT_WINDOW = timedelta(minutes=10)


def send_reply(case_id: int, *, text: str, actor: User, token: str = "") -> Event:
    """Tell the customer something: shown on their tracking page and sent by email.

    `token` is the reply form's one-time token: a second reply with it is refused
    (`ReplyAlreadySent`), under the case lock and by a unique index as a backstop.
    """
    text = (text or "").strip()
    if not text:
        raise CaseError(_("Write the reply first."))
    try:
        with transaction.atomic():
            case = _locked(case_id, None)
            _refuse_repeat(case, text, token)
            email = _email_customer(case, text)
            data: dict[str, Any] = {"text": text}
            if token:
                data["token"] = token
            if email is not None:
                data["email"] = email.pk
            event = history.record(case, EventKind.REPLY, actor, text[:300], **data)
            _bump(case)
            return event
    except IntegrityError as exc:
        if "diagnosis_event_reply_once" in str(exc):
            raise ReplyAlreadySent(_("This reply was already sent; it was not sent again.")) from exc
        raise


def _refuse_repeat(case: Case, text: str, token: str) -> None:
    """Raise if this form was sent already, or the same words went to the customer just now."""
    since = timezone.now() - REPEAT_WINDOW
    recent = Q(at__gte=since) | Q(data__token=token) if token else Q(at__gte=since)
    for at, data in case.events.filter(recent, kind=EventKind.REPLY).values_list("at", "data"):
        if token and data.get("token") == token:
            raise ReplyAlreadySent(_("This reply was already sent; it was not sent again."))
        if at >= since and data.get("text") == text:
            minutes = max(1, int((timezone.now() - at).total_seconds() // 60))
            raise RepeatedReply(
                ngettext(
                    "The customer got this same reply %(n)d minute ago. "
                    "Change it if you mean to send it again.",
                    "The customer got this same reply %(n)d minutes ago. "
                    "Change it if you mean to send it again.",
                    minutes,
                )
                % {"n": minutes}
            )


def _email_customer(case: Case, text: str) -> OutboundEmail | None:
    """The customer's copy of something said on their tracking page, queued in the caller's transaction.

    Nothing is queued once the customer's data is erased: the address is a placeholder.
    """
    if case.erased_at is not None:
        return None
    # The email around the text reads in the customer's language, as the text does.
    subject, body = outbox.render_email(
        "case_update", {"case": case, "text": text}, language=case.reader_language
    )
    return outbox.queue_email(case=case, to=case.reporter_email, subject=subject, body=body)


def close_case(case_id: int, *, actor: User) -> Case:
    with transaction.atomic():
        case = _locked(case_id, None)
        if case.state not in (CaseState.RESOLVED, CaseState.ESCALATED):
            raise CaseError(_("Only a resolved or escalated case can be closed."))
        _set_state(case, CaseState.CLOSED, actor)
        return case


def reopen_case(case_id: int, *, actor: User) -> Case:
    """Undo a close: the case goes back to the outcome it had; its answers can then be revised."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if case.state != CaseState.CLOSED:
            raise CaseError(_("Only a closed case can be reopened."))
        result = case.node.result
        _set_state(case, CaseState.ESCALATED if result is Result.ESCALATED else CaseState.RESOLVED, actor)
        return case


# --- Internals ----------------------------------------------------------------------------------


def _locked(case_id: int, expected_revision: int | None) -> Case:
    case = Case.objects.select_for_update().get(pk=case_id)
    if case.state == CaseState.CLOSED:
        raise CaseError(_("%(reference)s is closed; reopen it first.") % {"reference": case.reference})
    if expected_revision is not None and case.revision != expected_revision:
        raise StaleCase(
            _("Someone else changed this case while you were looking at it. Reload to see the latest.")
        )
    return case


def _checked(step: Node, value: str, evidence: str) -> tuple[Answer, str]:
    """The chosen answer and its status code (normalised), refused if the guide does not allow them."""
    code = catalogue.normalise_code(evidence) if step.evidence else ""
    branch = catalogue.lookup(code).branch if code else None
    return engine.check_answer(step, value, branch), code


def _store_answer(case: Case, node: Node, value: str, evidence: str, notes: str, actor: User | None) -> None:
    try:
        with transaction.atomic():
            AnswerRecord.objects.create(
                case=case,
                node=node.id,
                value=value,
                evidence=evidence,
                notes=notes.strip(),
                answered_by=actor,
            )
    except IntegrityError:
        # The partial unique index caught a concurrent answer the lock did not (defence in depth).
        raise StaleCase(_("This step was answered by someone else a moment ago. Reload to see it.")) from None


def _settle(case: Case, actor: User | None) -> None:
    """Put the case on the node its live answers lead to, with the matching state."""
    now = timezone.now()
    answers = {n: a.value for n, a in live_answers(case).items()}
    path = engine.walk(case.guide, answers)
    if path.off_path:
        case.answers.filter(node__in=path.off_path, superseded_at__isnull=True).update(superseded_at=now)
    node = path.current
    case.current_node = node.id
    if node.kind is Kind.WAIT:
        if case.state != CaseState.WAITING:
            case.waiting_since = now
            case.wait_deadline = case.wait_deadline_for(now)
            case.next_poll_at = waiting.next_poll_at(now, case.wait_deadline, now)
            _set_state(case, CaseState.WAITING, actor, save=False)
            # The stored summary is English; the timeline translates it (history.describe).
            with translation.override("en"):
                history.record(
                    case,
                    EventKind.WAIT_STARTED,
                    actor,
                    f"Waiting for a status report until {readable.time(case.wait_deadline)}",
                    deadline=case.wait_deadline.isoformat(),
                )
    else:
        case.waiting_since = case.wait_deadline = case.next_poll_at = None
        if node.kind is Kind.OUTCOME and not _awaits_details(case, node):
            _reach_outcome(case, node, actor, now)
        else:
            _set_state(case, CaseState.IN_PROGRESS if path.steps else CaseState.NEW, actor, save=False)
    _bump(case)
    found = case_reports.evidence_for(case).verdict if node.kind is Kind.WAIT else None
    if found is not None and found.final:
        # A report stored meanwhile ends the wait at once instead of at the next poll.
        # The customer never saw this wait, so there is nothing to tell them.
        _end_wait(
            case,
            WAIT_REPORT,
            found.code,
            gettext_noop("A final report is already stored; the case resumes."),
            tell_customer=False,
        )


def _awaits_details(case: Case, node: Node) -> bool:
    """An escalation outcome waits for the agent's details, unless its escalation is already open
    (reaching the same outcome again reuses it)."""
    if not node.details:
        return False
    return not Escalation.objects.filter(case=case, reason=node.cause, closed_at__isnull=True).exists()


def send_escalation(
    case_id: int,
    *,
    details: Mapping[str, object],
    actor: User,
    expected_revision: int | None = None,
) -> Case:
    """The agent gave what the case's escalation outcome asks for: reach it and send the package.

    The details are checked before anything is written (`DetailsError` names each bad one),
    so a refused submission leaves the case exactly as it was.
    """
    with transaction.atomic():
        case = _locked(case_id, expected_revision)
        node = case.node
        if not case.awaits_details:
            raise StaleCase(_("This escalation was already sent; here is where the case stands now."))
        values = outcome_details.clean(node, details, today=timezone.localdate())
        _reach_outcome(case, node, actor, timezone.now(), details=values)
        _bump(case)
        return case


def _reach_outcome(
    case: Case, node: Node, actor: User | None, now: datetime, *, details: Mapping[str, str] | None = None
) -> None:
    case.outcome, case.cause, case.resolved_at = node.id, node.cause, now
    if node.result is Result.ESCALATED:
        _set_state(case, CaseState.ESCALATED, actor, save=False)
        _open_escalation(case, node, actor, details or {})
    else:
        _set_state(case, CaseState.RESOLVED, actor, save=False)
    # The stored summary is English; the timeline translates it (history.describe).
    with translation.override("en"):
        history.record(
            case, EventKind.OUTCOME, actor, f"Outcome: {node.title}", outcome=node.id, result=str(node.result)
        )


def _open_escalation(case: Case, node: Node, actor: User | None, details: Mapping[str, str]) -> Escalation:
    """One open escalation per case and reason; reaching the same outcome again reuses it."""
    existing = Escalation.objects.filter(case=case, reason=node.cause, closed_at__isnull=True).first()
    if existing is not None:
        return existing
    escalation = Escalation.objects.create(
        case=case, reason=node.cause, package=escalation_package(case, node, details), opened_by=actor
    )
    escalations.send_to_customer_service(escalation, node)
    # The stored summary is English; the timeline translates it (history.describe).
    with translation.override("en"):
        history.record(
            case,
            EventKind.ESCALATED,
            actor,
            f"Escalated to the provider: {node.title}",
            escalation=escalation.pk,
            reason=node.cause,
            # The outcome lets the timeline name it in the reader's language (history.describe).
            outcome=node.id,
        )
    return escalation


def escalation_package(
    case: Case, outcome: Node | None = None, details: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Everything the provider's customer service needs, as plain JSON.

    Times are ISO 8601 and values as stored: the readable text is made from this when shown
    (`escalations.readable`). `details` are what the outcome asked of the agent, in its order.
    """
    answers = case.answers.filter(superseded_at__isnull=True).select_related("answered_by")
    guide = case.guide
    reports = case_reports.for_case(case)
    return {
        "case": case.reference,
        "numbers": list(case.recipients.values_list("e164", flat=True)),
        "message_ids": list(case.messages.values_list("msg_id", flat=True)),
        "sent_at": case.sent_at.isoformat() if case.sent_at else None,
        "sender": case.sender,
        "template_id": case.template_id,
        "reports": [
            {
                "message_id": r.msg_id,
                "matched_by": matched_by,
                "part": f"{r.sequence}/{r.total}",
                "to": r.to_number,
                "status": r.status,
                "channel": r.channel,
                "source": r.origin,
                "updated_at": r.updated_at.isoformat() if r.updated_at else None,
                "received_at": r.received_at.isoformat(),
            }
            for matched_by, found in (("message id", reports.own), ("number", reports.by_number))
            for r in reversed(found)
        ],
        "checks": [
            {
                "step": guide[a.node].ref,
                "question": guide[a.node].title,
                "answer": getattr(guide[a.node].answer(a.value), "label", a.value),
                "evidence": a.evidence,
                "notes": a.notes,
                "by": (a.answered_by.get_full_name() or a.answered_by.get_username())
                if a.answered_by
                else "the portal",
                "at": a.answered_at.isoformat(),
            }
            for a in answers
        ],
        "notes": list(case.events.filter(kind=EventKind.NOTE).values_list("data__text", flat=True)),
        "details": [
            {"name": d.name, "label": d.label, "kind": str(d.kind), "value": (details or {})[d.name]}
            for d in (outcome.details if outcome else ())
            if (details or {}).get(d.name)
        ],
    }


def _set_state(case: Case, state: str, actor: User | None, *, save: bool = True) -> None:
    if case.state == state:
        return
    previous = case.state
    case.state = state
    # The retention rule and tracking links count from the close; a reopen clears it.
    case.closed_at = timezone.now() if state == CaseState.CLOSED else None
    # The stored summary is English; the timeline translates it (history.describe).
    with translation.override("en"):
        history.record(
            case,
            EventKind.STATE,
            actor,
            f"{CaseState(previous).label} → {CaseState(state).label}",
            previous=previous,
            state=state,
        )
    if save:
        _bump(case)


def _bump(case: Case) -> None:
    case.revision += 1
    case.save()


__all__ = [
    "CaseError",
    "DetailsError",
    "GuideError",
    "NewCase",
    "RepeatedReply",
    "ReplyAlreadySent",
    "StaleCase",
    "add_note",
    "answer_step",
    "assign",
    "close_case",
    "discarded_by_revision",
    "expire_wait",
    "live_answers",
    "open_case",
    "reopen_case",
    "resume_with_report",
    "revise_answer",
    "send_escalation",
    "send_reply",
]

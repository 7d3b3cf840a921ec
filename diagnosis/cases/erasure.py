"""Erasing a customer's personal data, on request or by the retention rule.

Personal data is replaced by placeholders; the case itself stays, so the leads' trends
and exports still count it. What stays: state, outcome and cause, answers (not their
notes), status codes and times, message ids, and each number's country, type and
carrier. What goes: the customer's name and email, the numbers (in the case, its
history, its escalation packages and the status reports that carry them), every free
text that may quote the customer (description, customer messages, replies, notes,
answer notes, customer service's answer), the screenshot (its file too) and every email
stored for the case. The erasure is written to the case's history without any of it.

One case is erased once: the case row is locked and `erased_at` checked first, so a
second run (a retried task, a second beat, the command run twice) changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from diagnosis.cases import history
from diagnosis.models import (
    REFERENCE_PATTERN,
    AnswerRecord,
    Case,
    Escalation,
    Event,
    EventKind,
    Message,
    OutboundEmail,
    Recipient,
    StatusReport,
    TestMessage,
)

logger = logging.getLogger(__name__)

ERASED_TEXT = "[erased]"
ERASED_NAME = "[erased]"
# A reserved top-level domain (RFC 2606): nothing can ever be delivered there.
ERASED_EMAIL = "erased@erased.invalid"
# A number on a report that is not one of the case's own numbers.
ERASED_NUMBER = "erased"

# Why an erasure happened, as the history records it.
BY_REQUEST = "at the customer's request"
BY_RETENTION = "retention rule"
# (The timeline words each reason in the reader's language: history._erased.)

# Keys of free text in event data and escalation packages: replaced whole, never searched.
FREE_TEXT_KEYS = frozenset({"text", "notes", "provider_answer"})
# Event kinds whose summary is the free text itself.
TEXT_EVENTS = frozenset({EventKind.NOTE, EventKind.CUSTOMER_MESSAGE, EventKind.REPLY})

_REFERENCE_RE = re.compile(f"^{REFERENCE_PATTERN}$")


class ErasureError(Exception):
    """Nothing to erase for what was asked; the message says why."""


def placeholder_number(recipient: Recipient) -> str:
    """What stands in for a recipient's number: unique per recipient, so a status report
    masked with it still belongs to this case alone (trends count its final status)."""
    text = f"erased-{recipient.pk}"
    return text if len(text) <= 16 else f"erased-{recipient.pk:x}"


def cases_for(target: str) -> list[Case]:
    """The case with this reference, or every case filed with this email address.

    Raises ErasureError when there is none; an erased case keeps its reference but not
    its email, so only a reference finds it again.
    """
    target = target.strip()
    if _REFERENCE_RE.match(target.upper()):
        found = list(Case.objects.filter(reference=target.upper()))
        if not found:
            raise ErasureError(f"No case has the reference {target.upper()}.")
        return found
    if "@" not in target:
        raise ErasureError(f"{target!r} is neither a case reference (SMS-XXXXXX) nor an email address.")
    found = list(Case.objects.filter(reporter_email__iexact=target).order_by("pk"))
    if not found:
        raise ErasureError(
            f"No case has the email address {target}. Cases already erased are found by reference only."
        )
    return found


@dataclass(frozen=True)
class Outcome:
    reference: str
    erased: bool  # False: it had been erased before, nothing changed


def erase_customer(target: str, *, actor: User | None, reason: str = BY_REQUEST) -> list[Outcome]:
    """Erase every case of an email address (or the one case of a reference), all or none.

    One transaction for all of them: a failure on one case leaves every case as it was.
    Emails not tied to a case but sent to the address (the "find my ticket" links) go too.
    """
    with transaction.atomic():
        cases = cases_for(target)
        addresses = {c.reporter_email.lower() for c in cases if c.erased_at is None}
        done = [Outcome(c.reference, erase_case(c.pk, actor=actor, reason=reason)) for c in cases]
        for address in addresses:
            OutboundEmail.objects.filter(case__isnull=True, to__iexact=address).delete()
        return done


def erase_case(case_id: int, *, actor: User | None, reason: str) -> bool:
    """Replace the case's personal data by placeholders; False if it was erased already.

    1. Lock the case row and check `erased_at`: concurrent or repeated erasures queue
       here, and only the first one does anything.
    2. Mask the status reports first, while the case's real numbers are still known.
    3. Replace what identifies the customer in every row of the case, redact its history
       (`Event.redact`), delete its emails, and record the erasure.
    4. Delete the screenshot's file only once the transaction has committed, so a rollback
       never leaves a case pointing at a file that is gone.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if case.erased_at is not None:
            return False
        recipients = list(case.recipients.order_by("pk"))
        placeholders = {r.e164: placeholder_number(r) for r in recipients}
        replacements = _replacements(case, placeholders)
        reports = _mask_reports(case, placeholders)
        for recipient in recipients:
            Recipient.objects.filter(pk=recipient.pk).update(e164=placeholders[recipient.e164])
        AnswerRecord.objects.filter(case=case).exclude(notes="").update(notes=ERASED_TEXT)
        for escalation in Escalation.objects.filter(case=case):
            escalation.package = _scrub(escalation.package, replacements)
            if escalation.provider_answer:
                escalation.provider_answer = ERASED_TEXT
            escalation.save(update_fields=["package", "provider_answer"])
        for event in Event.objects.filter(case=case).exclude(kind=EventKind.ERASED):
            summary, data = _redacted(event, replacements)
            if (summary, data) != (event.summary, event.data):
                event.redact(summary, data)
        emails, _ = OutboundEmail.objects.filter(case=case).delete()
        screenshot = case.screenshot.name
        if screenshot:
            storage = case.screenshot.storage
            transaction.on_commit(lambda: _delete_file(storage, screenshot))
        case.reporter_name = ERASED_NAME
        case.reporter_email = ERASED_EMAIL
        if case.description:
            case.description = ERASED_TEXT
        case.screenshot = ""  # the field then names no file
        case.erased_at = timezone.now()
        case.revision += 1  # a form opened before the erasure cannot write old text back
        case.save()
        history.record(
            case,
            EventKind.ERASED,
            actor,
            f"Personal data erased ({reason})",
            reason=reason,
            screenshot=bool(screenshot),
            emails_deleted=emails,
            reports_masked=reports,
        )
        return True


def _replacements(case: Case, placeholders: Mapping[str, str]) -> dict[str, str]:
    """Exact strings to replace in structured text (summaries, packages), longest first.

    The name is left out: no structured text carries it, and a short name ("Al") would
    be replaced inside unrelated words. Free text, where it can appear, is replaced whole.
    """
    found = {**placeholders}
    if case.reporter_email:
        found[case.reporter_email] = ERASED_EMAIL
    return dict(sorted(found.items(), key=lambda item: -len(item[0])))


def _scrub(value: Any, replacements: Mapping[str, str], key: str = "") -> Any:
    """`value` (JSON) with free text replaced whole and known personal strings replaced inside."""
    if key in FREE_TEXT_KEYS:
        if isinstance(value, str):
            return ERASED_TEXT if value else value
        if isinstance(value, list):
            return [ERASED_TEXT if item else item for item in value]
    if isinstance(value, dict):
        return {k: _scrub(v, replacements, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item, replacements) for item in value]
    if isinstance(value, str):
        for secret, placeholder in replacements.items():
            value = value.replace(secret, placeholder)
    return value


def _redacted(event: Event, replacements: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    data = _scrub(event.data, replacements) if isinstance(event.data, dict) else {}
    if event.kind in TEXT_EVENTS:
        return ERASED_TEXT, data
    return _scrub(event.summary, replacements)[:300], data


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _mask_reports(case: Case, placeholders: Mapping[str, str]) -> int:
    """Mask the number in the status reports of the case's numbers and messages; how many changed.

    Status codes, times and message ids stay. A number that another case (not erased) still
    names is left in its reports: they are that case's evidence, and it is erased with that case.
    """
    numbers = set(placeholders)
    shared = set(
        Recipient.objects.filter(e164__in=numbers, case__erased_at__isnull=True)
        .exclude(case=case)
        .values_list("e164", flat=True)
    )
    maskable = {n: p for n, p in placeholders.items() if n not in shared}
    own = [
        *Message.objects.filter(case=case).values_list("msg_id", flat=True),
        *TestMessage.objects.filter(case=case).values_list("msg_id", flat=True),
    ]
    reports = StatusReport.objects.filter(Q(to_number__in=list(maskable)) | Q(msg_id__in=own))
    changed = []
    for report in reports.only("pk", "to_number", "raw"):
        number = report.to_number
        if number in shared:
            continue
        masked = maskable.get(number, ERASED_NUMBER if number else "")
        raw = _mask_raw(report.raw, maskable, masked)
        if (masked, raw) != (report.to_number, report.raw):
            report.to_number, report.raw = masked, raw
            changed.append(report)
    StatusReport.objects.bulk_update(changed, ["to_number", "raw"], batch_size=500)
    return len(changed)


def _mask_raw(raw: Any, maskable: Mapping[str, str], masked: str) -> Any:
    """The payload as received, with the number masked wherever it appears as a value.

    A callback carries it as `to`; a Send Details row under its own header, written as
    the console wrote it (spaces, trunk prefix), so values are compared by their digits.
    """
    if not isinstance(raw, dict):
        return raw
    wanted = {_digits(n): p for n, p in maskable.items()}
    result = {}
    for key, value in raw.items():
        if key == "to" and value not in (None, ""):
            value = masked or ERASED_NUMBER
        elif isinstance(value, str | int) and (found := _number_in(str(value), wanted)):
            value = found
        result[key] = value
    return result


def _number_in(value: str, wanted: Mapping[str, str]) -> str | None:
    digits = _digits(value).lstrip("0")
    if len(digits) < 6 or len(digits) < len(value.strip()) - 6:
        return None  # too short for a number, or mostly not digits (a message id, a time)
    return next((p for full, p in wanted.items() if full.endswith(digits)), None)


def _delete_file(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        # The row no longer names it, so nothing will try again: say so loudly.
        logger.exception("Could not delete the erased screenshot %s; remove it by hand", name)


def delete_case(case_id: int, *, actor: User | None) -> None:
    """Remove a case and every row of it, for a superuser in the admin (a spam or test ticket).

    The case is erased first, so its numbers leave the status reports (which are not
    the case's rows) and its screenshot file goes. Its events go with it: the one way an
    event is ever deleted. The admin's own log keeps who deleted which reference.
    """
    with transaction.atomic():
        erase_case(case_id, actor=actor, reason="before deleting the case")
        Case.objects.filter(pk=case_id).delete()

"""Outgoing email through the outbox table (see `OutboundEmail`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from diagnosis.models import Case, Escalation, OutboundEmail
from portal.periodic import once_per_slot
from portal.publish import publish_on_commit

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
# The claim on an email lasts this many SMTP timeouts (see `claim_lease`).
LEASE_TIMEOUTS = 15


def render_email(name: str, context: Mapping[str, object], *, language: str) -> tuple[str, str]:
    """Subject and body of the email `name`: templates/emails/<name>_subject.txt and <name>.txt.

    Both are rendered in `language` (a code from settings.LANGUAGES): its translations
    and its date formats. Both are plain text with autoescaping switched off in the
    template. The subject is one line; the body ends with exactly one newline, whatever
    the template file's last line.
    """
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = "".join(render_to_string(f"emails/{name}_subject.txt", dict(context)).splitlines())
        body = render_to_string(f"emails/{name}.txt", dict(context)).rstrip("\n") + "\n"
    return subject.strip(), body


def queue_email(
    *, to: str, subject: str, body: str, case: Case | None = None, escalation: Escalation | None = None
) -> OutboundEmail:
    """Write the email in the caller's transaction and ask a worker to send it after commit.

    The row is the email: if the broker cannot take the task, `deliver_pending` sends it.
    """
    email = OutboundEmail.objects.create(
        case=case, escalation=escalation, to=to, subject=subject[:200], body=body
    )
    publish_on_commit(deliver_email_task, email.pk)
    return email


def claim_lease() -> timedelta:
    """How long a sender holds an email it claimed.

    One send is about a dozen network operations (connect to each resolved address,
    EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT), each allowed EMAIL_TIMEOUT; the
    lease outlasts them all, so a live sender is never overtaken by another.
    """
    return timedelta(seconds=settings.EMAIL_TIMEOUT * LEASE_TIMEOUTS)


def _claim(pk: int) -> OutboundEmail | None:
    """Take the email for one send attempt, or None if it is sent, given up or held by another sender.

    One conditional UPDATE: concurrent senders cannot both change the row (PostgreSQL
    re-checks the condition once the row lock is released; SQLite serialises writers).
    """
    now = timezone.now()
    claimed = OutboundEmail.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=pk,
        sent_at__isnull=True,
        attempts__lt=MAX_ATTEMPTS,
    ).update(claimed_until=now + claim_lease(), attempts=F("attempts") + 1)
    if claimed != 1:
        return None
    return OutboundEmail.objects.filter(pk=pk).first()


def deliver(pk: int) -> bool:
    """Send one pending email; True if this call sent it.

    1. Claim the row with a lease (`claimed_until`); if another sender holds it, or it
       was sent or given up, do nothing. The immediate task and the periodic resend
       can therefore race without sending twice.
    2. Send, then stamp `sent_at` and release the claim.
    3. On failure record the error and release the claim at once, so the periodic
       resend retries it (up to MAX_ATTEMPTS).

    At-least-once: a sender that dies after the SMTP server accepted the message but
    before stamping it leaves the row claimed; once the lease runs out the next resend
    sends it again. A message may repeat in that case, but is never lost.
    """
    email = _claim(pk)
    if email is None:
        return False
    try:
        send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to])
    except Exception as exc:  # SMTP and network errors vary by backend
        logger.warning("Email %s to %s failed: %s", pk, email.to, exc)
        OutboundEmail.objects.filter(pk=pk).update(last_error=str(exc)[:1000], claimed_until=None)
        return False
    now = timezone.now()
    OutboundEmail.objects.filter(pk=pk, sent_at__isnull=True).update(
        sent_at=now, last_error="", claimed_until=None
    )
    if email.escalation_id:
        Escalation.objects.filter(pk=email.escalation_id, sent_at__isnull=True).update(
            sent_at=now, sent_to=email.to
        )
    return True


def deliver_pending(limit: int = 100) -> int:
    """Retry what is still unsent; returns how many went out.

    That is lost task messages, failed attempts and senders that died (their lease ran
    out); a row a live sender holds is left to it.
    """
    pending = (
        OutboundEmail.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now()))
        .values_list("pk", flat=True)
    )
    return sum(deliver(pk) for pk in list(pending[:limit]))


# --- Tasks ------------------------------------------------------------------------------------


@shared_task(name="diagnosis.deliver_email", ignore_result=True)
def deliver_email_task(pk: int) -> None:
    deliver(pk)


@shared_task(name="diagnosis.deliver_pending_emails", ignore_result=True)
@once_per_slot("deliver-pending-emails")
def deliver_pending_task() -> None:
    """Beat, every minute: emails whose own task was lost or failed."""
    deliver_pending()

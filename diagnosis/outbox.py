"""Outgoing email through the outbox table (see `OutboundEmail`)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from diagnosis.models import Case, Escalation, OutboundEmail
from portal.publish import publish_on_commit

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def queue_email(
    *, to: str, subject: str, body: str, case: Case | None = None, escalation: Escalation | None = None
) -> OutboundEmail:
    """Write the email in the caller's transaction and ask a worker to send it after commit.

    The row is the email: if the broker cannot take the task, `deliver_pending` sends it.
    """
    email = OutboundEmail.objects.create(
        case=case, escalation=escalation, to=to, subject=subject[:200], body=body
    )
    from diagnosis import tasks

    publish_on_commit(tasks.deliver_email, email.pk)
    return email


def deliver(pk: int) -> bool:
    """Send one pending email; True if this call sent it.

    1. Skip it if it was already sent (a repeated task does nothing).
    2. Send, then stamp `sent_at`: at-least-once, never lost.
    3. On failure record the error; the periodic sweep retries up to MAX_ATTEMPTS.
    """
    email = OutboundEmail.objects.filter(pk=pk, sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS).first()
    if email is None:
        return False
    OutboundEmail.objects.filter(pk=pk).update(attempts=F("attempts") + 1)
    try:
        send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to])
    except Exception as exc:  # SMTP and network errors vary by backend
        logger.warning("Email %s to %s failed: %s", pk, email.to, exc)
        OutboundEmail.objects.filter(pk=pk).update(last_error=str(exc)[:1000])
        return False
    now = timezone.now()
    OutboundEmail.objects.filter(pk=pk).update(sent_at=now, last_error="")
    if email.escalation_id:
        Escalation.objects.filter(pk=email.escalation_id, sent_at__isnull=True).update(
            sent_at=now, sent_to=email.to
        )
    return True


def deliver_pending(limit: int = 100) -> int:
    """Retry what is still unsent (lost task messages, failed attempts); returns how many went out."""
    pending = OutboundEmail.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS).values_list(
        "pk", flat=True
    )
    return sum(deliver(pk) for pk in list(pending[:limit]))

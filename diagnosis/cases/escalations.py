"""Escalations to the SMS provider's customer service: the email, and recording the answer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from diagnosis.cases import history, outbox, readable
from diagnosis.models import Escalation, EventKind

if TYPE_CHECKING:
    from diagnosis.guide import Node


def send_to_customer_service(escalation: Escalation, node: Node) -> None:
    """Queue the escalation email in the caller's transaction (sent at least once, after commit)."""
    package = escalation.package
    # Always in English (settings.LANGUAGE_CODE), whatever the customer's or the agent's
    # language: the provider's customer service reads English.
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "case": escalation.case,
            "title": str(node.title),
            "package": readable.package(package),
            # The same data for the receiver's tools, after the readable text.
            "package_json": json.dumps(package, indent=2, ensure_ascii=False),
        }
    subject, body = outbox.render_email("escalation", context, language=settings.LANGUAGE_CODE)
    outbox.queue_email(
        case=escalation.case,
        escalation=escalation,
        to=settings.CUSTOMER_SERVICE_EMAIL,
        subject=subject,
        body=body,
    )


def record_answer(escalation_id: int, *, reference: str, answer: str, close: bool, actor: User) -> Escalation:
    """Customer service replied: keep their reference and answer, and close the escalation if done."""
    with transaction.atomic():
        escalation = Escalation.objects.select_for_update().select_related("case").get(pk=escalation_id)
        escalation.provider_reference = reference.strip()[:100]
        escalation.provider_answer = answer.strip()
        if close and escalation.closed_at is None:
            escalation.closed_at = timezone.now()
        escalation.save()
        # Stored as the English msgid: the timeline translates it when it shows it.
        summary = (
            gettext_noop("Customer service answered and the escalation was closed")
            if close
            else gettext_noop("Customer service answered")
        )
        history.record(
            escalation.case,
            EventKind.ESCALATED,
            actor,
            summary,
            escalation=escalation.pk,
            reference=reference,
        )
        return escalation

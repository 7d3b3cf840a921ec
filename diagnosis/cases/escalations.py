"""Escalations to the SMS provider's customer service: the email, and recording the answer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from diagnosis.cases import history, outbox
from diagnosis.models import Escalation, EventKind

if TYPE_CHECKING:
    from diagnosis.guide import Node


def render_package(escalation: Escalation, title: str) -> str:
    """The package as a readable email body, with the same data as JSON at the end."""
    p = escalation.package
    lines = [
        "Hello,",
        "",
        f"We need your help with SMS delivery case {p.get('case')}: {title}.",
        "",
        f"Recipient numbers: {', '.join(p.get('numbers') or []) or 'none'}",
        f"Message ids (smsMsgId): {', '.join(p.get('message_ids') or []) or 'none'}",
        f"Send time: {p.get('sent_at') or 'unknown'}",
        f"Sender / channel: {p.get('sender') or 'not given'}",
        f"Template id: {p.get('template_id') or 'not given'}",
        "",
        "Status reports seen:",
        *(
            [
                f"  - {r['status']} via {r['channel']} (update time {r['updated_at'] or 'none'})"
                for r in p.get("reports", [])
            ]
            or ["  none"]
        ),
        "",
        "Checks done:",
        *[_check_line(c) for c in p.get("checks", [])],
        "",
        "Agent notes:",
        *([f"  - {n}" for n in p.get("notes", []) if n] or ["  none"]),
        "",
        "Please reply with your reference for this request.",
        "",
        "--- machine-readable copy ---",
        json.dumps(p, indent=2, ensure_ascii=False),
    ]
    return "\n".join(lines) + "\n"


def _check_line(check: dict[str, str]) -> str:
    line = f"  - {check['step']} {check['question']} -> {check['answer']}"
    if check.get("evidence"):
        line += f" [{check['evidence']}]"
    line += f" (by {check['by']} at {check['at']})"
    if check.get("notes"):
        line += f"; note: {check['notes']}"
    return line


def send_to_customer_service(escalation: Escalation, node: Node) -> None:
    """Queue the escalation email in the caller's transaction (sent at least once, after commit)."""
    outbox.queue_email(
        case=escalation.case,
        escalation=escalation,
        to=settings.CUSTOMER_SERVICE_EMAIL,
        subject=f"[{escalation.case.reference}] SMS delivery escalation: {node.title}",
        body=render_package(escalation, node.title),
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
        summary = "Customer service answered" + (" and the escalation was closed" if close else "")
        history.record(
            escalation.case,
            EventKind.ESCALATED,
            actor,
            summary,
            escalation=escalation.pk,
            reference=reference,
        )
        return escalation

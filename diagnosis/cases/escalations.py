"""Escalations to the SMS provider's customer service: the email, and recording the answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import formats, timezone

from diagnosis.cases import history, outbox
from diagnosis.guide import DetailKind
from diagnosis.models import Escalation, EventKind, ReportChannel, ReportOrigin

if TYPE_CHECKING:
    from diagnosis.guide import Node


def send_to_customer_service(escalation: Escalation, node: Node) -> None:
    """Queue the escalation email in the caller's transaction (sent at least once, after commit)."""
    package = escalation.package
    context = {
        "case": escalation.case,
        "title": node.title,
        "package": readable(package),
        # The same data for the receiver's tools, after the readable text.
        "package_json": json.dumps(package, indent=2, ensure_ascii=False),
    }
    subject, body = outbox.render_email("escalation", context)
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


def readable(package: Mapping[str, Any]) -> dict[str, Any]:
    """The package as people read it: times in the portal's format and time zone, labels for
    stored codes. The stored package (and the email's machine-readable copy) keeps ISO times."""
    return {
        **package,
        "sent_at": _when(package.get("sent_at")),
        "reports": [
            {
                **report,
                "channel": _label(ReportChannel, report.get("channel")),
                "source": _label(ReportOrigin, report.get("source")),
                "updated_at": _when(report.get("updated_at")),
                "received_at": _when(report.get("received_at")),
            }
            for report in package.get("reports", [])
        ],
        "checks": [{**check, "at": _when(check.get("at"))} for check in package.get("checks", [])],
        "details": [
            {
                **detail,
                "value": _day(detail["value"]) if detail.get("kind") == DetailKind.DATE else detail["value"],
            }
            for detail in package.get("details", [])
        ],
    }


def _when(value: object) -> str | None:
    """An ISO time as the portal's pages show times, with the zone's abbreviation (an email has
    no page around it to say which zone); anything unreadable as it was."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(moment):
        return formats.date_format(moment, "DATETIME_FORMAT")
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


def _day(value: str) -> str:
    try:
        return formats.date_format(date.fromisoformat(value), "DATE_FORMAT")
    except ValueError:
        return value


def _label(choices: Any, value: object) -> str:
    """A stored choice by its label; a value the portal does not know, as stored."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)

"""Waiting cases written straight to the database, for sweep and outage tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from diagnosis.models import AnswerRecord, Case, CaseState, Message, Recipient


def bulk_waiting(count: int, deadline: datetime) -> list[int]:
    """Many waiting cases past their deadline, written in bulk."""
    cases = Case.objects.bulk_create(
        [
            Case(
                reporter_name="Bulk",
                reporter_email="bulk@example.com",
                state=CaseState.WAITING,
                current_node="wait_phone_off",
                waiting_since=deadline - timedelta(hours=73),
                wait_deadline=deadline,
                next_poll_at=deadline,
            )
            for _ in range(count)
        ]
    )
    Recipient.objects.bulk_create([Recipient(case=c, e164="+4915123456789") for c in cases])
    Message.objects.bulk_create([Message(case=c, msg_id=f"bulk-{c.pk}") for c in cases])
    AnswerRecord.objects.bulk_create(
        [
            AnswerRecord(case=c, node=n, value=v)
            for c in cases
            for n, v in (("report_returned", "no_report"), ("dial_recipient", "yes"))
        ]
    )
    return [c.pk for c in cases]

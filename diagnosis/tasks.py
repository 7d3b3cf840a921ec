"""Celery tasks: thin wrappers that take ids and call domain code."""

from __future__ import annotations

from celery import shared_task

from diagnosis import delivery, outbox, sweep, trends
from portal.periodic import once_per_slot

# Beat-scheduled tasks take their slot first (portal.periodic), so a second beat
# publishing the same entries does no doubled work. The domain functions stay unlocked.


@shared_task(name="diagnosis.deliver_email", ignore_result=True)
def deliver_email(pk: int) -> None:
    outbox.deliver(pk)


@shared_task(name="diagnosis.deliver_pending_emails", ignore_result=True)
@once_per_slot("deliver-pending-emails")
def deliver_pending_emails() -> None:
    outbox.deliver_pending()


@shared_task(name="diagnosis.match_reports", ignore_result=True)
def match_reports(msg_ids: list[str], numbers: list[str]) -> None:
    """Resume waiting cases that stored reports concern (after a callback or import)."""
    delivery.reports_arrived(msg_ids, numbers)


@shared_task(name="diagnosis.sweep_waiting_cases", ignore_result=True)
@once_per_slot("waiting-sweep")
def sweep_waiting_cases() -> None:
    sweep.sweep()


@shared_task(name="diagnosis.refresh_trends", ignore_result=True)
@once_per_slot("refresh-trends")
def refresh_trends() -> None:
    trends.refresh_cached_reports()

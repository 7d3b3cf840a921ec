"""Celery tasks: thin wrappers that take ids and call domain code."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

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
def match_reports(msg_ids: list[str], numbers: list[str], keys: list[str] | None = None) -> None:
    """Resume waiting cases that stored reports concern (after a callback), and mark them matched."""
    # `keys` is absent from tasks queued before reports were marked; the catch-up marks those.
    delivery.match_reports(msg_ids, numbers, keys or ())


@shared_task(name="diagnosis.match_unmatched_reports", ignore_result=True)
@once_per_slot("match-unmatched-reports")
def match_unmatched_reports() -> None:
    """Beat, every minute: reports whose own matching task was never queued or was lost."""
    delivery.match_unmatched(grace=timedelta(seconds=settings.DIAGNOSIS_MATCH_GRACE_SECONDS))


@shared_task(name="diagnosis.sweep_waiting_cases", ignore_result=True)
@once_per_slot("waiting-sweep")
def sweep_waiting_cases() -> None:
    sweep.sweep()


@shared_task(name="diagnosis.refresh_trends", ignore_result=True)
@once_per_slot("refresh-trends")
def refresh_trends() -> None:
    trends.refresh_cached_reports()

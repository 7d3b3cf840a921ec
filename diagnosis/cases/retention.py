"""Retention: how long personal data is kept, applied by beat once an hour.

- Cases closed for more than PERSONAL_DATA_RETENTION_DAYS are erased (`erasure.erase_case`),
  exactly as a customer's request would; the anonymised case stays for the trends.
- Rejected callback bodies older than REJECTED_PAYLOAD_RETENTION_DAYS are deleted.
- Emails sent more than SENT_EMAIL_RETENTION_DAYS ago are deleted; an email not yet sent
  is never touched, whatever its age.

Every part is safe to run twice at once (two beats, a retried task): cases are claimed in
batches with SELECT ... FOR UPDATE SKIP LOCKED and erased once each (`erased_at`), and
deleting what is already deleted does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from diagnosis.cases import erasure, outbox
from diagnosis.models import Case, CaseState, OutboundEmail, RejectedPayload
from portal.periodic import once_per_slot

logger = logging.getLogger(__name__)


@dataclass
class RetentionResult:
    erased_cases: int = 0
    failed_cases: int = 0
    rejected_payloads: int = 0
    sent_emails: int = 0


def erase_due(now: datetime) -> QuerySet[Case]:
    """Closed cases past the retention period and not erased yet (index diagnosis_case_erase_due)."""
    cutoff = now - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
    return Case.objects.filter(state=CaseState.CLOSED, erased_at__isnull=True, closed_at__lte=cutoff)


def apply_retention(
    *, now: datetime | None = None, batch_size: int = 50, max_batches: int = 1000
) -> RetentionResult:
    """Apply every retention rule once.

    1. Claim a batch of due cases with SKIP LOCKED, so concurrent runs take disjoint
       batches; erase each in its own savepoint, so one failing case is logged and
       left for the next run instead of stopping the rest; commit; next batch.
    2. Delete old rejected bodies and old sent emails, a batch at a time.
    """
    now = now or timezone.now()
    result = RetentionResult()
    failed: set[int] = set()
    for _ in range(max_batches):
        with transaction.atomic():
            ids = list(
                erase_due(now)
                .exclude(pk__in=failed)
                .order_by("closed_at", "pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            for case_id in ids:
                try:
                    with transaction.atomic():
                        erased = erasure.erase_case(case_id, actor=None, reason=erasure.BY_RETENTION)
                except Exception:
                    logger.exception("Retention could not erase case %s; trying again next run", case_id)
                    failed.add(case_id)
                    result.failed_cases += 1
                else:
                    result.erased_cases += erased
        if len(ids) < batch_size:
            break
    rejected_cutoff = now - timedelta(days=settings.REJECTED_PAYLOAD_RETENTION_DAYS)
    old_rejected = RejectedPayload.objects.filter(received_at__lt=rejected_cutoff)
    result.rejected_payloads = _delete_in_batches(old_rejected)
    email_cutoff = now - timedelta(days=settings.SENT_EMAIL_RETENTION_DAYS)
    # Sent, or given up after its last attempt: an email still to be tried is never deleted.
    done = Q(sent_at__isnull=False, sent_at__lt=email_cutoff) | Q(
        sent_at__isnull=True, attempts__gte=outbox.MAX_ATTEMPTS, created_at__lt=email_cutoff
    )
    result.sent_emails = _delete_in_batches(OutboundEmail.objects.filter(done))
    return result


def _delete_in_batches(rows: QuerySet[Model], batch_size: int = 1000) -> int:
    """Delete the rows a batch at a time, so no single statement holds locks for long."""
    deleted = 0
    while pks := list(rows.values_list("pk", flat=True)[:batch_size]):
        count, _ = rows.model._default_manager.filter(pk__in=pks).delete()
        if not count:
            break
        deleted += count
    return deleted


# Beat takes the slot first (portal.periodic): a second beat's copy does no doubled work.
@shared_task(name="diagnosis.apply_retention", ignore_result=True)
@once_per_slot("apply-retention")
def apply_retention_task() -> None:
    result = apply_retention()
    logger.info("Retention applied: %s", result)

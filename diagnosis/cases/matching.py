"""Matching stored reports to waiting cases: exactly when it can, at least once in any case.

A report that arrives for a waiting case resumes it at once (`reports_arrived`). Callbacks
leave the matching to a worker after commit; anything whose matching never ran (the
broker was down, a worker lost the task) is picked up by beat's `match_unmatched`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone

from diagnosis.cases import services
from diagnosis.cases.notifications import tell_assignee
from diagnosis.delivery import ingest, signals
from diagnosis.models import Case, CaseState, Message, Recipient, StatusReport
from portal.periodic import once_per_slot
from portal.publish import publish_on_commit

logger = logging.getLogger(__name__)


def waiting_cases_for(msg_ids: Sequence[str], numbers: Sequence[str]) -> list[int]:
    # Ids first, then one indexed lookup: an OR of two subqueries would scan every case.
    ids = set(Message.objects.filter(msg_id__in=msg_ids).values_list("case_id", flat=True))
    if numbers:
        ids.update(Recipient.objects.filter(e164__in=numbers).values_list("case_id", flat=True))
    if not ids:
        return []
    return list(
        Case.objects.filter(pk__in=ids, state=CaseState.WAITING).order_by("pk").values_list("pk", flat=True)
    )


def reports_arrived(msg_ids: Sequence[str], numbers: Sequence[str] = ()) -> list[int]:
    """Resume every waiting case these reports concern, at once; returns the resumed case ids.

    Callers mark the reports matched afterwards (`match_reports`), so that a report
    whose matching never ran is found by `match_unmatched`.
    """
    resumed = []
    for case_id in waiting_cases_for(msg_ids, numbers):
        if services.resume_with_report(case_id):
            resumed.append(case_id)
            tell_assignee(case_id)
    return resumed


# --- Matching stored reports, exactly when it can, at least once in any case ---------------


def match_reports(msg_ids: Sequence[str], numbers: Sequence[str], keys: Sequence[str]) -> list[int]:
    """Resume the waiting cases these reports concern, then mark the reports (`keys`) matched.

    Marked after matching: a crash in between leaves them to `match_unmatched`, and
    matching twice is harmless (`reports_arrived` only resumes cases still waiting).
    """
    resumed = reports_arrived(msg_ids, numbers)
    mark_matched(keys)
    return resumed


def match_stored(result: ingest.StoreResult) -> list[int]:
    """Match just-stored reports now, in the caller's process (an agent's manual entry)."""
    return match_reports(result.msg_ids, result.numbers, result.keys)


def match_after_commit(result: ingest.StoreResult) -> None:
    """Have a worker match just-stored reports once they are committed (callbacks).

    If the broker cannot take the task, the reports stay unmatched and the periodic
    `match_unmatched` picks them up, so the caller's answer never depends on the broker.
    """
    publish_on_commit(match_reports_task, list(result.msg_ids), list(result.numbers), list(result.keys))


@receiver(signals.reports_received)
def _match_received(sender: object, result: ingest.StoreResult, **kwargs: object) -> None:
    match_after_commit(result)


def resume_for_reports(reports: Sequence[StatusReport]) -> list[int]:
    """`match_reports` for a batch of stored reports (Send Details imports)."""
    return match_reports(
        sorted({r.msg_id for r in reports}),
        sorted({r.to_number for r in reports if r.to_number}),
        [r.dedupe_key for r in reports],
    )


def mark_matched(keys: Sequence[str]) -> None:
    now = timezone.now()
    # Send Details batches can be large: more keys than SQLite takes in one query.
    for chunk in ingest.key_chunks(list(keys)):
        StatusReport.objects.filter(dedupe_key__in=chunk, matched_at__isnull=True).update(matched_at=now)


def match_unmatched(*, grace: timedelta, batch_size: int = 500, max_batches: int = 20) -> int:
    """Match the reports whose own matching never ran; returns how many were matched.

    Their task could not be queued (broker down) or was lost with a worker. Reports
    younger than `grace` are left to the task that is probably still queued for them.
    Oldest first, in bounded batches, so a long outage's backlog is worked off over a
    few runs rather than in one unbounded query.
    """
    cutoff = timezone.now() - grace
    matched = 0
    for _ in range(max_batches):
        rows = list(
            StatusReport.objects.filter(matched_at__isnull=True, received_at__lte=cutoff)
            .order_by("received_at")
            .values_list("pk", "msg_id", "to_number")[:batch_size]
        )
        if not rows:
            break
        reports_arrived(sorted({msg_id for _, msg_id, _ in rows}), sorted({to for _, _, to in rows if to}))
        StatusReport.objects.filter(pk__in=[pk for pk, _, _ in rows], matched_at__isnull=True).update(
            matched_at=timezone.now()
        )
        matched += len(rows)
        if len(rows) < batch_size:
            break
    if matched:
        logger.info("Matched %s status reports whose matching had not run", matched)
    return matched


# --- Tasks ------------------------------------------------------------------------------------
# Task names are the ones queued by earlier versions, so messages already in the broker still run.


@shared_task(name="diagnosis.match_reports", ignore_result=True)
def match_reports_task(msg_ids: list[str], numbers: list[str], keys: list[str] | None = None) -> None:
    """Resume waiting cases that stored reports concern (after a callback), and mark them matched."""
    # `keys` is absent from tasks queued before reports were marked; the catch-up marks those.
    match_reports(msg_ids, numbers, keys or ())


@shared_task(name="diagnosis.match_unmatched_reports", ignore_result=True)
@once_per_slot("match-unmatched-reports")
def match_unmatched_task() -> None:
    """Beat, every minute: reports whose own matching task was never queued or was lost."""
    match_unmatched(grace=timedelta(seconds=settings.DIAGNOSIS_MATCH_GRACE_SECONDS))

"""Matching stored reports to waiting cases: every report at least once, every case resumed once.

A report that arrives for a waiting case resumes it (`reports_arrived`). Callbacks only
store their reports, unmatched; beat's `match_unmatched` matches them in sets every few
seconds (`DIAGNOSIS_MATCH_SECONDS`), so neither the callback nor its answer depends on the
broker. Agents' manual entries and Send Details imports match their own reports at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from diagnosis.cases import services
from diagnosis.cases.notifications import tell_assignee
from diagnosis.delivery import ingest
from diagnosis.models import Case, CaseState, Message, Recipient, StatusReport
from portal.periodic import once_per_slot

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

    Callers mark the reports matched afterwards (`match_reports`, `match_unmatched`), so
    that a report whose matching did not finish is matched again.
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


def match_unmatched(*, batch_size: int = 500, max_batches: int = 20) -> int:
    """Match the stored reports still unmatched, oldest first, in sets; returns how many.

    Each set is one transaction: its reports are read and locked (`SKIP LOCKED`: a second
    run takes the next set rather than waiting for or repeating this one), the cases they
    concern are resumed, and the reports marked. A crash in between rolls the marks back
    with the resumes, so the next run matches them again; a case two sets concern is
    resumed by whichever locks it first (`resume_with_report` checks it on the locked row).
    Bounded per run, so a long backlog is worked off over a few runs.
    """
    matched = 0
    for _ in range(max_batches):
        count = _match_set(batch_size)
        matched += count
        if count < batch_size:
            break
    if matched:
        logger.info("Matched %s status reports", matched)
    return matched


def _match_set(size: int) -> int:
    with transaction.atomic():
        rows = list(
            StatusReport.objects.filter(matched_at__isnull=True)
            .order_by("received_at")  # the partial index `diagnosis_report_unmatched`
            .select_for_update(skip_locked=True)
            .values_list("pk", "msg_id", "to_number")[:size]
        )
        if not rows:
            return 0
        msg_ids, numbers = sorted({m for _, m, _ in rows}), sorted({to for _, _, to in rows if to})
        for case_id in waiting_cases_for(msg_ids, numbers):
            _resume_alone(case_id)
        StatusReport.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(matched_at=timezone.now())
    return len(rows)


def _resume_alone(case_id: int) -> None:
    """`reports_arrived` for one case of a set, in a savepoint of its own.

    One case that cannot be resumed must not hold back every report behind it: its
    failure is logged, and the waiting sweep, which resumes a case whose final report
    is stored, tries it again.
    """
    try:
        with transaction.atomic():
            if services.resume_with_report(case_id):
                tell_assignee(case_id)
    except Exception:
        logger.exception("Case %s could not be resumed from its report; the sweep retries it", case_id)


# --- Tasks ------------------------------------------------------------------------------------
# Task names are the ones queued by earlier versions, so messages already in the broker still run.


@shared_task(name="diagnosis.match_reports", ignore_result=True)
def match_reports_task(msg_ids: list[str], numbers: list[str], keys: list[str] | None = None) -> None:
    """Callbacks no longer queue this; kept so tasks queued before the upgrade still run."""
    # `keys` is absent from tasks queued before reports were marked; the catch-up marks those.
    match_reports(msg_ids, numbers, keys or ())


@shared_task(name="diagnosis.match_unmatched_reports", ignore_result=True)
@once_per_slot("match-unmatched-reports")
def match_unmatched_task() -> None:
    """Beat, every `DIAGNOSIS_MATCH_SECONDS`: match the reports stored since the last run."""
    match_unmatched()

"""The waiting sweep: re-poll due cases, resume those with a report, escalate the overdue.

Beat runs `diagnosis.sweep_waiting_cases` every DIAGNOSIS_SWEEP_SECONDS. The
database is the source of truth (`Case.next_poll_at`, `Case.wait_deadline`), so a
sweep after days of downtime simply finds everything overdue and catches up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from diagnosis.cases import notifications, reschedule, services, waiting
from diagnosis.delivery import case_reports, fetchers
from diagnosis.models import Case, CaseState
from portal.periodic import once_per_slot

logger = logging.getLogger(__name__)
RETRY_AFTER_FAILURE = timedelta(minutes=5)
# What the batch needs of each case: its schedule and what its send window is computed from.
_BATCH_FIELDS = ("id", "state", "waiting_since", "wait_deadline", "next_poll_at", "sent_at", "created_at")


@dataclass
class SweepResult:
    examined: int = 0
    resumed: int = 0
    escalated: int = 0
    rescheduled: int = 0
    failed: int = 0

    def add(self, other: SweepResult) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def due(now: datetime) -> Q:
    return Q(state=CaseState.WAITING) & (
        Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True) | Q(wait_deadline__lte=now)
    )


def sweep(*, now: datetime | None = None, batch_size: int = 100, max_batches: int = 10_000) -> SweepResult:
    """Handle every due waiting case once.

    1. Claim a batch of due cases with SELECT ... FOR UPDATE SKIP LOCKED: concurrent
       sweeps take disjoint batches and never handle the same case twice.
    2. Handle the batch in sets (`_handle_batch`); should that fail, handle each case
       in its own savepoint, so one bad case is logged and retried later instead of
       stopping the sweep.
    3. Commit the batch and take the next, until nothing is due. A worker that dies
       mid-batch rolls its batch back; the cases stay due for the next sweep.
    """
    result = SweepResult()
    known = case_reports.KnownCodes()  # the catalogue rows met so far, for every batch of this sweep
    for phase in _PHASES:
        after: tuple[datetime | None, int] | None = None
        for _ in range(max_batches):
            now_for_batch = now or timezone.now()
            with transaction.atomic():
                cases = _claim(phase, now_for_batch, batch_size, after)
                if not cases:
                    break
                try:
                    with transaction.atomic():
                        result.add(_handle_batch(cases, now_for_batch, known))
                except Exception:
                    logger.exception(
                        "Waiting sweep failed on a batch of %s cases; handling them one by one", len(cases)
                    )
                    for case in cases:
                        _handle(case.pk, now_for_batch, result)
            if len(cases) < batch_size:
                break
            last = cases[-1]
            after = (getattr(last, _ORDER_FIELD[phase]), last.pk)
    return result


# What is due, each part claimed in the order of its own index (see `_claim`).
_DEADLINE_PASSED, _NO_NEXT_CHECK, _NEXT_CHECK_DUE = "deadline passed", "no next check", "next check due"
_PHASES = (_DEADLINE_PASSED, _NO_NEXT_CHECK, _NEXT_CHECK_DUE)
_ORDER_FIELD = {
    _DEADLINE_PASSED: "wait_deadline",
    _NO_NEXT_CHECK: "next_poll_at",
    _NEXT_CHECK_DUE: "next_poll_at",
}


def _claim(
    phase: str, now: datetime, batch_size: int, after: tuple[datetime | None, int] | None
) -> list[Case]:
    """Lock the next batch of one part of what is due, skipping cases another sweep holds.

    Together the parts are `due(now)`. Each is read in the order of an index that holds
    only waiting cases, with a condition that index can answer, so an empty part costs
    nothing. Each batch continues after the previous one (`after`: its last sort key and
    id): starting over would step through the index entries of every case just
    rescheduled, so each batch would cost more than the one before, and would meet again
    an overdue case that failed and stays due (it is retried by a later sweep).
    """
    field = _ORDER_FIELD[phase]
    cases = Case.objects.filter(state=CaseState.WAITING)
    if phase == _DEADLINE_PASSED:
        cases = cases.filter(wait_deadline__lte=now)
    elif phase == _NO_NEXT_CHECK:
        cases = cases.filter(next_poll_at__isnull=True)
    else:
        cases = cases.filter(next_poll_at__lte=now)
    if after is not None:
        value, pk = after
        if value is None:
            cases = cases.filter(pk__gt=pk)
        else:
            cases = cases.filter(**{f"{field}__gte": value}).exclude(**{field: value, "pk__lte": pk})
    # Locking the cases only; their message ids, numbers and tests come along (PostgreSQL).
    cases = cases.order_by(field, "pk").select_for_update(skip_locked=True, of=("self",)).only(*_BATCH_FIELDS)
    return list(case_reports.with_report_keys(cases)[:batch_size])


def _handle_batch(
    cases: list[Case], now: datetime, known: case_reports.KnownCodes | None = None
) -> SweepResult:
    """The batch in a constant number of statements; only resumes and escalations go case by case.

    Most due cases have no final report and are not overdue: they are only rescheduled,
    all in one UPDATE. The rare case to resume or escalate takes the per-case path
    (`_handle`), whose transitions write events, emails and escalations.
    """
    result = SweepResult()
    if fetchers.configured():
        # Decided once per batch: without fetchers there is nothing to ask.
        for case in cases:
            fetchers.poll(case)
    final = case_reports.with_final_evidence(cases, known)
    schedule: dict[int, datetime | None] = {}
    for case in cases:
        overdue = case.wait_deadline is not None and case.wait_deadline <= now
        if overdue or case.pk in final:
            _handle(case.pk, now, result, poll=False)
            continue
        next_poll = waiting.next_poll_at(case.waiting_since or now, case.wait_deadline or now, now)
        schedule[case.pk] = next_poll or case.wait_deadline
    reschedule.next_polls(schedule)
    result.examined += len(schedule)
    result.rescheduled += len(schedule)
    return result


def _handle(case_id: int, now: datetime, result: SweepResult, *, poll: bool = True) -> None:
    result.examined += 1
    try:
        with transaction.atomic():
            case = Case.objects.get(pk=case_id)
            if poll:
                fetchers.poll(case)
            if services.resume_with_report(case_id):
                result.resumed += 1
                notifications.tell_assignee(case_id)
            elif services.expire_wait(case_id, now=now):
                result.escalated += 1
            else:
                next_poll = waiting.next_poll_at(case.waiting_since or now, case.wait_deadline or now, now)
                Case.objects.filter(pk=case_id, state=CaseState.WAITING).update(
                    next_poll_at=next_poll or case.wait_deadline
                )
                result.rescheduled += 1
    except Exception:
        logger.exception("Waiting sweep failed on case %s; retrying later", case_id)
        result.failed += 1
        Case.objects.filter(pk=case_id, state=CaseState.WAITING).update(
            next_poll_at=now + RETRY_AFTER_FAILURE
        )


# Beat takes the slot first (portal.periodic): a second beat publishing the same entry does no doubled work.
@shared_task(name="diagnosis.sweep_waiting_cases", ignore_result=True)
@once_per_slot("waiting-sweep")
def sweep_task() -> None:
    sweep()

"""Delivery status sources and what happens when a report arrives.

The platform has no API to ask for a message's status; reports are pushed or read
on the console. "Asking again" therefore means asking every configured source what
it knows now. The portal's own store (callbacks, imports, agents' entries) is always
consulted; a deployment can add sources through `DIAGNOSIS_STATUS_SOURCES` (dotted
paths to classes implementing `DeliverySource`) without touching the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from diagnosis import ingest, services
from diagnosis.models import (
    Case,
    CaseState,
    Message,
    Recipient,
    StaffNotification,
    StaffPreference,
    StatusReport,
)
from portal.publish import publish_on_commit

logger = logging.getLogger(__name__)


class DeliverySource(Protocol):
    """Something that may know delivery statuses the portal has not stored yet."""

    name: str

    def fetch(
        self, msg_ids: Sequence[str], numbers: Sequence[str], since: datetime | None
    ) -> Iterable[StatusReport]:
        """Reports for these message ids / numbers (unsaved; the caller stores them once each)."""
        ...


@cache
def extra_sources() -> tuple[DeliverySource, ...]:
    return tuple(import_string(path)() for path in getattr(settings, "DIAGNOSIS_STATUS_SOURCES", ()))


def known_reports(msg_ids: Sequence[str], numbers: Sequence[str]) -> list[StatusReport]:
    """What the portal's own store knows now about these message ids and numbers."""
    return list(
        StatusReport.objects.filter(Q(msg_id__in=msg_ids) | Q(to_number__in=numbers)).order_by("received_at")
    )


def poll(case: Case) -> int:
    """Ask the extra sources about the case's messages; returns how many new reports were stored."""
    sources = extra_sources()
    if not sources:
        return 0
    # Test messages too: their reports fill the case's test panel.
    msg_ids = [
        *case.messages.values_list("msg_id", flat=True),
        *case.test_messages.values_list("msg_id", flat=True),
    ]
    numbers = list(case.recipients.values_list("e164", flat=True))
    stored = 0
    for source in sources:
        try:
            # Left unmatched: the sweep resumes this case itself, `match_unmatched` any other they concern.
            stored += ingest.store(source.fetch(msg_ids, numbers, case.waiting_since)).stored
        except Exception:
            # One failing source must not stop the others or the sweep.
            logger.exception("Delivery source %s failed for case %s", source.name, case.reference)
    return stored


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
    from diagnosis import tasks

    publish_on_commit(tasks.match_reports, list(result.msg_ids), list(result.numbers), list(result.keys))


def resume_for_reports(reports: Sequence[StatusReport]) -> list[int]:
    """`match_reports` for a batch of stored reports (Send Details imports)."""
    return match_reports(
        sorted({r.msg_id for r in reports}),
        sorted({r.to_number for r in reports if r.to_number}),
        [r.dedupe_key for r in reports],
    )


def mark_matched(keys: Sequence[str]) -> None:
    keys = list(keys)
    now = timezone.now()
    # Chunked for SQLite's parameter limit, as Send Details batches can be large.
    size = connection.features.max_query_params or len(keys) or 1
    for start in range(0, len(keys), size):
        chunk = keys[start : start + size]
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


def tell_assignee(case_id: int) -> None:
    """A portal notification for the assigned agent, and an email if they asked for one."""
    case = Case.objects.select_related("assigned_to").get(pk=case_id)
    agent = case.assigned_to
    if agent is None:
        return
    text = f"{case.reference} resumed: a status report arrived."
    StaffNotification.objects.create(user=agent, case=case, text=text)
    wants_email = StaffPreference.objects.filter(user=agent, email_when_case_resumes=True).exists()
    if wants_email and agent.email:
        from diagnosis import outbox

        outbox.queue_email(
            case=case,
            to=agent.email,
            subject=text,
            body=f"{text}\n\nOpen the case: {settings.PORTAL_BASE_URL}/cases/{case.reference}/\n",
        )

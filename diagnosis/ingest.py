"""Turning status reports from any channel into stored `StatusReport` rows, once each.

Callbacks, Send Details imports, agents' manual entries and extra delivery sources
all come through here, so a report means the same whatever way it arrived.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from diagnosis import numbers
from diagnosis.models import ReportChannel, ReportOrigin, StatusReport

MAX_MSG_ID = 64
MAX_STATUS = 32
UPDATE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class ReportError(ValueError):
    """A report the portal cannot accept; the message says which field and why."""


@dataclass(frozen=True)
class StoreResult:
    received: int
    stored: int
    msg_ids: tuple[str, ...]
    numbers: tuple[str, ...]
    # Every received report's dedupe key, stored now or before: what matching marks as done.
    keys: tuple[str, ...] = ()

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


def _small_int(data: Mapping[str, object], field: str) -> int:
    raw = str(data.get(field) or "1").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 99:
        raise ReportError(f"{field} must be a whole number from 1 to 99, got {raw!r}")
    return int(raw)


def parse_update_time(raw: object) -> datetime | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, UPDATE_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ReportError(f"updateTime must look like 2024-05-01T08:00:05Z, got {text[:40]!r}") from None


def build_report(
    data: Mapping[str, object], channel: str, *, received_at: datetime | None = None
) -> StatusReport:
    """Validate one report as the platform sends it (field names as in the callback)."""
    msg_id = str(data.get("smsMsgId") or "").strip()
    status = str(data.get("status") or "").strip().upper()
    if not msg_id:
        raise ReportError("smsMsgId is missing")
    if len(msg_id) > MAX_MSG_ID:
        raise ReportError(f"smsMsgId is longer than {MAX_MSG_ID} characters")
    if not status:
        raise ReportError("status is missing")
    if len(status) > MAX_STATUS:
        raise ReportError(f"status is longer than {MAX_STATUS} characters")
    total, sequence = _small_int(data, "total"), _small_int(data, "sequence")
    if sequence > total:
        raise ReportError(f"sequence {sequence} is larger than total {total}")
    origin = str(data.get("source") or "").strip()
    if origin and origin not in ReportOrigin.values:
        raise ReportError(f"source must be 1, 2 or 3, got {origin[:10]!r}")
    to_raw = str(data.get("to") or "").strip()
    try:
        to_number = numbers.normalise(to_raw).e164 if to_raw else ""
    except numbers.InvalidNumber:
        to_number = ""  # kept in the raw payload; a masked or odd number must not lose the report
    report = StatusReport(
        msg_id=msg_id,
        status=status,
        status_desc=str(data.get("statusDesc") or "")[:500],
        total=total,
        sequence=sequence,
        origin=origin,
        updated_at=parse_update_time(data.get("updateTime")),
        extend=str(data.get("extend") or "")[:128],
        to_number=to_number,
        org_code=str(data.get("orgCode") or "")[:32],
        channel=channel,
        raw={str(k): v for k, v in data.items()},
        received_at=received_at or timezone.now(),
    )
    report.dedupe_key = StatusReport.make_dedupe_key(msg_id, sequence, status, report.updated_at)
    return report


def store(reports: Iterable[StatusReport]) -> StoreResult:
    """Insert the reports that are new; a redelivered report is acknowledged, not stored twice.

    Duplicates are found by the unique `dedupe_key`; `ignore_conflicts` makes two
    concurrent deliveries of the same report safe without locking.
    """
    batch = {r.dedupe_key: r for r in reports}
    received = len(batch)
    # No savepoint of its own: callers that already hold a transaction (the callback) save two statements.
    with transaction.atomic(savepoint=False):
        existing = set(StatusReport.objects.filter(dedupe_key__in=batch).values_list("dedupe_key", flat=True))
        fresh = [r for key, r in batch.items() if key not in existing]
        StatusReport.objects.bulk_create(fresh, ignore_conflicts=True)
    return StoreResult(
        received=received,
        stored=len(fresh),
        msg_ids=tuple(sorted({r.msg_id for r in batch.values()})),
        numbers=tuple(sorted({r.to_number for r in batch.values() if r.to_number})),
        keys=tuple(sorted(batch)),
    )


def record_manual(msg_id: str, status: str, *, update_time: datetime | None = None) -> StoreResult:
    """A status an agent read on the console's Send Details page."""
    data = {"smsMsgId": msg_id, "status": status}
    report = build_report(data, ReportChannel.MANUAL)
    if update_time:
        report.updated_at = update_time
        report.dedupe_key = StatusReport.make_dedupe_key(report.msg_id, 1, report.status, update_time)
    return store([report])

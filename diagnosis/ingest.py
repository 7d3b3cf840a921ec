"""Turning status reports from any channel into stored `StatusReport` rows, once each.

Callbacks, Send Details imports, agents' manual entries and extra delivery sources
all come through here, so a report means the same whatever way it arrived.

This is also the one place where report data is made safe to store: PostgreSQL text
cannot hold NUL, jsonb cannot hold \\u0000, NaN or Infinity, and neither can hold a
lone surrogate (which JSON escapes and undecodable bytes both produce). Meaningful
fields holding such characters are refused; anything else is escaped and kept.
"""

from __future__ import annotations

import json
import math
import re
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
# Deeper extra fields are summarised: no report needs them, and they cost stack to walk and encode.
MAX_RAW_DEPTH = 20
# Longer integers are kept as their digits: reading them back as numbers hits Python's 4300-digit limit.
MAX_INT_DIGITS = 100
_LARGEST_INT = 10**MAX_INT_DIGITS
# NUL and the other control characters (tab, newline and CR read fine), and every surrogate code point.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


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


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as the "surrogateescape" decoder left it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean_text(text: str) -> str:
    """`text` as PostgreSQL can store it and people can read it: unsafe characters as backslash escapes.

    NULs and other control characters become `\\x00`-style escapes, undecodable bytes `\\xff`, and
    lone surrogates `\\ud800`; everything else, tab and newline included, is left as it is.
    """
    return _UNSAFE.sub(_escape, text)


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # beyond Python's digit limit for int-to-text conversion
        return f"<an integer of {value.bit_length()} bits>"


def clean_json(value: object, depth: int = 0) -> object:
    """`value` as jsonb can store it and Python can read back: safe text, finite numbers, bounded depth."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int):
        return value if -_LARGEST_INT < value < _LARGEST_INT else _int_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE[str(value)]
    if isinstance(value, Mapping | list | tuple):
        if depth >= MAX_RAW_DEPTH:
            return f"<nested deeper than {MAX_RAW_DEPTH} levels>"
        if isinstance(value, Mapping):
            return {_key(k): clean_json(v, depth + 1) for k, v in value.items()}
        return [clean_json(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return clean_text(value.decode("utf-8", "surrogateescape"))
    return clean_text(str(value))


def _key(key: object) -> str:
    return clean_text(key) if isinstance(key, str) else str(clean_json(key, MAX_RAW_DEPTH))


def _as_text(value: object) -> str:
    """A free-text field as storable text, whatever JSON type the sender used for it."""
    if value is None:
        return ""
    cleaned = clean_json(value)
    return cleaned if isinstance(cleaned, str) else json.dumps(cleaned, ensure_ascii=False)


def _field(data: Mapping[str, object], field: str) -> str:
    """A meaningful field as text: it must be a string (or a whole number) of printable characters.

    These fields identify the report and decide the diagnosis, so garbage in them is refused,
    never escaped into something that looks like a real message id or status code.
    """
    value = data.get(field)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ReportError(f"{field} must be a string, got {_type_name(value)}")
    text = value.strip() if isinstance(value, str) else _int_text(value)
    if not text.isprintable():
        raise ReportError(f"{field} holds control characters or bytes that are not text: {text[:40]!r}")
    return text


def _type_name(value: object) -> str:
    if isinstance(value, Mapping):
        return "an object"
    return "a list" if isinstance(value, list | tuple) else f"a {type(value).__name__}"


def _small_int(data: Mapping[str, object], field: str) -> int:
    raw = _field(data, field) or "1"
    # isdigit() alone lets through "²" and 5,000-digit strings, which int() refuses.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4) or not 1 <= int(raw) <= 99:
        raise ReportError(f"{field} must be a whole number from 1 to 99, got {raw[:20]!r}")
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
    msg_id = _field(data, "smsMsgId")
    status = _field(data, "status").upper()
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
    origin = _field(data, "source")
    if origin and origin not in ReportOrigin.values:
        raise ReportError(f"source must be 1, 2 or 3, got {origin[:10]!r}")
    to_raw = _as_text(data.get("to")).strip()
    try:
        to_number = numbers.normalise(to_raw).e164 if to_raw else ""
    except numbers.InvalidNumber:
        to_number = ""  # kept in the raw payload; a masked or odd number must not lose the report
    report = StatusReport(
        msg_id=msg_id,
        status=status,
        status_desc=_as_text(data.get("statusDesc"))[:500],
        total=total,
        sequence=sequence,
        origin=origin,
        updated_at=parse_update_time(_field(data, "updateTime")),
        extend=_as_text(data.get("extend"))[:128],
        to_number=to_number,
        org_code=_as_text(data.get("orgCode"))[:32],
        channel=channel,
        raw={_key(k): clean_json(v, 1) for k, v in data.items()},
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

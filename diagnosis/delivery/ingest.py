"""Turning status reports from any channel into stored `StatusReport` rows, once each.

Callbacks, Send Details imports, agents' manual entries and report fetchers all come
through here, so a report means the same whatever way it arrived.

This is also the one place where report data is made safe to store: PostgreSQL text
cannot hold NUL, jsonb cannot hold \\u0000, NaN or Infinity, and neither can hold a
lone surrogate (which JSON escapes and undecodable bytes both produce). Meaningful
fields holding such characters are refused; anything else is escaped and kept.

Reports are read liberally, since the platform does not send a report twice: only a
report without a usable message id or status is refused. An odd `source` is kept as
sent, part numbers that do not add up are kept and flagged (`parts_inconsistent`), and
an update time that cannot be read leaves `updated_at` empty (the raw payload keeps it).
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_offset
from functools import lru_cache
from typing import cast

from django.db import connection, transaction
from django.utils import timezone

from diagnosis.delivery import insert_new, numbers
from diagnosis.models import ReportChannel, StatusReport

# Casts: these are CharFields, whose max_length is always set (the stubs allow None for any field).
MAX_MSG_ID = cast(int, StatusReport._meta.get_field("msg_id").max_length)
MAX_STATUS = cast(int, StatusReport._meta.get_field("status").max_length)
MAX_DESCRIPTION = StatusReport._meta.get_field("status_desc").max_length
MAX_ORIGIN = StatusReport._meta.get_field("origin").max_length
# The largest part number a report row holds (a PostgreSQL smallint).
MAX_PART = 32767
# Date, "T" or spaces, time with optional seconds and fraction, then an optional zone.
_TIME = re.compile(
    r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:T\s*|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
# Seconds (10 digits) or milliseconds (13 digits) since 1970, a fraction allowed.
_EPOCH = re.compile(r"\d{10}(?:\.\d+)?|\d{13}")
# Epoch values are only believed between these (seconds): 2000-01-01 and 2100-01-01 UTC.
_EPOCH_RANGE = (946_684_800, 4_102_444_800)
# Deeper extra fields are summarised: no report needs them, and they cost stack to walk and encode.
MAX_RAW_DEPTH = 20
# Longer integers are kept as their digits: reading them back as numbers hits Python's 4300-digit limit.
MAX_INT_DIGITS = 100
_LARGEST_INT = 10**MAX_INT_DIGITS
# NUL and the other control characters (tab, newline and CR read fine), and every surrogate code point.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


class Problem(enum.Enum):
    """What is wrong with a field that decides whether a report can be used."""

    MISSING = "missing"
    TOO_LONG = "too long"
    NOT_TEXT = "not text"


class ReportError(ValueError):
    """A report the portal cannot accept; the message says which field and why.

    `field` (the platform's name for it), `problem` and `value` say the same to readers
    that word it their own way: the Send Details import speaks of its columns.
    """

    def __init__(
        self, message: str, *, field: str = "", problem: Problem | None = None, value: str = ""
    ) -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem
        self.value = value


@dataclass(frozen=True)
class StoreResult:
    # The reports inserted now (with their primary keys where the database returns them).
    new: tuple[StatusReport, ...]
    msg_ids: tuple[str, ...]
    numbers: tuple[str, ...]
    # Every received report's dedupe key, stored now or before: what matching marks as done.
    keys: tuple[str, ...] = ()

    @property
    def stored(self) -> int:
        return len(self.new)


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
    if text.isprintable():  # the usual case, checked in C: every unsafe character is non-printable
        return text
    return _UNSAFE.sub(_escape, text)


def _int_text(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # beyond Python's digit limit for int-to-text conversion
        return f"<an integer of {value.bit_length()} bits>"


def clean_json(value: object, depth: int = 0) -> object:
    """`value` as jsonb can store it and Python can read back: safe text, finite numbers, bounded depth."""
    kind = type(value)
    # The usual values first, by exact type (subclasses take the general way below): a batch has hundreds.
    if kind is str:
        text = cast(str, value)
        return text if text.isprintable() else _UNSAFE.sub(_escape, text)
    if kind is int:
        number = cast(int, value)
        return number if -_LARGEST_INT < number < _LARGEST_INT else _int_text(number)
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
    if type(key) is str and key.isprintable():  # the usual key, without a call more
        return key
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
        raise ReportError(
            f"{field} must be a string, got {_type_name(value)}", field=field, problem=Problem.NOT_TEXT
        )
    text = value.strip() if isinstance(value, str) else _int_text(value)
    if not text.isprintable():
        raise ReportError(
            f"{field} holds control characters or bytes that are not text: {text[:40]!r}",
            field=field,
            problem=Problem.NOT_TEXT,
            value=clean_text(text),
        )
    return text


def _require(field: str, text: str, limit: int) -> None:
    """A field without which the report cannot be used: present and short enough to store."""
    if not text:
        raise ReportError(f"{field} is missing", field=field, problem=Problem.MISSING)
    if len(text) > limit:
        raise ReportError(
            f"{field} is longer than {limit} characters", field=field, problem=Problem.TOO_LONG, value=text
        )


def _type_name(value: object) -> str:
    if isinstance(value, Mapping):
        return "an object"
    return "a list" if isinstance(value, list | tuple) else f"a {type(value).__name__}"


def _part(data: Mapping[str, object], field: str) -> int | None:
    """`total` or `sequence` as a number (1 when absent), or None when it is not a whole number."""
    value = data.get(field)
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 5:  # as usually sent
        whole = int(value)
        return whole if whole <= MAX_PART else None
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    if isinstance(value, str):
        text = value.strip()
        # isdigit() alone lets through "²" and 5,000-digit strings, which int() refuses.
        number = int(text) if text.isascii() and text.isdigit() and len(text) <= 5 else None
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        return None
    return number if number is not None and 0 <= number <= MAX_PART else None


def parse_time(value: object, zone: tzinfo = UTC) -> datetime | None:
    """A report time as an aware UTC datetime; None when empty; ValueError when it is not a time.

    Read liberally, since a report is never sent again:

    - `2024-05-01T08:00:05Z` as documented, with `T`, a space or both between date and time,
      `-` or `/` in the date, seconds optional;
    - a fraction of a second (`.123`, `,123456`; digits past microseconds are dropped);
    - `Z`, `UTC`, `GMT` or an offset `+08:00`, `+0800`, `+08`; no zone means `zone`
      (UTC for callbacks, whose times are documented as UTC);
    - seconds (10 digits, a fraction allowed) or milliseconds (13 digits) since 1970,
      as a number or as text, between the years 2000 and 2100.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if abs(value) > _EPOCH_RANGE[1] * 1000 or not math.isfinite(value):  # before float(): huge ints
            raise ValueError(value)
        return _from_epoch(float(value))
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip()
    if not text:
        return None
    return _read_time(text, zone)


@lru_cache(maxsize=1024)
def _read_time(text: str, zone: tzinfo) -> datetime:
    """`parse_time` of a text time. Cached: a batch's reports often share their update time."""
    if _EPOCH.fullmatch(text):
        return _from_epoch(float(text))
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
            tzinfo=zone if offset is None else _offset(offset.upper()),
        )
        return moment.astimezone(UTC)
    except OverflowError:  # an offset that moves the year out of range
        raise ValueError(text) from None


def _from_epoch(number: float) -> datetime:
    seconds = number / 1000 if number >= 1e11 else number
    if not _EPOCH_RANGE[0] <= seconds <= _EPOCH_RANGE[1]:
        raise ValueError(number)
    return datetime.fromtimestamp(seconds, UTC)


@lru_cache(maxsize=64)
def _offset(text: str) -> tzinfo:
    if text in ("Z", "UTC", "GMT"):
        return UTC
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return fixed_offset(-delta if text[0] == "-" else delta)  # ValueError past 24 hours


def _update_time(data: Mapping[str, object], zone: tzinfo) -> tuple[datetime | None, str]:
    """The report's update time, and its text when it is present but cannot be read."""
    value = data.get("updateTime")
    try:
        return parse_time(value, zone), ""
    except ValueError:
        return None, _as_text(value)


@lru_cache(maxsize=4096)
def _e164(text: str) -> str:
    """`to` as E.164, or "" when it cannot be a number. Cached: batches name the same numbers often."""
    try:
        return numbers.normalise(text).e164
    except numbers.InvalidNumber:
        return ""  # kept in the raw payload; a masked or impossible number must not lose the report


def _origin(data: Mapping[str, object]) -> str:
    """`source` as sent (cut to fit): values the portal does not know yet are kept, not refused."""
    return _as_text(data.get("source")).strip()[:MAX_ORIGIN]


def build_report(
    data: Mapping[str, object],
    channel: str,
    *,
    received_at: datetime | None = None,
    zone: tzinfo = UTC,
    raw: Mapping[str, object] | None = None,
) -> StatusReport:
    """Read one report as the platform sends it (field names as in the callback).

    `zone` is the one times without a zone are read in; `raw` is what was received when
    `data` is a reading of it (an imported row keeps its own columns), else `data` itself.

    Raises `ReportError` only when the report cannot be used at all: no message id or
    status, or one that is not plain text or too long to store.
    """
    msg_id = _field(data, "smsMsgId")
    status = _field(data, "status").upper()
    _require("smsMsgId", msg_id, MAX_MSG_ID)
    _require("status", status, MAX_STATUS)
    total, sequence = _part(data, "total"), _part(data, "sequence")
    # Kept and flagged, never refused: the report is still evidence for its message.
    inconsistent = total is None or sequence is None or not 1 <= sequence <= total
    updated_at, unread_time = _update_time(data, zone)
    to_raw = _as_text(data.get("to")).strip()
    # An unreadable part number is stored as 0, which no consistent report has.
    sequence = sequence or 0
    return _new_report(
        {
            "msg_id": msg_id,
            "status": status,
            "status_desc": _as_text(data.get("statusDesc"))[:MAX_DESCRIPTION],
            "total": total or 0,
            "sequence": sequence,
            "parts_inconsistent": inconsistent,
            "origin": _origin(data),
            "updated_at": updated_at,
            "extend": _as_text(data.get("extend"))[:128],
            "to_number": _e164(to_raw) if to_raw else "",
            "org_code": _as_text(data.get("orgCode"))[:32],
            "channel": channel,
            "raw": {_key(k): clean_json(v, 1) for k, v in (data if raw is None else raw).items()},
            "received_at": received_at or timezone.now(),
            "dedupe_key": StatusReport.make_dedupe_key(
                msg_id, sequence, status, updated_at, unread_time=unread_time
            ),
        }
    )


# Every stored field of a report, in the order Django's model takes them positionally.
_ATTNAMES = tuple(f.attname for f in StatusReport._meta.concrete_fields)
# The fields `build_report` leaves unset: none has a default but None, before the report is stored.
_UNSET = frozenset({StatusReport._meta.pk.attname, "matched_at"})


def _new_report(values: dict[str, object]) -> StatusReport:
    """A new, unsaved `StatusReport` of `values`, which names every field but those in `_UNSET`.

    Values are passed by position, as Django itself does when it loads rows (`Model.from_db`):
    by keyword, `Model.__init__` costs more than reading the report, fifty times a batch.
    """
    return StatusReport(*[values.get(name) for name in _ATTNAMES])


@dataclass(frozen=True)
class Unreadable:
    """A report in a batch that could not be used: its place (from 1), as sent, and why."""

    index: int
    item: object
    reason: str


def read_batch(
    items: Sequence[object], channel: str, *, received_at: datetime | None = None
) -> tuple[list[StatusReport], list[Unreadable]]:
    """Read each report of a batch on its own: one that cannot be used never costs the others."""
    reports, unreadable = [], []
    for index, item in enumerate(items, start=1):
        try:
            if not isinstance(item, Mapping):
                raise ReportError(f"a report must be an object, got {_type_name(item)}")
            reports.append(build_report(item, channel, received_at=received_at))
        except ReportError as exc:
            unreadable.append(Unreadable(index, item, str(exc)))
    return reports, unreadable


def store(reports: Iterable[StatusReport]) -> StoreResult:
    """Insert the reports that are new; a redelivered report is acknowledged, not stored twice.

    Duplicates are found by the unique `dedupe_key`: one `INSERT … ON CONFLICT DO NOTHING
    RETURNING` stores the new ones and says which they were, so two concurrent deliveries of
    the same report are safe without locking, and no transaction of its own is needed. Of
    reports repeated in one batch the first is kept.
    """
    batch: dict[str, StatusReport] = {}
    for report in reports:
        batch.setdefault(report.dedupe_key, report)
    rows = list(batch.values())
    fresh = tuple(insert_new.insert_new(rows)) if insert_new.supported() else _insert_unseen(rows)
    return StoreResult(
        new=fresh,
        msg_ids=tuple(sorted({r.msg_id for r in rows})),
        numbers=tuple(sorted({r.to_number for r in rows if r.to_number})),
        keys=tuple(sorted(batch)),
    )


def _insert_unseen(rows: Sequence[StatusReport]) -> tuple[StatusReport, ...]:
    """The same for an SQLite older than 3.35 (no RETURNING): look the keys up, insert the rest."""
    with transaction.atomic(savepoint=False):
        existing = _stored_keys([r.dedupe_key for r in rows])
        fresh = tuple(r for r in rows if r.dedupe_key not in existing)
        StatusReport.objects.bulk_create(fresh, ignore_conflicts=True)
    return fresh


def key_chunks(keys: Sequence[str]) -> Iterator[Sequence[str]]:
    """Dedupe keys in lists one query can take: all on PostgreSQL, a few under SQLite's parameter limit."""
    size = connection.features.max_query_params or len(keys) or 1
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _stored_keys(keys: Sequence[str]) -> set[str]:
    stored: set[str] = set()
    for chunk in key_chunks(keys):
        stored.update(StatusReport.objects.filter(dedupe_key__in=chunk).values_list("dedupe_key", flat=True))
    return stored


def record_manual(msg_id: str, status: str, *, update_time: datetime | None = None) -> StoreResult:
    """A status an agent read on the console's Send Details page."""
    data = {"smsMsgId": msg_id, "status": status}
    report = build_report(data, ReportChannel.MANUAL)
    if update_time:
        report.updated_at = update_time
        report.dedupe_key = StatusReport.make_dedupe_key(report.msg_id, 1, report.status, update_time)
    return store([report])

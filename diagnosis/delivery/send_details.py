"""Importing the console's Send Details CSV export as status reports.

Huawei does not publish the export's columns and the console names them in the
account's language, so columns are found by header name through aliases
(`DEFAULT_COLUMNS`, extended by the `SEND_DETAILS_COLUMNS` setting). The file is read
row by row and stored in batches, so an export of any size is imported in constant
memory. Each report gets the dedupe key a callback report for the same message,
status and update time gets, so importing a file twice, or importing what a callback
already delivered, stores nothing new.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from itertools import chain
from typing import TextIO, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from diagnosis.delivery.ingest import clean_text, parse_time
from diagnosis.delivery.numbers import InvalidNumber, normalise
from diagnosis.models import ReportChannel, StatusReport

DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "msg_id": ("smsMsgId", "SMS ID", "Message ID", "消息ID", "短信ID"),
    "number": ("Recipient Number", "Recipient", "To", "接收号码", "被叫号码"),
    "sent_at": ("Send Time", "Sent At", "发送时间"),
    # The more specific names come first: they win when an export has both.
    "status": ("Status Code", "状态码", "Delivery Status", "Status", "状态"),
    "description": ("Status Description", "statusDesc", "状态描述", "Description", "描述"),
    "updated_at": ("Status Update Time", "Report Time", "状态报告时间", "Update Time", "更新时间"),
}
REQUIRED_FIELDS = ("msg_id", "status")
MAX_REJECTIONS = 1000
# Casts: these are CharFields, whose max_length is always set (the stubs allow None for any field).
MAX_MSG_ID = cast(int, StatusReport._meta.get_field("msg_id").max_length)
MAX_STATUS = cast(int, StatusReport._meta.get_field("status").max_length)
MAX_DESCRIPTION = cast(int, StatusReport._meta.get_field("status_desc").max_length)

# The console writes Chinese-mainland numbers without the country code.
MAINLAND_REGION = "CN"
_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_NUMBER_PUNCTUATION = re.compile(r"[\s\-().]")
_HEADER_NOISE = re.compile(r"[\s_\ufeff]+")


class SendDetailsError(Exception):
    """The file as a whole cannot be imported (as opposed to one rejected row)."""


class _Rejected(Exception):
    pass


@dataclass
class ImportSummary:
    """What an import did. Only the first `MAX_REJECTIONS` reasons are kept, to bound memory."""

    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)
    unreadable_numbers: int = 0
    unreadable_times: int = 0
    columns: dict[str, str] = field(default_factory=dict)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_REJECTIONS:
            self.rejections.append((line, reason))

    def lines(self, max_reasons: int = 10) -> list[str]:
        used = ", ".join(f"{name} = {header!r}" for name, header in self.columns.items())
        out = [
            f"Columns: {used}" if used else "Columns: none matched",
            f"Rows read: {self.rows}",
            f"Imported: {self.imported}",
            f"Duplicates (already stored, or repeated in the file): {self.duplicates}",
            f"Rejected: {self.rejected}",
        ]
        shown = self.rejections[:max_reasons]
        out += [f"  line {line}: {reason}" for line, reason in shown]
        if self.rejected > len(shown):
            out.append(f"  ... and {self.rejected - len(shown)} more rejected rows")
        if self.unreadable_numbers:
            out.append(
                f"Numbers not understood (stored without E.164, kept in raw): {self.unreadable_numbers}"
            )
        if self.unreadable_times:
            out.append(
                f"Update times not understood (stored without one, kept in raw): {self.unreadable_times}"
            )
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def header_key(name: str) -> str:
    """The form headers are compared in: no BOM, case, spaces or underscores."""
    return _HEADER_NOISE.sub("", name).casefold()


def column_mapping() -> dict[str, tuple[str, ...]]:
    """`DEFAULT_COLUMNS` with the `SEND_DETAILS_COLUMNS` setting's aliases put in front.

    The setting adds names (a string or a tuple per field) and never removes the
    defaults; its names come first, so they win when a file has several candidates.
    """
    extra = getattr(settings, "SEND_DETAILS_COLUMNS", None) or {}
    unknown = sorted(set(extra) - set(DEFAULT_COLUMNS))
    if unknown:
        raise ImproperlyConfigured(
            f"SEND_DETAILS_COLUMNS has unknown fields {unknown}; known: {', '.join(DEFAULT_COLUMNS)}."
        )
    mapping = {}
    for name, defaults in DEFAULT_COLUMNS.items():
        added = extra.get(name, ())
        if isinstance(added, str):
            added = (added,)
        mapping[name] = tuple(dict.fromkeys((*added, *defaults)))
    return mapping


def parse_zone(name: str) -> tzinfo:
    """The zone naive times in the file are read in (the console's, e.g. Asia/Shanghai)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SendDetailsError(
            f"Unknown time zone {name!r} (use a name such as UTC or Asia/Shanghai)."
        ) from None


@lru_cache(maxsize=4096)
def e164_or_blank(raw: str) -> str:
    """The number as E.164, or "" when phonenumbers cannot read it.

    Send Details writes international numbers with the country code but no "+"
    and Chinese-mainland numbers without the country code, so bare digits are
    tried both ways, the mainland reading first when they look like a mainland mobile.
    A reading the numbering plan knows wins; otherwise the first possible one is kept.
    Cached because an export names the same recipients again and again.
    """
    text = raw.strip()
    digits = _NUMBER_PUNCTUATION.sub("", text)
    attempts: list[tuple[str, str | None]]
    if not digits.isdigit() or digits.startswith("00"):
        attempts = [(text, None)]
    elif _MAINLAND_MOBILE.fullmatch(digits):
        attempts = [(digits, MAINLAND_REGION), ("+" + digits, None)]
    else:
        attempts = [("+" + digits, None), (digits, MAINLAND_REGION)]
    possible = ""
    for candidate, region in attempts:
        try:
            info = normalise(candidate, region)
        except InvalidNumber:
            continue
        if info.known:
            return info.e164
        possible = possible or info.e164
    return possible


def import_send_details(
    stream: TextIO,
    *,
    batch_size: int = 2000,
    on_batch: Callable[[list[StatusReport]], object] | None = None,
    timezone_name: str = "UTC",
) -> ImportSummary:
    """Store the rows of a Send Details export as `ReportChannel.IMPORT` status reports.

    Each batch is stored in its own transaction, then passed to `on_batch` (without
    primary keys: `bulk_create` with `ignore_conflicts` does not return them); what
    `on_batch` returns is ignored. Rows
    before a fatal error stay stored; importing the file again is safe.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    zone = parse_zone(timezone_name)
    mapping = column_mapping()
    rows = _read_rows(stream)
    try:
        _, header = next(rows)
    except StopIteration:
        raise SendDetailsError("The file is empty: expected a header row first.") from None
    headers = _unique(header)
    columns = _locate(headers, mapping)
    summary = ImportSummary(columns={name: headers[index] for name, index in columns.items()})
    now = timezone.now()
    batch: list[tuple[StatusReport, str]] = []
    for line, cells in rows:
        summary.rows += 1
        try:
            report, number, time_unread = _report(cells, headers, columns, zone, now)
        except _Rejected as exc:
            summary.reject(line, str(exc))
            continue
        summary.unreadable_times += time_unread
        batch.append((report, number))
        if len(batch) >= batch_size:
            _store(batch, summary, on_batch)
            batch = []
    if batch:
        _store(batch, summary, on_batch)
    return summary


def _read_rows(stream: TextIO) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with the line each starts on; the delimiter is guessed from the header."""
    skipped = 0
    first = stream.readline()
    while first and not first.strip():
        skipped += 1
        first = stream.readline()
    if not first:
        return
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(chain([first], stream), delimiter=delimiter)
    end = skipped
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SendDetailsError(f"Line {start} cannot be read as CSV: {exc}.") from None
        end = reader.line_num + skipped
        if any(cell.strip() for cell in cells):
            yield start, cells


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for cell in header:
        name = cell.replace("\ufeff", "").strip()
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def _locate(headers: list[str], mapping: dict[str, tuple[str, ...]]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, name in enumerate(headers):
        positions.setdefault(header_key(name), index)
    columns = {}
    for name, aliases in mapping.items():
        for alias in aliases:
            position = positions.get(header_key(alias))
            if position is not None:
                columns[name] = position
                break
    missing = [name for name in REQUIRED_FIELDS if name not in columns]
    if missing:
        accepted = [f"  {name}: " + ", ".join(f'"{alias}"' for alias in mapping[name]) for name in missing]
        found = ", ".join(f'"{name}"' for name in headers) or "none"
        raise SendDetailsError(
            "\n".join(
                [
                    f"The file has no column for {' and '.join(missing)}. Accepted header names:",
                    *accepted,
                    f"The file's headers are: {found}.",
                    "Other names can be added with the SEND_DETAILS_COLUMNS setting.",
                ]
            )
        )
    return columns


def _report(
    cells: list[str],
    headers: list[str],
    columns: dict[str, int],
    zone: tzinfo,
    now: datetime,
) -> tuple[StatusReport, str, bool]:
    if len(cells) != len(headers):
        raise _Rejected(f"expected {len(headers)} cells like the header, found {len(cells)}")

    # What PostgreSQL cannot hold (NULs, lone surrogates) is kept escaped, as in callbacks.
    cleaned = [clean_text(c) for c in cells]

    def cell(name: str) -> str:
        index = columns.get(name)
        return "" if index is None else cleaned[index].strip()

    msg_id = cell("msg_id")
    if not msg_id:
        raise _Rejected("the message id is empty")
    for name, label in (("msg_id", "message id"), ("status", "status")):
        index = columns.get(name)
        if index is not None and cleaned[index] != cells[index]:
            raise _Rejected(f"the {label} holds control characters")
    if msg_id.lstrip("\ufeff") == headers[columns["msg_id"]]:
        raise _Rejected("the header row again (were files joined together?)")
    if len(msg_id) > MAX_MSG_ID:
        raise _Rejected(f"the message id is {len(msg_id)} characters long; at most {MAX_MSG_ID} fit")
    status = cell("status").upper()
    if not status:
        raise _Rejected("the status is empty")
    if len(status) > MAX_STATUS:
        raise _Rejected(f"the status {status[:40]!r} is longer than {MAX_STATUS} characters")
    # A time that cannot be read costs the report its time, never the report (raw keeps the text).
    # The send time is only kept in raw: a report's time is when its status changed.
    unread_time = ""
    try:
        updated_at = parse_time(cell("updated_at"), zone)
    except ValueError:
        updated_at, unread_time = None, cell("updated_at")
    report = StatusReport(
        channel=ReportChannel.IMPORT,
        msg_id=msg_id,
        status=status,
        status_desc=cell("description")[:MAX_DESCRIPTION],
        updated_at=updated_at,
        raw=dict(zip(headers, cleaned, strict=True)),
        received_at=now,
        dedupe_key=StatusReport.make_dedupe_key(msg_id, 1, status, updated_at, unread_time=unread_time),
    )
    return report, cell("number"), bool(unread_time)


def _store(
    batch: list[tuple[StatusReport, str]],
    summary: ImportSummary,
    on_batch: Callable[[list[StatusReport]], object] | None,
) -> None:
    """Insert the batch's new reports; numbers are read only for those, duplicates need none."""
    fresh: dict[str, tuple[StatusReport, str]] = {}
    for pending in batch:
        fresh.setdefault(pending[0].dedupe_key, pending)
    with transaction.atomic():
        stored = _stored_keys(list(fresh))
        new = []
        for key, (report, number) in fresh.items():
            if key in stored:
                continue
            report.to_number = e164_or_blank(number) if number else ""
            if number and not report.to_number:
                summary.unreadable_numbers += 1
            new.append(report)
        StatusReport.objects.bulk_create(new, ignore_conflicts=True)
    summary.imported += len(new)
    summary.duplicates += len(batch) - len(new)
    if on_batch is not None and new:
        on_batch(new)


def _stored_keys(keys: list[str]) -> set[str]:
    """One query on PostgreSQL; SQLite's parameter limit splits it into a few."""
    size = connection.features.max_query_params or len(keys) or 1
    stored: set[str] = set()
    for start in range(0, len(keys), size):
        chunk = keys[start : start + size]
        stored.update(StatusReport.objects.filter(dedupe_key__in=chunk).values_list("dedupe_key", flat=True))
    return stored

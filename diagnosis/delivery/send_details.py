"""Importing the console's Send Details CSV export as status reports.

Huawei does not publish the export's columns and the console names them in the
account's language, so columns are found by header name through aliases
(`DEFAULT_COLUMNS`, extended by the `SEND_DETAILS_COLUMNS` setting). Each row is read
into the platform's field names (`PLATFORM_FIELDS`) and goes through `ingest` like a
callback report: the same validation, limits and dedupe key, so importing a file
twice, or importing what a callback already delivered, stores nothing new. The file is
read row by row and stored in batches, so an export of any size is imported in
constant memory.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache, partial
from itertools import chain
from typing import TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext

from diagnosis.delivery import ingest, send_details_copy
from diagnosis.delivery.numbers import InvalidNumber, normalise
from diagnosis.delivery.send_details_copy import OnProgress, Progress, Resume
from diagnosis.delivery.stored_sentences import sentence
from diagnosis.models import ReportChannel, StatusReport

DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "msg_id": ("smsMsgId", "SMS ID", "Message ID", "消息ID", "短信ID"),
    "number": ("Recipient Number", "Recipient", "To", "接收号码", "被叫号码"),
    "sent_at": ("Send Time", "Sent At", "发送时间"),
    # The more specific names come first: they win when an export has both.
    "status": ("Status Code", "状态码", "Delivery Status", "Status", "状态"),
    "description": ("Status Description", "statusDesc", "状态描述", "Description", "描述"),
    "updated_at": ("Status Update Time", "Report Time", "状态报告时间", "Update Time", "更新时间"),
    # Parts of a long message: no known export has them; a deployment whose does names them in the setting.
    "total": (),
    "sequence": (),
}
# The platform's name for each field: what a callback report calls it. The send time has
# none and is only kept in raw: a report's time is when its status changed.
PLATFORM_FIELDS = {
    "msg_id": "smsMsgId",
    "status": "status",
    "description": "statusDesc",
    "updated_at": "updateTime",
    "number": "to",
    "total": "total",
    "sequence": "sequence",
}
REQUIRED_FIELDS = ("msg_id", "status")
# Rejections name the field as the import's summary does.
_LABELS = {"smsMsgId": "message id", "status": "status"}
_EMPTY = {"smsMsgId": gettext_noop("the message id is empty"), "status": gettext_noop("the status is empty")}
_CONTROL_CHARACTERS = {
    "smsMsgId": gettext_noop("the message id holds control characters"),
    "status": gettext_noop("the status holds control characters"),
}
# Rejection reasons with values in them: stored in English, worded when shown.
_CELLS = sentence(gettext_noop("expected %(expected)s cells like the header, found %(found)s"))
_MSG_ID_TOO_LONG = sentence(
    gettext_noop("the message id is %(length)s characters long; at most %(most)s fit")
)
_STATUS_TOO_LONG = sentence(gettext_noop("the status %(status)s is longer than %(most)s characters"))
_FIELD_EMPTY = sentence(gettext_noop("the %(field)s is empty"))
_FIELD_NOT_TEXT = sentence(gettext_noop("the %(field)s holds control characters"))
# Whole-file errors with values in them: the worker stores them in English.
_UNKNOWN_ZONE = sentence(
    gettext_noop("Unknown time zone %(name)s (use a name such as UTC or Asia/Shanghai).")
)
_UNREADABLE_LINE = sentence(gettext_noop("Line %(line)s cannot be read as CSV: %(error)s."))
MAX_REJECTIONS = 1000

# The console writes Chinese-mainland numbers without the country code.
MAINLAND_REGION = "CN"
_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_NUMBER_PUNCTUATION = re.compile(r"[\s\-().]")
_HEADER_NOISE = re.compile(r"[\s_\ufeff]+")


class SendDetailsError(Exception):
    """The file as a whole cannot be imported (as opposed to one rejected row)."""


class MissingColumns(SendDetailsError):
    """A required column is not in the header: the message names what is looked for and what is there."""

    def __init__(self, missing: list[str], accepted: dict[str, tuple[str, ...]], found: list[str]) -> None:
        self.missing, self.accepted, self.found = missing, accepted, found
        super().__init__(self.plain())

    def plain(self) -> str:
        """The reason in the active language (the upload form shows it at once)."""
        fields = _field_names()
        names = {name: _or(f'"{alias}"' for alias in aliases) for name, aliases in self.accepted.items()}
        there = pgettext("list separator", ", ").join(f'"{name}"' for name in self.found if name) or gettext(
            "no column names at all"
        )
        if len(self.missing) == 1:
            (name,) = self.missing
            return gettext(
                "This file has no column for %(field)s. "
                "We look for columns named %(names)s; your file has %(found)s."
            ) % {"field": fields[name], "names": names[name], "found": there}
        first, *others = self.missing
        looked = "".join(
            gettext("; for %(field)s, %(names)s") % {"field": fields[name], "names": names[name]}
            for name in others
        )
        return gettext(
            "This file has no column for %(fields)s. "
            "For %(field)s we look for columns named %(names)s%(others)s. Your file has %(found)s."
        ) % {
            "fields": _or(fields[name] for name in self.missing),
            "field": fields[first],
            "names": names[first],
            "others": looked,
            "found": there,
        }


def _or(words: Iterable[str]) -> str:
    items = list(words)
    if len(items) == 1:
        return items[0]
    # Translators: the end of a list of choices, e.g. '"Status Code", "状态码" or "Status"'.
    return gettext("%(items)s or %(last)s") % {
        "items": pgettext("list separator", ", ").join(items[:-1]),
        "last": items[-1],
    }


def _field_names() -> dict[str, str]:
    """How the page names the required fields."""
    return {"msg_id": gettext("the message ID"), "status": gettext("the status")}


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
    # The waiting cases the import resumed (with `resume`).
    resumed: list[int] = field(default_factory=list)

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
        if self.resumed:
            out.append(f"Waiting cases resumed: {len(self.resumed)}")
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
        raise SendDetailsError(gettext(_UNKNOWN_ZONE.msgid) % {"name": repr(name)}) from None


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
    resume: Resume | None = None,
    on_progress: OnProgress | None = None,
    lines_per_batch: int = send_details_copy.LINES_PER_BATCH,
) -> ImportSummary:
    """Store the rows of a Send Details export as `ReportChannel.IMPORT` status reports.

    With `resume` (`matching.reports_arrived`), the waiting cases the new reports concern
    are resumed and the reports marked matched, as `matching.resume_for_reports` does,
    and the summary names the resumed cases. On PostgreSQL a seekable file is imported through COPY
    (`send_details_copy`); elsewhere, for a file COPY cannot read line for line, or when
    `on_batch` wants every batch's reports, it is read row by row: each batch is stored
    in its own transaction, then passed to `on_batch` (without primary keys:
    `bulk_create` with `ignore_conflicts` does not return them); what `on_batch`
    returns is ignored. Rows before a fatal error stay stored; importing the file again
    is safe. `on_progress` is called inside each stored batch's transaction (the COPY path
    stores `lines_per_batch` lines at a time).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    zone = parse_zone(timezone_name)
    mapping = column_mapping()
    if on_batch is None and connection.vendor == "postgresql" and stream.seekable():
        start = stream.tell()
        try:
            return _import_by_copy(stream, mapping, zone, resume, on_progress, lines_per_batch)
        except send_details_copy.Declined:
            stream.seek(start)
    rows = _read_rows(stream)
    try:
        _, header = next(rows)
    except StopIteration:
        raise SendDetailsError(gettext("The file is empty: expected a header row first.")) from None
    headers = _unique(header)
    columns = _locate(headers, mapping)
    summary = ImportSummary(columns={name: headers[index] for name, index in columns.items()})
    if resume is not None and on_batch is None:
        on_batch = _matcher(summary, resume)
    now = timezone.now()
    import_rows(
        rows,
        headers,
        columns,
        summary,
        zone=zone,
        now=now,
        batch_size=batch_size,
        on_batch=on_batch,
        on_progress=on_progress,
    )
    return summary


def check_header(stream: TextIO) -> dict[str, str]:
    """The columns the file's header maps (field: header), reading only up to the header line.

    Raises `SendDetailsError` (`MissingColumns` for a required column) as the import would.
    """
    try:
        _, header = next(_read_rows(stream))
    except StopIteration:
        raise SendDetailsError(gettext("The file is empty: expected a header row first.")) from None
    headers = _unique(header)
    return {name: headers[index] for name, index in _locate(headers, column_mapping()).items()}


def _import_by_copy(
    stream: TextIO,
    mapping: dict[str, tuple[str, ...]],
    zone: tzinfo,
    resume: Resume | None,
    on_progress: OnProgress | None,
    lines_per_batch: int,
) -> ImportSummary:
    """The import through COPY (`send_details_copy`); rows the SQL cannot read come back to `read_reports`."""
    header_line, delimiter, header = send_details_copy.read_header(stream)
    headers = _unique(header)
    columns = _locate(headers, mapping)
    summary = ImportSummary(columns={name: headers[index] for name, index in columns.items()})
    now = timezone.now()
    counts = send_details_copy.import_by_copy(
        stream,
        send_details_copy.Layout(header_line, delimiter, headers, columns),
        zone=zone,
        now=now,
        resume=resume,
        read_rows=partial(
            read_reports, headers=headers, columns=columns, summary=summary, zone=zone, now=now
        ),
        to_number=stored_number,
        on_progress=on_progress,
        lines_per_batch=lines_per_batch,
    )
    summary.rows += counts.rows
    summary.imported += counts.imported
    summary.duplicates += counts.duplicates
    summary.unreadable_numbers += counts.unreadable_numbers
    summary.resumed += counts.resumed
    return summary


def stored_number(written: str) -> str:
    """The `to_number` a report stores for a number written so in the file (`_report`, `build_report`).

    `build_report` reads the E.164 form again, which gives it back unchanged: the same
    country code and national number, so the same validity. Not doing so halves the
    cost of a file's distinct numbers, the COPY path's largest share of Python work.
    """
    return e164_or_blank(written)


def _matcher(summary: ImportSummary, resume: Resume) -> Callable[[list[StatusReport]], object]:
    """`on_batch` that resumes the waiting cases a stored batch concerns, then marks it matched."""

    def match_batch(reports: list[StatusReport]) -> None:
        summary.resumed.extend(
            resume(sorted({r.msg_id for r in reports}), sorted({r.to_number for r in reports if r.to_number}))
        )
        # Marked after resuming (as `matching.match_reports`): a crash in between leaves them to the catch-up.
        now = timezone.now()
        for chunk in ingest.key_chunks([r.dedupe_key for r in reports]):
            StatusReport.objects.filter(dedupe_key__in=chunk, matched_at__isnull=True).update(matched_at=now)

    return match_batch


def import_rows(
    rows: Iterable[tuple[int, list[str]]],
    headers: list[str],
    columns: dict[str, int],
    summary: ImportSummary,
    *,
    zone: tzinfo,
    now: datetime,
    batch_size: int,
    on_batch: Callable[[list[StatusReport]], object] | None,
    on_progress: OnProgress | None = None,
) -> None:
    """Read and store `rows` (line, cells) one by one, in batches: the rules of `ingest.build_report`.

    With `on_progress`, each batch and the call that reports it share one transaction.
    """
    # Where a stored report's raw row keeps the number as written (keys are cleaned like values).
    number_header = ingest.clean_text(headers[columns["number"]]) if "number" in columns else None
    batch: list[StatusReport] = []

    def flush() -> None:
        if on_progress is None:
            _store(batch, summary, number_header, on_batch)
            return
        with transaction.atomic():
            _store(batch, summary, number_header, on_batch)
            on_progress(Progress(rows=summary.rows, imported=summary.imported, resumed=summary.resumed))

    for _, report in read_reports(rows, headers, columns, summary, zone=zone, now=now):
        batch.append(report)
        if len(batch) >= batch_size:
            flush()
            batch = []
    if batch:
        flush()


def read_reports(
    rows: Iterable[tuple[int, list[str]]],
    headers: list[str],
    columns: dict[str, int],
    summary: ImportSummary,
    *,
    zone: tzinfo,
    now: datetime,
) -> Iterator[tuple[int, StatusReport]]:
    """Each usable row as (line, report); refused rows and unreadable times are counted in `summary`."""
    for line, cells in rows:
        summary.rows += 1
        try:
            report = _report(cells, headers, columns, zone, now)
        except _Rejected as exc:
            summary.reject(line, str(exc))
            continue
        if report.updated_at is None and "updated_at" in columns and cells[columns["updated_at"]].strip():
            summary.unreadable_times += 1
        yield line, report


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
            raise SendDetailsError(gettext(_UNREADABLE_LINE.msgid) % {"line": start, "error": exc}) from None
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
        raise MissingColumns(missing, {name: mapping[name] for name in missing}, headers)
    return columns


def _report(
    cells: list[str],
    headers: list[str],
    columns: dict[str, int],
    zone: tzinfo,
    now: datetime,
) -> StatusReport:
    """The row as the report a callback would have sent (`ingest.build_report`), or `_Rejected`."""
    if len(cells) != len(headers):
        raise _Rejected(_CELLS.english(expected=len(headers), found=len(cells)))
    msg_id_column = columns["msg_id"]
    if cells[msg_id_column].strip().lstrip("\ufeff") == headers[msg_id_column]:
        # Stored with the import in English; the page translates it when shown.
        raise _Rejected(gettext_noop("the header row again (were files joined together?)"))
    # The message id and status as written: ingest refuses control characters in them.
    data: dict[str, object] = {
        PLATFORM_FIELDS[name]: cells[index] if name in REQUIRED_FIELDS else cells[index].strip()
        for name, index in columns.items()
        if name in PLATFORM_FIELDS
    }
    if data.get("to"):
        # From the console's notation; "" when unreadable: the report is stored without a number.
        data["to"] = e164_or_blank(str(data["to"]))
    try:
        return ingest.build_report(
            data, ReportChannel.IMPORT, received_at=now, zone=zone, raw=dict(zip(headers, cells, strict=True))
        )
    except ingest.ReportError as exc:
        raise _Rejected(_reason(exc)) from None


def _reason(error: ingest.ReportError) -> str:
    """Why a row was rejected, in the words of the import's summary."""
    # The fixed reasons are stored in English and translated when the page shows them.
    if error.problem is ingest.Problem.MISSING and error.field in _LABELS:
        return _EMPTY[error.field]
    if error.problem is ingest.Problem.NOT_TEXT and error.field in _LABELS:
        return _CONTROL_CHARACTERS[error.field]
    label = _LABELS.get(error.field, error.field)
    if error.problem is ingest.Problem.MISSING:
        return _FIELD_EMPTY.english(field=label)
    if error.problem is ingest.Problem.NOT_TEXT:
        return _FIELD_NOT_TEXT.english(field=label)
    if error.problem is ingest.Problem.TOO_LONG and error.field == "smsMsgId":
        return _MSG_ID_TOO_LONG.english(length=len(error.value), most=ingest.MAX_MSG_ID)
    if error.problem is ingest.Problem.TOO_LONG and error.field == "status":
        return _STATUS_TOO_LONG.english(status=repr(error.value[:40]), most=ingest.MAX_STATUS)
    return str(error)


def _store(
    batch: list[StatusReport],
    summary: ImportSummary,
    number_header: str | None,
    on_batch: Callable[[list[StatusReport]], object] | None,
) -> None:
    """Insert the batch's new reports, one transaction; count what was new, repeated, unreadable."""
    result = ingest.store(batch)
    summary.imported += result.stored
    summary.duplicates += len(batch) - result.stored
    for report in result.new:
        # A number was written but could not be read: stored without E.164, the raw row keeps it.
        if number_header is not None and not report.to_number and str(report.raw[number_header]).strip():
            summary.unreadable_numbers += 1
    if on_batch is not None and result.new:
        on_batch(list(result.new))

"""The Send Details import on PostgreSQL: the file goes in with one COPY and is stored in SQL.

Header detection and column mapping stay in Python (`send_details`). The rows are
COPYed as text into a temporary staging table, then each range of lines becomes status
reports with one `INSERT … SELECT … ON CONFLICT (dedupe_key) DO NOTHING`, in its own
transaction. The SQL reads the common row exactly as `ingest.build_report` does, dedupe
key included; what it cannot read exactly (ids or statuses that are not plain ASCII,
control characters, times written another way, rows to refuse) is left in staging and
read afterwards by the row-by-row code, which gives each refused row its line and reason.
Numbers are normalised in Python once per distinct value, and naive times are read through
the zone's offset for each distinct hour, so the SQL needs neither phonenumbers nor tz rules.

A file COPY cannot take line for line (a cell spanning lines, a row with another number
of cells, a NUL, blank lines) raises `Declined` before anything is stored: the caller
then reads it row by row.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, TextIO

import psycopg
from django.db import connection, transaction

from diagnosis.delivery import ingest
from diagnosis.models import CaseState, Message, Recipient, ReportChannel, StatusReport

# Lines per INSERT (and transaction): few statements, each scanning staging once.
LINES_PER_BATCH = 250_000
# Rows the SQL leaves to Python are read and stored in batches of this many.
ROW_BATCH = 2000
CHUNK = 1 << 20
# Enough to sort a range of rows in memory; only for that statement's transaction.
SORT_MEMORY = "128MB"
# Staged rows have no useful statistics (a filter of many expressions reads as a row or
# two), and a nested loop over the numbers for each of a million rows takes hours.
NO_NESTED_LOOPS = "SET LOCAL enable_nestloop = off"
STAGING = "send_details_staging"
NUMBERS = "send_details_numbers"
HOURS = "send_details_hours"
# The rows the SQL leaves to Python, as Python read them.
READ = "send_details_read"
# What Python's str.strip() removes: trimming in SQL must cut exactly the same.
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
# ingest's unsafe characters that PostgreSQL text can hold (never NUL or a surrogate).
UNSAFE = "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
# The one time notation the SQL reads, "2026-01-01 08:00:05" (or with "T"); `ingest.parse_time`
# reads it the same way. The hour ("2026-01-01 08") is checked in Python, the rest in SQL.
PLAIN_HOUR = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}")
PLAIN_MINUTES = "^:[0-5][0-9]:[0-5][0-9]$"


class Declined(Exception):
    """The file cannot be staged line for line: read it row by row instead."""


Resume = Callable[[Sequence[str], Sequence[str]], list[int]]


@dataclass
class Progress:
    """How far an import got: rows read, reports stored, cases resumed, as of the last stored batch."""

    rows: int
    imported: int
    resumed: list[int]


# Called inside each stored batch's transaction, so what it writes commits with the batch.
OnProgress = Callable[[Progress], object]
# `send_details.read_reports` for some (line, cells): each usable row as (line, report).
ReadRows = Callable[[Iterable[tuple[int, list[str]]]], Iterator[tuple[int, StatusReport]]]


@dataclass(frozen=True)
class Layout:
    """The file as its header row describes it (see `send_details`)."""

    header_line: int
    delimiter: str
    headers: list[str]
    columns: dict[str, int]


@dataclass
class Counts:
    """What the COPY path stored, for the import's summary."""

    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    unreadable_numbers: int = 0
    resumed: list[int] = field(default_factory=list)


def read_header(stream: TextIO) -> tuple[int, str, list[str]]:
    """The header's line number, the delimiter and the header's cells; `Declined` if unsure.

    Blank lines before the header are skipped as the row-by-row reading does.
    """
    line = 1
    first = stream.readline()
    while first and not first.strip():
        line += 1
        first = stream.readline()
    if not first.endswith("\n"):
        raise Declined  # empty, or only a header: nothing worth a COPY
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        parsed = list(csv.reader([first], delimiter=delimiter, strict=True))
    except csv.Error:
        raise Declined from None
    if len(parsed) != 1:
        raise Declined
    return line, delimiter, parsed[0]


def import_by_copy(
    stream: TextIO,
    layout: Layout,
    *,
    zone: tzinfo,
    now: datetime,
    resume: Resume | None,
    read_rows: ReadRows,
    to_number: Callable[[str], str],
    on_progress: OnProgress | None = None,
    lines_per_batch: int = LINES_PER_BATCH,
) -> Counts:
    """Store the rows after the header (see the module's docstring); `Declined` before storing any.

    `on_progress` is called in each batch's transaction; smaller `lines_per_batch` report more often.
    """
    counts = Counts()
    try:
        staged = _stage(stream, len(layout.headers), layout.delimiter)
        fast = _Fast(layout, zone, now, resume)
        fast.prepare(to_number)
        fast.read_leftovers(read_rows)
        last = 0
        while last < staged:
            first_n, last = last + 1, min(last + lines_per_batch, staged)
            fast.store(first_n, last, counts, on_progress)
        # Rows read in Python were counted there (blank ones not at all); the SQL read the others.
        fast_rows = staged - fast.leftover_rows
        counts.rows = fast_rows
        counts.imported = fast.inserted
        counts.duplicates = fast_rows + fast.python_rows - fast.inserted
        counts.unreadable_numbers = fast.unread_numbers
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}, {NUMBERS}, {HOURS}, {READ}")
    return counts


def _stage(stream: TextIO, cells: int, delimiter: str) -> int:
    """COPY the rest of the file into staging; the number of rows, one per line, or `Declined`."""
    columns = ", ".join(f"c{i}" for i in range(cells))
    lines = 0
    last = "\n"
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGING} (n bigserial, "
                + ", ".join(f"c{i} text" for i in range(cells))
                + ")"
            )
            quoted = "E'\\t'" if delimiter == "\t" else f"'{delimiter}'"
            raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
            with raw.copy(f"COPY {STAGING} ({columns}) FROM STDIN (FORMAT csv, DELIMITER {quoted})") as copy:
                while chunk := stream.read(CHUNK):
                    lines += chunk.count("\n")
                    last = chunk[-1]
                    copy.write(chunk)
            cursor.execute(f"SELECT count(*) FROM {STAGING}")
            staged = int(cursor.fetchone()[0])
            # One row per line, or line numbers could not be told from row numbers.
            if staged != lines + (last != "\n"):
                raise Declined
    except Declined:
        raise
    except Exception as exc:  # noqa: BLE001 - anything COPY refuses is read row by row
        if not _copy_refusal(exc):
            raise
        raise Declined from None
    return staged


def _copy_refusal(exc: BaseException | None) -> bool:
    """Whether COPY refused the data (as opposed to the database being unreachable)."""
    if exc is None:
        return False
    if isinstance(exc, UnicodeError):
        return True
    if isinstance(exc, psycopg.Error):
        return not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    return _copy_refusal(exc.__cause__)


class _Fast:
    """The SQL that turns staged rows into status reports, and what it stored."""

    def __init__(self, layout: Layout, zone: tzinfo, now: datetime, resume: Resume | None) -> None:
        self.layout, self.zone, self.now, self.resume = layout, zone, now, resume
        self.headers, self.columns = layout.headers, layout.columns
        self.inserted = 0
        self.unread_numbers = 0
        self.leftover_rows = 0
        self.python_rows = 0
        self.params: dict[str, Any] = {
            "ws": WHITESPACE,
            "unsafe": UNSAFE,
            "plain_minutes": PLAIN_MINUTES,
            "msg_header": self.headers[self.columns["msg_id"]],
            "keys": [ingest.clean_text(h) for h in self.headers],
            "now": now,
            "matched_at": None if resume is None else now,
            "channel": ReportChannel.IMPORT,
            "number_key": ingest.clean_text(self.headers[self.columns.get("number", 0)]),
        }

    def _cell(self, name: str) -> str:
        if name not in self.columns:
            return "''"
        return f"btrim(coalesce(s.c{self.columns[name]}, ''), %(ws)s)"

    def _part(self, name: str) -> str:
        """`ingest._part`: 1 when empty, the number when it is one, else NULL (stored as 0)."""
        if name not in self.columns:
            return "1"
        cell = self._cell(name)
        number = f"{cell} ~ '^[0-9]{{1,5}}$' AND {cell}::int <= {ingest.MAX_PART}"
        return f"(CASE WHEN {cell} = '' THEN 1 WHEN {number} THEN {cell}::int END)"

    def reading(self) -> str:
        """Each staged row as the report fields, with `fast`: whether the SQL reads it exactly."""
        cells = ", ".join(f"coalesce(s.c{i}, '')" for i in range(len(self.headers)))
        kept = ", ".join(f"coalesce(r.c{i}, '')" for i in range(len(self.headers)))
        # OFFSET 0 keeps the inner query apart, so each trimmed cell is computed once per row.
        return f"""
            SELECT r.n, r.m, r.st, r.t, r.descr, r.tot, r.seq,
                jsonb_object(%(keys)s::text[], ARRAY[{kept}]) AS raw, ARRAY[{kept}] AS cells,
                coalesce(nm.e164, '') AS to_number,
                (length(r.m) BETWEEN 1 AND {ingest.MAX_MSG_ID} AND r.m !~ '[^ -~]' AND r.m <> %(msg_header)s
                 AND length(r.st) BETWEEN 1 AND {ingest.MAX_STATUS} AND r.st !~ '[^ -~]'
                 AND NOT r.unsafe AND (r.t = '' OR h.off IS NOT NULL)) AS fast,
                (CASE WHEN h.off IS NOT NULL
                 THEN (left(r.t, 10) || ' ' || substr(r.t, 12, 8))::timestamp - h.off END) AS utc
            FROM (
                SELECT s.*, {self._cell("msg_id")} AS m, {self._cell("status")} AS st,
                    {self._cell("updated_at")} AS t, {self._cell("number")} AS num,
                    {self._cell("description")} AS descr,
                    {self._part("total")} AS tot, {self._part("sequence")} AS seq,
                    concat({cells}) ~ %(unsafe)s AS unsafe
                FROM {STAGING} s WHERE s.n BETWEEN %(first)s AND %(last)s
                OFFSET 0
            ) r
            LEFT JOIN {NUMBERS} nm ON nm.raw = r.num
            LEFT JOIN {HOURS} h ON h.key = (
                CASE WHEN length(r.t) = 19 AND substr(r.t, 14) ~ %(plain_minutes)s THEN left(r.t, 13) END
            )
        """

    def prepare(self, to_number: Callable[[str], str]) -> None:
        """The distinct numbers and hours of the file, read in Python, as lookup tables."""
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {STAGING}")
            cursor.execute(f"CREATE TEMPORARY TABLE {NUMBERS} (raw text, e164 text)")
            cursor.execute(f"CREATE TEMPORARY TABLE {HOURS} (key text, off interval)")
            if "number" in self.columns:
                cursor.execute(f"SELECT DISTINCT {self._cell('number')} FROM {STAGING} s", {"ws": WHITESPACE})
                _copy_rows(cursor, NUMBERS, ((raw, to_number(raw)) for (raw,) in cursor.fetchall() if raw))
            if "updated_at" in self.columns:
                cursor.execute(
                    f"SELECT DISTINCT left(t, 13) FROM (SELECT {self._cell('updated_at')} AS t"
                    f" FROM {STAGING} s) x WHERE length(t) = 19",
                    {"ws": WHITESPACE},
                )
                hours = ((key, _offset(key, self.zone)) for (key,) in cursor.fetchall())
                _copy_rows(cursor, HOURS, ((key, f"{off} seconds") for key, off in hours if off is not None))
            cursor.execute(f"ANALYZE {NUMBERS}")
            cursor.execute(f"ANALYZE {HOURS}")

    def store(self, first: int, last: int, counts: Counts, on_progress: OnProgress | None = None) -> None:
        """Insert the reports of staged rows `first`..`last`, in file order; one transaction."""
        key = "r.m || '|' || coalesce(r.seq, 0) || '|' || upper(r.st) || '|' || " + (
            """coalesce(to_char(r.utc, 'YYYYMMDD"T"HH24MISS"Z"'), '-')"""
        )
        unread_number = "false"
        if "number" in self.columns:
            unread_number = "to_number = '' AND btrim(raw ->> %(number_key)s, %(ws)s) <> ''"
        fields = (
            "msg_id, status, status_desc, total, sequence, parts_inconsistent, origin,"
            " updated_at, extend, to_number, org_code, raw, dedupe_key"
        )
        sql = f"""
            WITH ins AS (
                INSERT INTO {StatusReport._meta.db_table} ({fields}, channel, received_at, matched_at)
                SELECT {fields}, %(channel)s, %(now)s, %(matched_at)s FROM (
                    SELECT r.n, r.m AS msg_id, upper(r.st) AS status,
                        left(r.descr, {ingest.MAX_DESCRIPTION}) AS status_desc,
                        coalesce(r.tot, 0) AS total, coalesce(r.seq, 0) AS sequence,
                        (r.tot IS NULL OR r.seq IS NULL OR NOT (1 <= r.seq AND r.seq <= r.tot))
                            AS parts_inconsistent,
                        '' AS origin, r.utc AT TIME ZONE 'UTC' AS updated_at, '' AS extend,
                        r.to_number, '' AS org_code, r.raw, {key} AS dedupe_key
                    FROM ({self.reading()}) r
                    WHERE r.fast
                    UNION ALL
                    SELECT n, {fields} FROM {READ} WHERE n BETWEEN %(first)s AND %(last)s
                ) x
                ORDER BY x.dedupe_key, x.n
                ON CONFLICT (dedupe_key) DO NOTHING
                RETURNING {unread_number} AS unread_number
            )
            SELECT count(*), count(*) FILTER (WHERE unread_number) FROM ins
        """
        with transaction.atomic(), connection.cursor() as cursor:
            # Sorted by key (indexes fill page by page), then line (the first repeat is kept): in memory.
            cursor.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
            cursor.execute("SELECT coalesce(max(id), 0) FROM " + StatusReport._meta.db_table)
            floor = cursor.fetchone()[0]
            cursor.execute(NO_NESTED_LOOPS)
            cursor.execute(sql, {**self.params, "first": first, "last": last})
            inserted, unread = cursor.fetchone()
            cursor.execute("SET LOCAL enable_nestloop = on")  # the resuming's lookups want them
            self.inserted += inserted
            self.unread_numbers += unread
            if self.resume is not None and inserted:
                # In the batch's transaction: its reports are stored as matched only if this resumes.
                counts.resumed.extend(_resume(self.resume, floor, self.now))
            if on_progress is not None:
                on_progress(Progress(rows=last, imported=self.inserted, resumed=counts.resumed))

    def read_leftovers(self, read_rows: ReadRows) -> None:
        """Read the rows the SQL cannot in Python (`send_details.read_reports`), into `READ`."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {READ} (n bigint, msg_id text, status text, status_desc text,"
                " total int, sequence int, parts_inconsistent boolean, origin text, updated_at timestamptz,"
                " extend text, to_number text, org_code text, raw jsonb, dedupe_key text)"
            )
            for chunk in self._leftover_chunks():
                reports = read_rows(chunk)
                with cursor.cursor.copy(f"COPY {READ} FROM STDIN") as copy:
                    for line, r in reports:
                        self.python_rows += 1
                        copy.write_row(
                            (
                                line - self.layout.header_line,
                                r.msg_id,
                                r.status,
                                r.status_desc,
                                r.total,
                                r.sequence,
                                r.parts_inconsistent,
                                r.origin,
                                r.updated_at,
                                r.extend,
                                r.to_number,
                                r.org_code,
                                json.dumps(r.raw, ensure_ascii=False),
                                r.dedupe_key,
                            )
                        )

    def _leftover_chunks(self) -> Iterator[list[tuple[int, list[str]]]]:
        """The staged rows the SQL does not read, in file order, as (line, cells); blank ones dropped."""
        sql = f"SELECT r.n, r.cells FROM ({self.reading()}) r WHERE r.fast IS NOT TRUE ORDER BY r.n"
        with connection.cursor() as plain:
            plain.execute(NO_NESTED_LOOPS.replace(" LOCAL", ""))
        try:
            with connection.chunked_cursor() as cursor:
                cursor.execute(sql, {**self.params, "first": 1, "last": sys.maxsize})
                while chunk := cursor.fetchmany(ROW_BATCH):
                    self.leftover_rows += len(chunk)
                    start = self.layout.header_line
                    yield [(start + n, cells) for n, cells in chunk if any(cell.strip() for cell in cells)]
        finally:
            with connection.cursor() as plain:
                plain.execute("RESET enable_nestloop")


def _copy_rows(cursor: Any, table: str, rows: Iterator[tuple[str, str]]) -> None:
    with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _offset(key: str, zone: tzinfo) -> int | None:
    """Seconds to subtract from a naive time in hour `key` ("YYYY-MM-DD HH") for UTC.

    None when the hour is no valid time, or the zone's offset changes within it (a
    summer-time switch): such rows are read in Python, which settles the ambiguity as before.
    """
    if not PLAIN_HOUR.fullmatch(key):
        return None
    try:
        year, month, day, hour = int(key[0:4]), int(key[5:7]), int(key[8:10]), int(key[11:13])
        if not 1001 <= year <= 9998:  # strftime and to_char agree on four-digit years only
            return None
        moments = [
            datetime(year, month, day, hour, minute, second, fold=fold, tzinfo=zone)
            for minute, second in ((0, 0), (59, 59))
            for fold in (0, 1)
        ]
    except ValueError:
        return None
    offsets = {moment.utcoffset() for moment in moments}
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    # As `ingest.parse_time` reads it: the local time in the zone, then as UTC.
    return None if offset is None else int(offset.total_seconds())


def _resume(resume: Resume, floor: int, now: datetime) -> list[int]:
    """Resume the waiting cases this import's reports stored after row `floor` concern.

    Driven by the waiting cases' message ids and numbers, so that only those reach `resume`.
    """
    new = StatusReport.objects.filter(pk__gt=floor, received_at=now, channel=ReportChannel.IMPORT)
    waiting_ids = Message.objects.filter(case__state=CaseState.WAITING).values("msg_id")
    waiting_numbers = Recipient.objects.filter(case__state=CaseState.WAITING).values("e164")
    msg_ids = set(new.filter(msg_id__in=waiting_ids).values_list("msg_id", flat=True))
    numbers_ = set(
        new.exclude(to_number="").filter(to_number__in=waiting_numbers).values_list("to_number", flat=True)
    )
    if not msg_ids and not numbers_:
        return []
    return resume(sorted(msg_ids), sorted(numbers_))

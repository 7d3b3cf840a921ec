"""The two measurements that are not HTTP requests: the Send Details import and the waiting sweep.

Import: `manage.py import_send_details` runs as a child process on a generated export,
timed with its peak memory taken from `os.wait4`; the baseline is a plain `COPY` of the
same file into a table of text columns. Sweep: due waiting cases are handled by
`diagnosis.cases.sweep.sweep()` in this process; the baseline is one SQL `UPDATE` of the same rows.
When the database holds fewer waiting cases with a deadline more than an hour ahead than the
sweep asks for, open cases are borrowed into waiting for the measurement and put back after
(`bench_sweep_borrowed` keeps their rows, so an interrupted run is repaired by the next).
Each measurement's target is defined here, next to it.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers
from django.db import connection
from django.utils import timezone
from phonenumbers import PhoneNumberType

from bench.seed_scale import msg_id
from diagnosis.cases import sweep
from diagnosis.models import Case

HEADER = [
    "smsMsgId",
    "Recipient Number",
    "Send Time",
    "Status Code",
    "Status Description",
    "Status Update Time",
]
# Regions the seeder never uses, so imported reports cannot resume seeded waiting cases.
IMPORT_REGIONS = ("CZ", "HU", "GR", "PT", "FI", "NO", "DK", "IE", "NZ", "AT", "CH", "BE")
STATUS_MIX = (
    ["DELIVRD"] * 85 + ["UNDELIV"] * 5 + ["EXPIRED"] * 4 + ["REJECTD"] * 2 + ["MK:0015", "ID:0043"] * 2
)
MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


@dataclass(frozen=True)
class ImportTarget:
    """At least `min_ratio` of COPY's rows/s and a peak below `max_peak_mb`, over 1,000,000 rows."""

    min_ratio: float = 1 / 3
    max_peak_mb: float = 250
    label: str = "≥ ⅓ of COPY's rows/s, peak < 250 MB"

    def met(self, ratio: float, peak_mb: float) -> bool:
        return ratio >= self.min_ratio and peak_mb < self.max_peak_mb


@dataclass(frozen=True)
class SweepTarget:
    """At most `max_ratio` × the raw UPDATE's time, over 100,000 due cases, each handled once."""

    max_ratio: float = 5.0
    label: str = "≤ 5× the raw UPDATE, each case handled once"

    def met(self, ratio: float, handled_once: bool) -> bool:
        return ratio <= self.max_ratio and handled_once


IMPORT_TARGET = ImportTarget()
SWEEP_TARGET = SweepTarget()
BORROWED = "bench_sweep_borrowed"


def write_send_details(path: Path, rows: int, seed: int = 11) -> None:
    """A Send Details export as the console writes it: numbers without "+", local times."""
    rng = random.Random(seed)
    stems = []
    for region in IMPORT_REGIONS:
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if example is not None:
            stems.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:-4])
    numbers = [f"{rng.choice(stems)}{rng.randrange(10_000):04d}" for _ in range(20_000)]
    run = rng.getrandbits(32)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            sent = start + timedelta(seconds=n)
            status = STATUS_MIX[n % len(STATUS_MIX)]
            writer.writerow(
                [
                    msg_id(run * 10_000_000 + n, rng.getrandbits(128)),
                    numbers[n % len(numbers)],
                    f"{sent:%Y-%m-%d %H:%M:%S}",
                    status,
                    "delivered" if status == "DELIVRD" else "failed",
                    f"{sent + timedelta(seconds=7):%Y-%m-%d %H:%M:%S}",
                ]
            )


@dataclass
class ImportResult:
    rows: int
    seconds: float
    rows_per_second: float
    peak_rss_mb: float
    copy_seconds: float
    copy_rows_per_second: float
    ratio: float  # import rows/s ÷ COPY rows/s (target ≥ 1/3)
    output: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def copy_baseline(path: Path) -> float:
    """Seconds for a plain COPY of the file into a fresh table of text columns (then dropped)."""
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_baseline")
        cursor.execute(f"CREATE TABLE bench_copy_baseline ({columns})")
        started = time.perf_counter()
        with (
            path.open("rb") as handle,
            cursor.copy("COPY bench_copy_baseline FROM STDIN (FORMAT csv, HEADER)") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_baseline")
    return seconds


def measure_import(path: Path, rows: int, env: Mapping[str, str]) -> ImportResult:
    """Run the import as the command line does, in a child process, and remove what it stored."""
    copy_seconds = copy_baseline(path)
    since = datetime.now(UTC)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(MANAGE), "import_send_details", str(path)],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"import_send_details failed ({child.returncode}):\n{output}")
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM diagnosis_statusreport WHERE channel = 'import' AND received_at >= %s", [since]
        )
    rate, copy_rate = rows / seconds, rows / copy_seconds
    return ImportResult(
        rows=rows,
        seconds=round(seconds, 2),
        rows_per_second=round(rate),
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),  # Linux reports kilobytes
        copy_seconds=round(copy_seconds, 2),
        copy_rows_per_second=round(copy_rate),
        ratio=round(rate / copy_rate, 3),
        output=output.strip(),
    )


@dataclass
class SweepResult:
    due: int
    seconds: float
    update_seconds: float
    ratio: float  # sweep time ÷ raw UPDATE time (target ≤ 5)
    examined: int
    rescheduled: int
    resumed: int
    escalated: int
    failed: int
    second_pass_examined: int
    still_due: int
    handled_once: bool
    borrowed: int = 0  # open cases moved into waiting for this measurement (then put back)
    seconds_per_case: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _make_due(ids: list[int]) -> int:
    """The chosen cases due now (deadline still ahead); every other waiting case scheduled later."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE diagnosis_case SET next_poll_at = LEAST(wait_deadline, now() + interval '1 day') "
            "WHERE state = 'waiting' AND next_poll_at <= now() AND wait_deadline > now()"
        )
        cursor.execute(
            "UPDATE diagnosis_case SET next_poll_at = now() - (id %% 600) * interval '1 second' "
            "WHERE id = ANY(%s)",
            [ids],
        )
        cursor.execute(
            "SELECT count(*) FROM diagnosis_case WHERE state = 'waiting' "
            "AND (next_poll_at <= now() OR next_poll_at IS NULL OR wait_deadline <= now())"
        )
        return cursor.fetchone()[0]


def _case_columns() -> list[str]:
    return [f.column for f in Case._meta.concrete_fields if not f.primary_key]


def restore_borrowed() -> int:
    """Put borrowed cases back as they were, with nothing the sweep added since (events, answers, mail)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [BORROWED])
        if cursor.fetchone()[0] is None:
            return 0
        cursor.execute(f"SELECT min(bench_borrowed_at) FROM {BORROWED}")
        since = cursor.fetchone()[0]
        ids = f"(SELECT id FROM {BORROWED})"
        if since is not None:
            cursor.execute(f"DELETE FROM diagnosis_event WHERE case_id IN {ids} AND at >= %s", [since])
            cursor.execute(
                f"DELETE FROM diagnosis_answerrecord WHERE case_id IN {ids} AND answered_at >= %s", [since]
            )
            cursor.execute(
                f"UPDATE diagnosis_answerrecord SET superseded_at = NULL "
                f"WHERE case_id IN {ids} AND superseded_at >= %s",
                [since],
            )
            cursor.execute(
                f"DELETE FROM diagnosis_outboundemail WHERE case_id IN {ids} AND created_at >= %s", [since]
            )
            cursor.execute(
                f"DELETE FROM diagnosis_staffnotification WHERE case_id IN {ids} AND created_at >= %s",
                [since],
            )
            cursor.execute(
                f"DELETE FROM diagnosis_escalation WHERE case_id IN {ids} AND opened_at >= %s", [since]
            )
        columns = _case_columns()
        cursor.execute(
            f"UPDATE diagnosis_case c SET ({', '.join(columns)}) = ({', '.join('b.' + c for c in columns)}) "
            f"FROM {BORROWED} b WHERE c.id = b.id"
        )
        restored = cursor.rowcount
        cursor.execute(f"DROP TABLE {BORROWED}")
    return restored


def _borrow_waiting(count: int) -> list[int]:
    """Move `count` open cases into waiting (at the guide's wait node, deadline two days ahead).

    Their rows are copied to BORROWED first; `restore_borrowed()` puts them back.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_node FROM diagnosis_case WHERE state = 'waiting' "
            "GROUP BY current_node ORDER BY count(*) DESC LIMIT 1"
        )
        row = cursor.fetchone()
        if row is None:
            return []
        cursor.execute(
            # Cases with a live answer at that node cannot take another one there: leave them out.
            f"CREATE TABLE {BORROWED} AS SELECT c.*, now() AS bench_borrowed_at FROM diagnosis_case c "
            "WHERE state IN ('new', 'in_progress') AND NOT EXISTS (SELECT 1 FROM diagnosis_answerrecord a "
            "WHERE a.case_id = c.id AND a.node = %s AND a.superseded_at IS NULL) ORDER BY id LIMIT %s",
            [row[0], count],
        )
        cursor.execute(
            "UPDATE diagnosis_case c SET state = 'waiting', current_node = %s, "
            "waiting_since = now() - interval '1 hour', wait_deadline = now() + interval '2 days', "
            f"next_poll_at = now() FROM {BORROWED} b WHERE c.id = b.id",
            [row[0]],
        )
        cursor.execute(f"SELECT id FROM {BORROWED} ORDER BY id")
        return [r[0] for r in cursor.fetchall()]


def measure_sweep(count: int) -> SweepResult:
    """Time one sweep over `count` due cases against a raw UPDATE of the same rows; check once-only."""
    restore_borrowed()  # an interrupted earlier run
    try:
        return _measure_sweep(count)
    finally:
        restore_borrowed()


def _measure_sweep(count: int) -> SweepResult:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM diagnosis_case WHERE state = 'waiting' "
            "AND wait_deadline > now() + interval '1 hour' "
            "ORDER BY id LIMIT %s",
            [count],
        )
        ids = [row[0] for row in cursor.fetchall()]
    borrowed = _borrow_waiting(count - len(ids)) if len(ids) < count else []
    ids += borrowed
    with connection.cursor() as cursor:
        _make_due(ids)
        started = time.perf_counter()
        cursor.execute(
            "UPDATE diagnosis_case SET next_poll_at = LEAST(wait_deadline, now() + interval '15 minutes') "
            "WHERE id = ANY(%s)",
            [ids],
        )
        update_seconds = time.perf_counter() - started
    due = _make_due(ids)
    # Both passes on the same clock: whatever the first handled is rescheduled past it, so a
    # second pass that examines anything handled a case twice (or missed one).
    now = timezone.now()
    started = time.perf_counter()
    first = sweep.sweep(now=now)
    seconds = time.perf_counter() - started
    second = sweep.sweep(now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM diagnosis_case WHERE id = ANY(%s) AND state = 'waiting' "
            "AND next_poll_at <= %s",
            [ids, now],
        )
        still_due = cursor.fetchone()[0]
    handled = first.rescheduled + first.resumed + first.escalated + first.failed
    return SweepResult(
        due=due,
        seconds=round(seconds, 2),
        update_seconds=round(update_seconds, 3),
        ratio=round(seconds / update_seconds, 1) if update_seconds else 0.0,
        examined=first.examined,
        rescheduled=first.rescheduled,
        resumed=first.resumed,
        escalated=first.escalated,
        failed=first.failed,
        second_pass_examined=second.examined,
        still_due=still_due,
        borrowed=len(borrowed),
        seconds_per_case=round(seconds / first.examined, 6) if first.examined else 0.0,
        # Cases coming due between the count and the sweep's clock are handled too; what must
        # hold is that every examined case was handled and nothing is left or handled again.
        handled_once=first.examined == handled
        and first.examined >= due
        and second.examined == 0
        and still_due == 0,
    )

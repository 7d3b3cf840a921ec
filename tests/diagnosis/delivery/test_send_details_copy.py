"""The Send Details import's COPY path (PostgreSQL) stores exactly what the row-by-row path stores."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection
from pytest_django import Settings

from diagnosis.delivery import send_details_copy
from diagnosis.delivery.send_details import ImportSummary, import_send_details
from diagnosis.models import StatusReport

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")

FIELDS = [
    "msg_id",
    "status",
    "status_desc",
    "total",
    "sequence",
    "parts_inconsistent",
    "origin",
    "updated_at",
    "extend",
    "to_number",
    "org_code",
    "channel",
    "raw",
    "dedupe_key",
]

MIXED = (
    "SMS ID,Recipient Number,Send Time,Status,Description,Update Time,Parts,Part\n"
    "m-1,4915123456789,x, delivrd ,  ok  ,2024-05-01 16:00:05,2,1\n"  # 2: read in SQL
    "m-2,13800138000,,UNDELIV,,2024-05-01T16:00:06,,\n"  # 3: a mainland mobile
    "m-3,not a number,,DELIVRD,,,,\n"  # 4: kept without E.164
    "m-1,4915123456789,,DELIVRD,again,2024-05-01 16:00:05,2,1\n"  # 5: a repeat; line 2 is kept
    "m-5,,,DELIVRD,,2024-05-01 16:00:05.5 +0800,1,1\n"  # 6: read in Python, in file order
    "m-1,,,delivrd,,2024-05-01T08:00:05Z,2,1\n"  # 7: the same report as line 2, read in Python
    ",,,DELIVRD,,,,\n"  # 8: refused
    "m-9,,,DELIVRD,tab\there,2024-13-01 08:00:00,x,3\n"  # 9: an unreadable time and part
    " , ,,,,,,\n"  # 10: blank: skipped
    "m-11,,,E200027,\u00e9t\u00e9,2024-02-30 10:00:00,3,2\n"  # 11: no such day
    "SMS ID,,,Status,,,,\n"  # 12: the header again
    "m-13,+44 7700 900123,,DELIVRD,,2024-03-31 02:30:00,,\n"  # 13: a summer-time gap in Berlin
    "m-14,,,\u00fcber,,2024-10-27 02:30:00,,\n"  # 14: an ambiguous hour in Berlin
    "m-15,447700900123,,DELIVRD,,2024-10-27 04:30:00,40000,1\n"  # 15
)


def stored() -> list[dict[str, Any]]:
    return list(StatusReport.objects.order_by("msg_id", "status", "dedupe_key").values(*FIELDS))


def both_ways(text: str, **options: Any) -> tuple[ImportSummary, ImportSummary, list[dict[str, Any]]]:
    by_copy = import_send_details(io.StringIO(text), **options)
    copied = stored()
    StatusReport.objects.all().delete()
    row_by_row = import_send_details(io.StringIO(text), on_batch=lambda reports: None, **options)
    assert stored() == copied
    return by_copy, row_by_row, copied


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "Europe/Berlin"])
def test_copy_stores_what_the_row_by_row_import_stores(db: None, settings: Settings, zone: str) -> None:
    settings.SEND_DETAILS_COLUMNS = {"total": "Parts", "sequence": "Part"}

    by_copy, row_by_row, reports = both_ways(MIXED, timezone_name=zone)

    assert by_copy == row_by_row
    # Line 7 repeats line 2 only where 16:00:05 local is 08:00:05 UTC.
    repeats = 2 if zone == "Asia/Shanghai" else 1
    counts = (by_copy.rows, by_copy.imported, by_copy.duplicates, by_copy.rejected)
    assert counts == (13, 11 - repeats, repeats, 2)
    assert by_copy.rejections == [
        (8, "the message id is empty"),
        (12, "the header row again (were files joined together?)"),
    ]
    # Of a report repeated in the file, the first row is the one kept.
    kept = {(r["raw"]["Description"], r["status_desc"]) for r in reports if r["msg_id"] == "m-1"}
    assert ("  ok  ", "ok") in kept and ("again", "again") not in kept


def test_a_file_copy_cannot_read_line_for_line_is_read_row_by_row(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    declined = []
    stage = send_details_copy._stage

    def watched(*args: Any) -> int:
        try:
            return stage(*args)
        except send_details_copy.Declined:
            declined.append(True)
            raise

    monkeypatch.setattr(send_details_copy, "_stage", watched)
    text = 'SMS ID,Status,Description\nm-1,DELIVRD,"two\nlines"\nm-2,DELIVRD\n\nm-3,DELIVRD,\n'

    summary = import_send_details(io.StringIO(text))

    assert declined == [True]
    assert (summary.rows, summary.imported, summary.rejected) == (3, 2, 1)
    assert summary.rejections == [(4, "expected 3 cells like the header, found 2")]


def test_large_batches_are_stored_in_line_ranges(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(send_details_copy, "LINES_PER_BATCH", 3)
    text = "SMS ID,Status\n" + "".join(f"m-{n % 5},DELIVRD\n" for n in range(10)) + "m-1,UNDELIV"

    summary = import_send_details(io.StringIO(text))

    assert (summary.rows, summary.imported, summary.duplicates) == (11, 6, 5)
    assert StatusReport.objects.filter(matched_at__isnull=False).count() == 0

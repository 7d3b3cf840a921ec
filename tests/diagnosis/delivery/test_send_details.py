"""The Send Details CSV import: header aliases, row validation, deduplication, memory, the command."""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from pytest_django import Settings

from diagnosis.delivery import ingest
from diagnosis.delivery.send_details import (
    DEFAULT_COLUMNS,
    MAX_REJECTIONS,
    ImportSummary,
    SendDetailsError,
    column_mapping,
    header_key,
    import_send_details,
)
from diagnosis.models import ReportChannel, StatusReport
from tests.diagnosis.conftest import MSG_ID, store_report

ENGLISH = "smsMsgId,Recipient Number,Send Time,Status,Description,Update Time\n"
CHINESE = "消息ID,接收号码,发送时间,状态码,状态描述,状态报告时间\n"


def run(text: str, **options: Any) -> ImportSummary:
    return import_send_details(io.StringIO(text), **options)


def test_english_headers(db: None) -> None:
    summary = run(
        ENGLISH
        + f"{MSG_ID},+4915123456789,2024-05-01 08:00:00, delivrd ,Delivered,2024-05-01T08:00:05Z\n"
        + "second-id,18612345678,2024/05/01 08:01:00,E200027,,2024-05-01T08:01:05+08:00\n"
    )

    assert (summary.rows, summary.imported, summary.duplicates, summary.rejected) == (2, 2, 0, 0)
    report = StatusReport.objects.get(msg_id=MSG_ID)
    assert report.channel == ReportChannel.IMPORT
    assert (report.status, report.status_desc, report.to_number) == ("DELIVRD", "Delivered", "+4915123456789")
    assert report.updated_at == datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)
    assert report.dedupe_key == f"{MSG_ID}|1|DELIVRD|20240501T080005Z"
    assert report.raw["Status"] == " delivrd "
    second = StatusReport.objects.get(msg_id="second-id")
    # Send Details writes mainland numbers without the country code.
    assert second.to_number == "+8618612345678"
    assert second.updated_at == datetime(2024, 5, 1, 0, 1, 5, tzinfo=UTC)


def test_chinese_headers_with_a_bom(db: None) -> None:
    summary = run("\ufeff" + CHINESE + f"{MSG_ID},2412000000,2024-05-01 08:00:00,UNDELIV,失败,\n")

    assert summary.imported == 1
    assert summary.columns["msg_id"] == "消息ID"
    report = StatusReport.objects.get()
    assert (report.status, report.status_desc, report.updated_at) == ("UNDELIV", "失败", None)
    # International numbers come with the country code but without "+".
    assert report.to_number == "+2412000000"
    assert report.dedupe_key == f"{MSG_ID}|1|UNDELIV|-"


@pytest.mark.parametrize(
    ("written", "alias"),
    [
        (" SMS_ID ", "SMS ID"),
        ("sms_msg_id", "smsMsgId"),
        ("STATUS CODE", "Status Code"),
        ("消息 ID", "消息ID"),
    ],
)
def test_header_matching_ignores_case_spaces_and_underscores(written: str, alias: str) -> None:
    assert header_key(written) == header_key(alias)


def test_unknown_columns_are_kept_in_raw(db: None) -> None:
    run("Signature,SMS ID,Status,Charged,Template ID\nAcme,m-1,DELIVRD,0,8ff55eac1d0b478ab3c06c3c6a492300\n")

    report = StatusReport.objects.get()
    assert report.raw == {
        "Signature": "Acme",
        "SMS ID": "m-1",
        "Status": "DELIVRD",
        "Charged": "0",
        "Template ID": "8ff55eac1d0b478ab3c06c3c6a492300",
    }
    assert (report.to_number, report.updated_at) == ("", None)


def test_a_missing_required_header_is_named_with_the_accepted_names(db: None) -> None:
    with pytest.raises(SendDetailsError) as error:
        run("Recipient,Result,Send Time\n+4915123456789,DELIVRD,2024-05-01 08:00:00\n")

    message = str(error.value)
    assert message.startswith("This file has no column for the message ID or the status.")
    assert '"smsMsgId", "SMS ID", "Message ID", "消息ID" or "短信ID"' in message
    assert '"Status Code"' in message and '"状态"' in message
    assert 'Your file has "Recipient", "Result", "Send Time".' in message
    # Settings names are for operators (README, the command), never on the page.
    assert "SEND_DETAILS_COLUMNS" not in message and "msg_id" not in message
    assert not StatusReport.objects.exists()


def test_an_empty_file_says_so(db: None) -> None:
    with pytest.raises(SendDetailsError, match="empty"):
        run("\n\n")


def test_bad_rows_are_rejected_with_line_and_reason(db: None) -> None:
    text = (
        ENGLISH
        + "ok-1,+4915123456789,2024-05-01 08:00:00,DELIVRD,,2024-05-01 08:00:05\n"  # line 2
        + ",+4915123456789,,DELIVRD,,\n"  # 3
        + f"{'x' * 65},,,DELIVRD,,\n"  # 4
        + "m-5,,,  ,,\n"  # 5
        + f"m-6,,,{'E' * 33},,\n"  # 6
        + "m-7,,yesterday,DELIVRD,,\n"  # 7: kept; the send time is only kept in raw
        + "m-8,,,DELIVRD,,2024-13-01 08:00:00\n"  # 8: kept, without an update time
        + "m-9,,,DELIVRD\n"  # 9
        + '"m-10",,,DELIVRD,"two\nlines",\n'  # 10-11: one row on two lines
        + "\n"  # 12: blank lines are skipped
        + "m-13,,,DELIVRD,,,extra\n"  # 13
        + "m-14,not a number,,DELIVRD,,\n"  # 14: kept, without E.164
        + f"\ufeff{ENGLISH}"  # 15: a second export appended to the first
    )

    summary = run(text)

    assert summary.rejections == [
        (3, "the message id is empty"),
        (4, "the message id is 65 characters long; at most 64 fit"),
        (5, "the status is empty"),
        (6, f"the status {'E' * 33!r} is longer than 32 characters"),
        (9, "expected 6 cells like the header, found 4"),
        (13, "expected 6 cells like the header, found 7"),
        (15, "the header row again (were files joined together?)"),
    ]
    assert (summary.rows, summary.imported, summary.rejected, summary.unreadable_numbers) == (12, 5, 7, 1)
    assert summary.unreadable_times == 1
    assert sorted(StatusReport.objects.values_list("msg_id", flat=True)) == [
        "m-10",
        "m-14",
        "m-7",
        "m-8",
        "ok-1",
    ]
    kept = StatusReport.objects.get(msg_id="m-14")
    assert (kept.to_number, kept.raw["Recipient Number"]) == ("", "not a number")
    text_summary = str(summary)
    assert "Rejected: 7" in text_summary and "  line 3: the message id is empty" in text_summary
    assert "Numbers not understood (stored without E.164, kept in raw): 1" in text_summary
    assert "Update times not understood (stored without one, kept in raw): 1" in text_summary


def test_a_row_whose_update_time_cannot_be_read_is_kept_without_one(db: None) -> None:
    row = f"{MSG_ID},+4915123456789,about eight,DELIVRD,,2024-13-01 08:00:00\n"

    first = run(ENGLISH + row)
    again = run(ENGLISH + row)

    assert (first.imported, first.rejected, first.unreadable_times) == (1, 0, 1)
    assert (again.imported, again.duplicates) == (0, 1)  # the same row again is the same report
    report = StatusReport.objects.get()
    assert (report.updated_at, report.to_number) == (None, "+4915123456789")
    assert (report.raw["Update Time"], report.raw["Send Time"]) == ("2024-13-01 08:00:00", "about eight")
    assert report.dedupe_key != f"{MSG_ID}|1|DELIVRD|-"


def test_times_are_read_like_callback_times(db: None) -> None:
    run(ENGLISH + f"{MSG_ID},,,DELIVRD,,2024-05-01 16:00:05.250 +0800\n", timezone_name="Asia/Shanghai")

    assert StatusReport.objects.get().updated_at == datetime(2024, 5, 1, 8, 0, 5, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("447700900123", "+447700900123"),  # possible, though not in the library's plan: kept
        ("+44 7700 900123", "+447700900123"),
        ("13800138000", "+8613800138000"),  # a mainland mobile, read as one
        ("4915123456789", "+4915123456789"),
    ],
)
def test_numbers_are_kept_when_possible_preferring_a_known_reading(db: None, written: str, e164: str) -> None:
    summary = run(ENGLISH + f"{MSG_ID},{written},,DELIVRD,,\n")

    assert summary.unreadable_numbers == 0
    assert StatusReport.objects.get().to_number == e164


def test_only_the_first_rejections_are_kept(db: None) -> None:
    summary = run("SMS ID,Status\n" + ",DELIVRD\n" * (MAX_REJECTIONS + 5))

    assert summary.rejected == MAX_REJECTIONS + 5
    assert len(summary.rejections) == MAX_REJECTIONS
    assert summary.rejections[-1] == (MAX_REJECTIONS + 1, "the message id is empty")
    assert summary.lines(max_reasons=2)[-1] == f"  ... and {MAX_REJECTIONS + 3} more rejected rows"


def test_duplicates_in_one_file_and_across_imports(db: None) -> None:
    text = (
        "SMS ID,Status,Update Time\n"
        "m-1,DELIVRD,2024-05-01T08:00:05Z\n"
        "m-1,delivrd,2024-05-01 08:00:05\n"  # the same report, written differently
        "m-1,UNDELIV,2024-05-01T08:00:05Z\n"
        "m-2,DELIVRD,2024-05-01T08:00:05Z\n"
        "m-2,DELIVRD,2024-05-01T08:00:05Z\n"
    )

    first = run(text, batch_size=2)
    again = run(text, batch_size=2)

    assert (first.rows, first.imported, first.duplicates) == (5, 3, 2)
    assert (again.rows, again.imported, again.duplicates) == (5, 0, 5)
    assert StatusReport.objects.count() == 3
    # Of a report repeated in the file, the first row is the one kept.
    assert StatusReport.objects.get(msg_id="m-1", status="DELIVRD").raw["Status"] == "DELIVRD"


def test_a_row_is_the_report_a_callback_with_the_same_fields_makes(db: None, settings: Settings) -> None:
    settings.SEND_DETAILS_COLUMNS = {"total": "Parts", "sequence": "Part"}
    run(
        "SMS ID,Recipient Number,Status,Description,Update Time,Parts,Part\n"
        "m-1,4915123456789, delivrd ,ok,2024-05-01 16:00:05,2,3\n",
        timezone_name="Asia/Shanghai",
    )
    callback = {
        "smsMsgId": "m-1",
        "to": "+4915123456789",
        "status": "DELIVRD",
        "statusDesc": "ok",
        "updateTime": "2024-05-01T08:00:05Z",
        "total": 2,
        "sequence": 3,
    }

    imported, pushed = StatusReport.objects.get(), ingest.build_report(callback, ReportChannel.CALLBACK)

    fields = ["msg_id", "status", "status_desc", "to_number", "updated_at", "total", "sequence"]
    assert [getattr(imported, name) for name in fields] == [getattr(pushed, name) for name in fields]
    # Part 3 of 2 is kept and flagged either way, and it is one report whichever way it came.
    assert imported.parts_inconsistent and pushed.parts_inconsistent
    assert imported.dedupe_key == pushed.dedupe_key


def test_a_report_already_received_by_callback_is_a_duplicate(db: None) -> None:
    store_report(MSG_ID, "DELIVRD", updated_at=datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC))

    summary = run(
        f"SMS ID,Status,Update Time\n{MSG_ID},DELIVRD,2024-05-01 16:00:05\n", timezone_name="Asia/Shanghai"
    )

    assert (summary.imported, summary.duplicates) == (0, 1)
    assert StatusReport.objects.get().channel == ReportChannel.CALLBACK


def test_naive_times_are_read_in_the_given_time_zone(db: None) -> None:
    text = (
        "SMS ID,Status,Update Time\n"
        "m-1,DELIVRD,2024-05-01 08:00:05\n"
        "m-2,DELIVRD,2024-05-01T08:00:05+02:00\n"
        "m-3,DELIVRD,2024-01-15 08:00:05\n"
    )

    run(text, timezone_name="Europe/Berlin")

    times = dict(StatusReport.objects.values_list("msg_id", "updated_at"))
    assert times["m-1"] == datetime(2024, 5, 1, 6, 0, 5, tzinfo=UTC)  # summer time, UTC+2
    assert times["m-2"] == datetime(2024, 5, 1, 6, 0, 5, tzinfo=UTC)  # an explicit offset wins
    assert times["m-3"] == datetime(2024, 1, 15, 7, 0, 5, tzinfo=UTC)  # winter time, UTC+1


def test_an_unknown_time_zone_is_refused(db: None) -> None:
    with pytest.raises(SendDetailsError, match="Unknown time zone 'Mars/Olympus'"):
        run("SMS ID,Status\nm-1,DELIVRD\n", timezone_name="Mars/Olympus")


def test_on_batch_sees_each_stored_batch(db: None) -> None:
    seen: list[list[str]] = []

    def on_batch(reports: list[StatusReport]) -> None:
        ids = [report.msg_id for report in reports]
        assert StatusReport.objects.filter(msg_id__in=ids).count() == len(ids)
        seen.append(ids)

    text = "SMS ID,Status\nm-1,DELIVRD\nm-2,DELIVRD\nm-1,DELIVRD\nm-3,DELIVRD\nm-4,DELIVRD\n"
    run(text, batch_size=2, on_batch=on_batch)

    assert seen == [["m-1", "m-2"], ["m-3"], ["m-4"]]


def test_semicolon_separated_files_are_read(db: None) -> None:
    assert run("SMS ID;Status;Description\nm-1;DELIVRD;ok, delivered\n").imported == 1
    assert StatusReport.objects.get().status_desc == "ok, delivered"


def test_settings_add_aliases_in_front(db: None, settings: Settings) -> None:
    settings.SEND_DETAILS_COLUMNS = {"msg_id": "Auftrags-ID", "status": ("Ergebnis",)}

    mapping = column_mapping()
    assert mapping["msg_id"] == ("Auftrags-ID", *DEFAULT_COLUMNS["msg_id"])
    assert mapping["number"] == DEFAULT_COLUMNS["number"]
    summary = run("Auftrags-ID,Status,Ergebnis\nm-1,SENDING,DELIVRD\n")
    assert summary.columns == {"msg_id": "Auftrags-ID", "status": "Ergebnis"}
    assert StatusReport.objects.get().status == "DELIVRD"

    settings.SEND_DETAILS_COLUMNS = {"msgid": ("x",)}
    with pytest.raises(ImproperlyConfigured, match="unknown fields \\['msgid'\\]"):
        column_mapping()


# The management command ---------------------------------------------------------


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_command_imports_and_prints_the_summary(db: None, tmp_path: Path) -> None:
    path = write(
        tmp_path / "send-details.csv",
        CHINESE + f"{MSG_ID},13800138000,2024-05-01 16:00:00,DELIVRD,成功,2024-05-01 16:00:05\n,,,,,x\n",
        "utf-8-sig",
    )
    out = io.StringIO()

    call_command(
        "import_send_details", str(path), "--timezone", "Asia/Shanghai", "--batch-size", "1", stdout=out
    )

    output = out.getvalue()
    assert "Imported: 1" in output and "Duplicates (already stored, or repeated in the file): 0" in output
    assert "Rejected: 1\n  line 3: the message id is empty" in output
    assert StatusReport.objects.get().updated_at == datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)

    out = io.StringIO()
    call_command("import_send_details", str(path), "--timezone", "Asia/Shanghai", stdout=out)
    output = out.getvalue()
    assert "Imported: 0" in output and "Duplicates (already stored, or repeated in the file): 1" in output


def test_command_reads_other_encodings(db: None, tmp_path: Path) -> None:
    path = write(tmp_path / "gbk.csv", ENGLISH + "m-1,,,DELIVRD,成功,\n", "gb18030")

    with pytest.raises(CommandError, match=r"is not utf-8-sig text \(line 2: .*--encoding gb18030"):
        call_command("import_send_details", str(path))
    assert not StatusReport.objects.exists()

    call_command("import_send_details", str(path), "--encoding", "gb18030", stdout=io.StringIO())
    assert StatusReport.objects.get().status_desc == "成功"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.csv"], "No such file: missing.csv"),
        (["{file}", "--encoding", "klingon"], "Unknown encoding 'klingon'"),
        (["{file}", "--timezone", "Mars/Olympus"], "Unknown time zone"),
        (["{file}", "--batch-size", "0"], "must be at least 1"),
        (
            ["{headerless}"],
            'no column for the status. We look for columns named "Status Code".*SEND_DETAILS_COLUMNS',
        ),
    ],
)
def test_command_errors_are_clear(db: None, tmp_path: Path, arguments: list[str], message: str) -> None:
    paths = {
        "file": write(tmp_path / "ok.csv", "SMS ID,Status\nm-1,DELIVRD\n"),
        "headerless": write(tmp_path / "headerless.csv", "SMS ID,Result\nm-1,DELIVRD\n"),
    }
    arguments = [argument.format(**paths) for argument in arguments]

    with pytest.raises(CommandError, match=message):
        call_command("import_send_details", *arguments)
    assert not StatusReport.objects.exists()


def test_command_exits_non_zero(db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "import_send_details", str(tmp_path / "nope.csv")]).execute()

    assert exit_info.value.code == 1
    assert "CommandError: No such file:" in capsys.readouterr().err


# Size ---------------------------------------------------------------------------

BIG = 100_000
# Recipients repeat in a real export too; each distinct number is parsed once (see e164_or_blank).
RECIPIENTS = 2_000


def big_rows(count: int) -> Iterator[list[str]]:
    yield ["smsMsgId", "Recipient Number", "Send Time", "Status", "Description", "Update Time", "Signature"]
    for index in range(count):
        recipient = index * 7919 % RECIPIENTS
        number = f"138{recipient:08d}" if recipient % 2 else f"49151{recipient:08d}"
        status = "DELIVRD" if index % 10 else "UNDELIV"
        yield [f"{MSG_ID}_{index}", number, "2024-05-01 08:00:00", status, "", "2024-05-01T08:00:05Z", "Acme"]


@pytest.mark.slow
def test_a_large_file_is_imported_in_constant_memory(db: None, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(big_rows(BIG))

    # Resident memory sampled after every stored batch: it must not grow with the rows read.
    # (tracemalloc would measure allocations exactly but makes this import five times slower.)
    page_size = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * page_size

    samples: list[int] = []
    with path.open(newline="", encoding="utf-8") as handle:
        start_rss = resident()
        started = time.perf_counter()
        first = import_send_details(handle, on_batch=lambda reports: samples.append(resident()))
        elapsed = time.perf_counter() - started
    growth = max(samples) - start_rss
    late_growth = max(samples) - samples[len(samples) // 5]
    print(f"\n{BIG} rows: {elapsed:.1f} s, resident memory grew {growth / 2**20:.1f} MiB")

    assert (first.rows, first.imported, first.duplicates, first.rejected) == (BIG, BIG, 0, 0)
    assert growth < 60 * 2**20
    # After the first fifth of the file, memory no longer grows with the rows read.
    assert late_growth < 16 * 2**20
    assert StatusReport.objects.count() == BIG
    assert StatusReport.objects.filter(to_number="").count() == 0

    with path.open(newline="", encoding="utf-8") as handle:
        again = import_send_details(handle)
    assert (again.rows, again.imported, again.duplicates) == (BIG, 0, BIG)


def test_control_characters_never_crash_the_import(db: None) -> None:
    """A NUL or a lone surrogate in any cell: the row is kept with the text escaped, or refused."""
    summary = run(
        ENGLISH
        + "nul-desc,+4915123456789,,DELIVRD,bad\x00desc,\n"  # 2: kept, escaped
        + "nul\x00id,,,DELIVRD,,\n"  # 3: a message id with a NUL is no message id
        + "nul-status,,,DELI\x00VRD,,\n"  # 4
        + "surrogate,,,DELIVRD,\ud800,\n"  # 5: kept, escaped
    )

    assert summary.rejections == [
        (3, "the message id holds control characters"),
        (4, "the status holds control characters"),
    ]
    kept = StatusReport.objects.get(msg_id="nul-desc")
    assert kept.status_desc == "bad\\x00desc" and kept.raw["Description"] == "bad\\x00desc"
    assert StatusReport.objects.get(msg_id="surrogate").status_desc == "\\ud800"

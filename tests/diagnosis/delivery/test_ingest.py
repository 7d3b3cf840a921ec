"""Reading one report: the time, source and part-number variants a report is kept with."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from diagnosis.delivery import ingest, insert_new
from diagnosis.models import ReportChannel, StatusReport

FIVE_PAST = datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)


def report(**fields: object) -> StatusReport:
    return ingest.build_report({"smsMsgId": "m-1", "status": "DELIVRD", **fields}, ReportChannel.CALLBACK)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("2024-05-01T08:00:05Z", FIVE_PAST),
        ("2024-05-01T08:00:05.123Z", FIVE_PAST.replace(microsecond=123000)),
        ("2024-05-01T08:00:05,123456789Z", FIVE_PAST.replace(microsecond=123456)),
        ("2024-05-01 08:00:05", FIVE_PAST),
        ("2024-05-01T08:00:05", FIVE_PAST),
        ("2024-05-01t08:00:05z", FIVE_PAST),
        ("2024/05/01 08:00:05 UTC", FIVE_PAST),
        ("2024-5-1 8:00:05", FIVE_PAST),
        ("2024-05-01T08:00Z", FIVE_PAST.replace(second=0)),
        ("2024-05-01T16:00:05+08:00", FIVE_PAST),
        ("2024-05-01T16:00:05+0800", FIVE_PAST),
        ("2024-05-01 16:00:05.5 +08", FIVE_PAST.replace(microsecond=500000)),
        ("2024-05-01T03:30:05-04:30", FIVE_PAST),
        ("1714550405", FIVE_PAST),
        ("1714550405123", FIVE_PAST.replace(microsecond=123000)),
        (1714550405123, FIVE_PAST.replace(microsecond=123000)),
        (1714550405, FIVE_PAST),
        ("  2024-05-01T08:00:05Z ", FIVE_PAST),
        ("", None),
        (None, None),
    ],
)
def test_update_time_variants_are_read(sent: object, expected: datetime | None) -> None:
    assert ingest.parse_time(sent) == expected
    if expected is not None:
        parsed = ingest.parse_time(sent)
        assert parsed is not None and parsed.tzinfo is UTC


def test_a_time_without_a_zone_is_read_in_the_zone_given() -> None:
    assert ingest.parse_time("2024-05-01 16:00:05", ZoneInfo("Asia/Shanghai")) == FIVE_PAST
    assert ingest.parse_time("2024-05-01T08:00:05Z", ZoneInfo("Asia/Shanghai")) == FIVE_PAST


@pytest.mark.parametrize(
    "sent",
    [
        "yesterday",
        "2024-13-01T08:00:05Z",
        "2024-05-01T08:00:05+25:00",
        "0001-01-01T00:00:00+01:00",
        "20240501080005",
        "123",
        "99999999999999",
        0,
        True,
        float("nan"),
        {"at": "2024-05-01T08:00:05Z"},
        ["2024-05-01T08:00:05Z"],
        "2024-05-01T08:00:05Z\x00",
    ],
)
def test_what_is_not_a_time_is_refused(sent: object) -> None:
    with pytest.raises(ValueError):
        ingest.parse_time(sent)


@pytest.mark.parametrize("sent", ["yesterday", "2024-13-01T08:00:05Z", "\x00", {"a": 1}, 12])
def test_an_unreadable_update_time_keeps_the_report_without_a_time(sent: object) -> None:
    kept = report(updateTime=sent)

    assert kept.updated_at is None
    assert kept.raw["updateTime"] == ingest.clean_json(sent)
    # Delivered again, it is the same report; it is not the platform's own report without a time.
    assert kept.dedupe_key == report(updateTime=sent).dedupe_key
    assert kept.dedupe_key != report().dedupe_key
    assert kept.dedupe_key.startswith("m-1|1|DELIVRD|?")


def test_the_same_report_written_with_or_without_milliseconds_is_one_report() -> None:
    keys = {
        report(updateTime=sent).dedupe_key
        for sent in ("2024-05-01T08:00:05Z", "2024-05-01T08:00:05.123Z", "2024-05-01 16:00:05+08:00")
    }
    assert keys == {"m-1|1|DELIVRD|20240501T080005Z"}


@pytest.mark.parametrize(
    ("source", "stored", "label"),
    [
        ("1", "1", "SMS platform"),
        (2, "2", "SMS center (carrier)"),
        ("4", "4", "unknown origin (4)"),
        (" carrier-x ", "carrier-x", "unknown origin (carrier-x)"),
        ("s" * 40, "s" * 16, f"unknown origin ({'s' * 16})"),
        (None, "", ""),
    ],
)
def test_any_source_is_kept_as_sent(source: object, stored: str, label: str) -> None:
    kept = report(source=source)

    assert kept.origin == stored
    assert kept.origin_label() == label


@pytest.mark.parametrize(
    ("parts", "total", "sequence", "inconsistent"),
    [
        ({}, 1, 1, False),
        ({"total": "3", "sequence": "2"}, 3, 2, False),
        ({"total": 3, "sequence": 3.0}, 3, 3, False),
        ({"total": "1", "sequence": "2"}, 1, 2, True),
        ({"total": "2", "sequence": "0"}, 2, 0, True),
        ({"total": "0", "sequence": "1"}, 0, 1, True),
        ({"total": "two", "sequence": "1"}, 0, 1, True),
        ({"total": "2", "sequence": "-1"}, 2, 0, True),
        ({"total": "²", "sequence": "1"}, 0, 1, True),
        ({"total": "9" * 5000, "sequence": "1"}, 0, 1, True),
        ({"total": True}, 0, 1, True),
        ({"total": "120", "sequence": "101"}, 120, 101, False),
    ],
)
def test_part_numbers_that_do_not_add_up_are_kept_and_flagged(
    parts: dict[str, object], total: int, sequence: int, inconsistent: bool
) -> None:
    kept = report(**parts)

    assert (kept.total, kept.sequence, kept.parts_inconsistent) == (total, sequence, inconsistent)
    assert kept.dedupe_key.startswith(f"m-1|{sequence}|DELIVRD|")


def test_parts_are_labelled_for_people() -> None:
    assert report(total="1", sequence="2").parts_label() == "part 2 of 1 as sent: the numbers do not add up"
    assert report(total="x", sequence="x").parts_label().startswith("part ? of ?")
    assert report(total="2", sequence="1").parts_label() == "part 1/2"
    assert report().parts_label() == ""


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"status": "DELIVRD"}, "smsMsgId is missing"),
        ({"smsMsgId": "m-1"}, "status is missing"),
        ({"smsMsgId": "m\x001", "status": "DELIVRD"}, "smsMsgId holds control characters"),
        ({"smsMsgId": ["m-1"], "status": "DELIVRD"}, "smsMsgId must be a string, got a list"),
        ({"smsMsgId": "m-1", "status": "X" * 33}, "status is longer than 32"),
        (["m-1", "DELIVRD"], "a report must be an object, got a list"),
        ("m-1", "a report must be an object, got a str"),
        (None, "a report must be an object, got a NoneType"),
    ],
)
def test_a_batch_is_read_report_by_report(item: object, reason: str) -> None:
    good = {"smsMsgId": "m-2", "status": "DELIVRD"}

    reports, unreadable = ingest.read_batch([good, item, good], ReportChannel.CALLBACK)

    assert [r.msg_id for r in reports] == ["m-2", "m-2"]
    assert [(u.index, u.item) for u in unreadable] == [(2, item)]
    assert reason in unreadable[0].reason


# --- Storing: one INSERT … ON CONFLICT DO NOTHING RETURNING ------------------------------


def _report(msg_id: str, status: str = "DELIVRD", desc: str = "") -> StatusReport:
    data = {"smsMsgId": msg_id, "status": status, "updateTime": "2024-05-01T08:00:05Z", "statusDesc": desc}
    return ingest.build_report(data, ReportChannel.CALLBACK)


@pytest.mark.django_db
@pytest.mark.parametrize("returning", [True, False], ids=["insert-returning", "lookup-first"])
def test_store_lists_what_it_inserted_now_and_keeps_the_first_of_a_repeated_report(
    returning: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lookup-first path is what an SQLite older than 3.35 (no RETURNING) takes.
    monkeypatch.setattr(insert_new, "supported", lambda: returning)
    ingest.store([_report("m-1")])

    result = ingest.store([_report("m-1"), _report("m-2", desc="first"), _report("m-2", desc="second")])

    assert [r.msg_id for r in result.new] == ["m-2"]
    assert result.keys == ("m-1|1|DELIVRD|20240501T080005Z", "m-2|1|DELIVRD|20240501T080005Z")
    assert result.msg_ids == ("m-1", "m-2")
    stored = StatusReport.objects.get(msg_id="m-2")
    assert stored.status_desc == "first"
    assert stored.raw["statusDesc"] == "first"
    assert stored.updated_at == datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)
    if returning:
        assert result.new[0].pk == stored.pk
    assert StatusReport.objects.count() == 2
    assert ingest.store([]).new == ()


@pytest.mark.django_db
def test_store_keeps_every_field_as_built() -> None:
    report = _report("m-odd", desc="tab\there, quote ' and \" and \\ and émoji 🙂")
    report.to_number, report.total, report.sequence, report.parts_inconsistent = "+8613800138000", 2, 3, True
    report.raw = {**report.raw, "nested": {"list": [1, 2.5, None, True, "x"]}, "big": 10**30}

    (stored,) = ingest.store([report]).new

    again = StatusReport.objects.get(pk=stored.pk)
    for field in StatusReport._meta.concrete_fields:
        assert getattr(again, field.attname) == getattr(report, field.attname), field.name


def test_a_built_report_names_every_field_it_does_not_leave_to_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `_new_report` passes values by position: a field added to the model must be added here too.
    named: list[set[str]] = []
    build = ingest._new_report

    def noting(values: dict[str, object]) -> StatusReport:
        named.append(set(values))
        return build(values)

    monkeypatch.setattr(ingest, "_new_report", noting)
    built = report(total="2", sequence="1", updateTime="2024-05-01T08:00:05Z", to="+8613800138000")

    assert named == [{f.attname for f in StatusReport._meta.concrete_fields} - ingest._UNSET]
    for name in ingest._UNSET:
        fields = {f.attname: f for f in StatusReport._meta.concrete_fields}
        assert fields[name].get_default() is None
        assert getattr(built, name) is None
    assert built._state.adding
    assert (built.total, built.sequence, built.updated_at) == (2, 1, FIVE_PAST)
    assert built.to_number == "+8613800138000"

"""CSV exports: the filtered queue and the causes report, their contents, and that they stream."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pytest_django import Settings

from diagnosis.cases import services
from diagnosis.guide import Guide
from diagnosis.leads import exports
from diagnosis.models import Case, CaseState
from tests.diagnosis.conftest import MSG_ID, route_to, store_report, walk_to
from tests.diagnosis.leads.test_dashboard import bulk_cases

pytestmark = pytest.mark.django_db


def read_csv(response: HttpResponseBase) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = response.getvalue().decode("utf-8")
    assert body.startswith("\ufeff")  # spreadsheets need the BOM to read UTF-8
    return list(csv.DictReader(io.StringIO(body[1:])))


@pytest.fixture
def agent_client(client: Client, agent: User) -> Client:
    client.force_login(agent)
    return client


@pytest.fixture
def lead_client(client: Client, lead: User) -> Client:
    client.force_login(lead)
    return client


def test_queue_export_streams_the_queue_as_filtered(
    agent_client: Client, make_case: Callable[..., Case], agent: User, settings: Settings
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    mine = make_case(number="+4915123456789")
    services.assign(mine.pk, assignee=agent, actor=agent, claim=True)
    make_case(number="+33612345678", msg_ids=("other",))

    response = agent_client.get("/cases/export.csv", {"tab": "mine"})

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="cases-mine.csv"'
    rows = read_csv(response)
    assert len(rows) == 1
    row = rows[0]
    assert row["Case"] == mine.reference
    assert (row["State"], row["Assigned to"], row["Customer"]) == ("New", "avery", "Dana Customer")
    assert (row["Numbers"], row["Countries"], row["Carriers"]) == ("+4915123456789", "DE", "T-Mobile")
    opened = mine.created_at.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M:%S")
    assert row["Opened (Europe/Berlin)"] == opened


def test_queue_export_takes_every_page_and_the_queue_order(agent_client: Client, db: None) -> None:
    cases = bulk_cases(30, timezone.now())  # more than one page of 25, cases[0] newest

    oldest_first = read_csv(agent_client.get("/cases/export.csv?tab=all"))
    newest_first = read_csv(agent_client.get("/cases/export.csv?tab=all&sort=newest"))

    assert len(oldest_first) == 30
    assert oldest_first[0]["Case"] == cases[-1].reference
    assert newest_first[0]["Case"] == cases[0].reference


def test_queue_export_uses_the_same_search_and_filters(
    agent_client: Client, make_case: Callable[..., Case], agent: User
) -> None:
    wanted = make_case(number="+14155550123", msg_ids=("x",))
    waiting = walk_to(make_case(), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)

    by_number = read_csv(agent_client.get("/cases/export.csv", {"tab": "all", "q": "+1 415 555 0123"}))
    by_filter = read_csv(agent_client.get("/cases/export.csv", {"tab": "all", "q": "state:waiting"}))

    assert [r["Case"] for r in by_number] == [wanted.reference]
    assert [r["Case"] for r in by_filter] == [waiting.reference]
    assert by_filter[0][next(k for k in by_filter[0] if k.startswith("Wait deadline"))]


def test_cells_that_look_like_formulas_stay_text(
    agent_client: Client, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    Case.objects.filter(pk=case.pk).update(reporter_name='=HYPERLINK("http://x.example","Click")')

    row = read_csv(agent_client.get("/cases/export.csv?tab=all"))[0]

    assert row["Customer"] == '\'=HYPERLINK("http://x.example","Click")'
    assert row["Numbers"] == "+4915123456789"  # a signed number is not a formula


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("-12.5", "-12.5"),
        ("+49 151", "+49 151"),
        (None, ""),
        ("a;=1+1", "a;'=1+1"),  # German Excel splits on ";": the second cell would be a formula
        ("x,@cmd|' /C calc'!A0", "x,'@cmd|' /C calc'!A0"),
        ("a\t-2+3|b", "a\t'-2+3|b"),
        ("Rosa; =HYPERLINK(1)", "Rosa; '=HYPERLINK(1)"),
        ("a;\0=1", "a;'\0=1"),  # a NUL some spreadsheets skip before a formula
        ("+4915123456789 +14155550123", "'+4915123456789 +14155550123"),
        ("+4915123456789;+14155550123", "+4915123456789;+14155550123"),
        ("Lima, Rosa", "Lima, Rosa"),
        ("-", "'-"),
    ],
)
def test_safe_cell(value: object, cell: str) -> None:
    assert exports.safe_cell(value) == cell


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
SEPARATORS = re.compile(r"[,;\t|\r\n]")


# Mostly the characters that matter, so that separators next to formula starts are common.
@given(st.text(alphabet=st.sampled_from("=+-@\t\r\0\n,;| 'a1.")) | st.text())
def test_no_piece_of_a_cell_starts_a_formula_whatever_the_separator(text: str) -> None:
    cell = exports.safe_cell(text)

    for piece in SEPARATORS.split(cell):
        body = piece.lstrip(" ")
        assert not body.startswith(FORMULA_START) or re.fullmatch(r"[+-]\d[\d .]*", body), (text, cell)
    # Only apostrophes are added, so the text stays readable.
    assert cell.replace("'", "") == text.replace("'", "")


@given(st.from_regex(r"\A[A-Za-z0-9 .]*\Z") | st.from_regex(r"\A\+[1-9]\d{6,14}\Z"))
def test_plain_text_numbers_and_phone_numbers_are_unchanged(text: str) -> None:
    assert exports.safe_cell(text) == text


def test_a_formula_after_a_semicolon_stays_text_in_the_download(
    agent_client: Client, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    Case.objects.filter(pk=case.pk).update(reporter_name='Rosa;=HYPERLINK("http://x.example")')

    row = read_csv(agent_client.get("/cases/export.csv?tab=all"))[0]

    assert row["Customer"] == 'Rosa;\'=HYPERLINK("http://x.example")'


def test_causes_export_lists_the_cases_behind_the_report(
    lead_client: Client, make_case: Callable[..., Case], guide: Guide, agent: User, lead: User
) -> None:
    resolved = walk_to(make_case(), route_to(guide, "R_inbox_full"), agent)
    assert resolved.resolved_at is not None
    Case.objects.filter(pk=resolved.pk).update(created_at=resolved.resolved_at - timedelta(hours=5))
    escalated = make_case(msg_ids=("limit-1",))
    store_report("limit-1", "LIMIT")
    walk_to(escalated, route_to(guide, "E_frequency_limit"), agent)
    old = make_case(msg_ids=("old",))
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=20))
    store_report(MSG_ID, "DELIVRD")

    response = lead_client.get("/leads/export.csv", {"days": 7})

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith('attachment; filename="causes-7-days-to-')
    rows = {r["Case"]: r for r in read_csv(response)}
    assert set(rows) == {resolved.reference, escalated.reference}  # the 20-day-old case is outside
    first = rows[resolved.reference]
    assert (first["Result"], first["Cause"], first["Outcome"]) == (
        "Resolved by support",
        "inbox_full",
        "The inbox was full",
    )
    assert (first["Hours to outcome"], first["Final status code"], first["State"]) == (
        "5.0",
        "DELIVRD",
        "Resolved",
    )
    second = rows[escalated.reference]
    assert (second["Result"], second["Final status code"]) == ("Handed to customer service", "LIMIT")
    assert len(read_csv(lead_client.get("/leads/export.csv", {"days": 30}))) == 3


def test_causes_export_finds_final_statuses_across_chunks(lead_client: Client, db: None) -> None:
    cases = bulk_cases(exports.CHUNK_SIZE + 20, timezone.now() - timedelta(hours=1), status="UNDELIV")

    rows = read_csv(lead_client.get("/leads/export.csv"))

    assert len(rows) == len(cases)
    assert {r["Final status code"] for r in rows} == {"UNDELIV"}
    assert [r["Case"] for r in rows[:2]] == [cases[-1].reference, cases[-2].reference]  # oldest first


def test_the_export_is_written_while_it_is_read(lead_client: Client, make_case: Callable[..., Case]) -> None:
    make_case()
    response: HttpResponseBase = lead_client.get("/leads/export.csv")

    assert isinstance(response, StreamingHttpResponse)
    content = response.streaming_content
    assert isinstance(content, Iterator)  # a synchronous stream
    chunks = iter(content)
    header = next(chunks).decode()

    assert header.startswith("\ufeffCase,State,Opened")
    assert next(chunks).decode().startswith("SMS-")
    with pytest.raises(AttributeError):
        response.content  # noqa: B018 - a streamed response never holds the whole body


def test_a_closed_case_shows_its_state_in_the_causes_export(
    lead_client: Client, make_case: Callable[..., Case], guide: Guide, agent: User, lead: User
) -> None:
    case = walk_to(make_case(), route_to(guide, "R_no_signal"), agent)
    services.close_case(case.pk, actor=lead)

    row = read_csv(lead_client.get("/leads/export.csv"))[0]

    assert (row["State"], row["Cause"]) == (CaseState.CLOSED.label, "no_signal")

"""Erasing a customer's personal data: `manage.py erase_customer` and the rules in cases.erasure."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from diagnosis.cases import erasure, escalations, services
from diagnosis.delivery import numbers
from diagnosis.guide import Guide
from diagnosis.leads import exports, trends
from diagnosis.models import (
    AnswerRecord,
    AppendOnlyError,
    Case,
    Escalation,
    Event,
    EventKind,
    OutboundEmail,
    Recipient,
    ReportChannel,
    StatusReport,
)
from diagnosis.support import tickets
from tests.diagnosis.conftest import MSG_ID, route_to, walk_to

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NUMBER = "+4915123456789"
OTHER_MSG = "9bb20735-f856-4376-afbf-570bd70a46ee_11840136"
PERSONAL = ("Rosa Lima", "rosa@example.com", NUMBER, "151 23456789", "call me")


def file_rich_case(agent: User, lead: User, guide: Guide, *, email: str = "rosa@example.com") -> Case:
    """A ticket with everything personal a case can hold, escalated and answered by customer service."""
    case = tickets.file_ticket(
        tickets.Ticket(
            name="Rosa Lima",
            email=email,
            numbers=[numbers.normalise(NUMBER)],
            msg_ids=[MSG_ID],
            sent_at=timezone.now() - timedelta(hours=2),
            sender="ACME",
            template_id="",
            description="My number is +49 151 23456789, call me.",
            screenshot=SimpleUploadedFile("shot.png", PNG, content_type="image/png"),
            self_help={},
        )
    ).case
    tickets.add_customer_message(case.pk, "Rosa again: please call me on +49 151 23456789.")
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    route = route_to(guide, "E_no_report_after_72h")
    (first, value), rest = route[0], route[1:]
    services.answer_step(case.pk, node=first, value=value, actor=agent, notes="Rosa Lima says call me")
    case = walk_to(case, rest, agent)
    services.add_note(case.pk, text="Spoke to Rosa on +4915123456789, call me back", actor=agent)
    services.send_reply(case.pk, text="Dear Rosa, we will call you on +4915123456789.", actor=agent)
    escalation = Escalation.objects.get(case=case)
    escalations.record_answer(
        escalation.pk,
        reference="CS-1",
        answer="Rosa's number +4915123456789 is fine.",
        close=False,
        actor=lead,
    )
    # Reports: one for the case's message, one found by number only, one of an import row.
    stored_report(MSG_ID, "UNDELIV", raw={"smsMsgId": MSG_ID, "status": "UNDELIV", "to": NUMBER})
    stored_report(OTHER_MSG, "DELIVRD", raw={"smsMsgId": OTHER_MSG, "to": NUMBER})
    stored_report(
        "import-row-1",
        "DELIVRD",
        channel=ReportChannel.IMPORT,
        raw={"SMS ID": "import-row-1", "Recipient Number": "0151 2345 6789", "Status": "DELIVRD"},
    )
    case.refresh_from_db()
    return case


def stored_report(msg_id: str, status: str, **fields: Any) -> StatusReport:
    report = StatusReport(msg_id=msg_id, status=status, updated_at=timezone.now(), to_number=NUMBER, **fields)
    report.channel = fields.get("channel", ReportChannel.CALLBACK)
    report.save()
    return report


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def rich_case(media: Path, agent: User, lead: User, guide: Guide) -> Case:
    return file_rich_case(agent, lead, guide)


def everything_stored_about(case: Case) -> str:
    """Every stored text of the case and of the reports on its message or number, as one string."""
    case = Case.objects.get(pk=case.pk)
    rows: list[object] = [
        case.reporter_name,
        case.reporter_email,
        case.description,
        case.screenshot.name,
        *Recipient.objects.filter(case=case).values_list("e164", flat=True),
        *AnswerRecord.objects.filter(case=case).values_list("notes", flat=True),
        *Escalation.objects.filter(case=case).values_list("package", "provider_answer"),
        *Event.objects.filter(case=case).values_list("summary", "data"),
        *OutboundEmail.objects.filter(case=case).values_list("to", "body"),
        *StatusReport.objects.filter(msg_id__in=[MSG_ID, OTHER_MSG, "import-row-1"]).values_list(
            "to_number", "raw"
        ),
    ]
    return json.dumps(rows, default=str)


def causes_without_numbers(period: trends.Period) -> list[list[object]]:
    # The export's "Numbers" column is the one that must change; everything else stays.
    return [row[:9] + row[10:] for row in exports.causes_rows(period)]


def test_erasing_by_email_replaces_personal_data_and_keeps_the_trends(
    rich_case: Case, media: Path, lead: User, django_capture_on_commit_callbacks: Any
) -> None:
    before = everything_stored_about(rich_case)
    assert all(text in before for text in PERSONAL)
    screenshot = media / rich_case.screenshot.name
    assert screenshot.exists() and OutboundEmail.objects.filter(case=rich_case).count() >= 3
    period = trends.Period.ending(30)
    summary, causes = trends.summarise(period), causes_without_numbers(period)
    statuses = trends.final_statuses(Case.objects.filter(pk=rich_case.pk))

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("erase_customer", "Rosa@Example.com", "--by", lead.username, stdout=out)

    assert out.getvalue() == f"{rich_case.reference}: erased\n"
    after = everything_stored_about(rich_case)
    assert not [text for text in PERSONAL if text in after], after
    case = Case.objects.get(pk=rich_case.pk)
    assert (case.reporter_name, case.reporter_email, case.description) == (
        erasure.ERASED_NAME,
        erasure.ERASED_EMAIL,
        erasure.ERASED_TEXT,
    )
    assert not case.screenshot and not screenshot.exists()
    assert not OutboundEmail.objects.filter(case=case).exists()
    # What the trends count stays: state, outcome, cause, status codes, times, countries, carriers.
    assert (case.state, case.outcome, case.cause) == (rich_case.state, rich_case.outcome, rich_case.cause)
    recipient = case.recipients.get()
    assert (recipient.e164, recipient.region) == (f"erased-{recipient.pk}", "DE")
    reports = StatusReport.objects.filter(msg_id__in=[MSG_ID, OTHER_MSG]).order_by("msg_id")
    assert [(r.status, r.to_number, r.raw.get("to")) for r in reports] == [
        ("UNDELIV", recipient.e164, recipient.e164),
        ("DELIVRD", recipient.e164, recipient.e164),
    ]
    assert StatusReport.objects.get(msg_id="import-row-1").raw["Recipient Number"] == recipient.e164
    assert trends.summarise(period) == summary
    assert causes_without_numbers(period) == causes
    assert trends.final_statuses(Case.objects.filter(pk=case.pk)) == statuses
    # The erasure is in the history, by whom, without any of the data.
    erased = case.events.get(kind=EventKind.ERASED)
    assert erased.actor == lead and erased.summary == "Personal data erased (at the customer's request)"
    assert not [text for text in PERSONAL if text in json.dumps([erased.summary, erased.data])]


def test_erasing_by_reference_touches_only_that_case(
    media: Path, agent: User, lead: User, guide: Guide, django_capture_on_commit_callbacks: Any
) -> None:
    mine = file_rich_case(agent, lead, guide)
    other = services.open_case(
        services.NewCase("Rosa Lima", "rosa@example.com", numbers=[numbers.normalise("+14155550123")])
    )

    with django_capture_on_commit_callbacks(execute=True):
        call_command("erase_customer", mine.reference.lower(), stdout=StringIO())

    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.erased_at is not None and mine.reporter_email == erasure.ERASED_EMAIL
    assert other.erased_at is None and other.reporter_email == "rosa@example.com"
    assert other.recipients.get().e164 == "+14155550123"
    assert mine.events.get(kind=EventKind.ERASED).actor is None


def test_a_second_run_changes_nothing(rich_case: Case, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("erase_customer", rich_case.reference, stdout=StringIO())
    first = everything_stored_about(rich_case)
    revision = Case.objects.get(pk=rich_case.pk).revision

    out = StringIO()
    call_command("erase_customer", rich_case.reference, stdout=out)

    assert out.getvalue() == f"{rich_case.reference}: already erased, nothing changed\n"
    assert everything_stored_about(rich_case) == first
    assert Case.objects.get(pk=rich_case.pk).revision == revision
    assert rich_case.events.filter(kind=EventKind.ERASED).count() == 1
    # The email is gone with the erasure, so it finds nothing any more, and says how to find the case.
    with pytest.raises(CommandError, match="Cases already erased are found by reference only"):
        call_command("erase_customer", "rosa@example.com")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nobody@example.com", "No case has the email address nobody@example.com"),
        ("SMS-ZZZZZZ", "No case has the reference SMS-ZZZZZZ"),
        ("hello", "neither a case reference"),
    ],
)
def test_an_unknown_email_or_reference_is_a_clear_error(
    make_case: Callable[..., Case], target: str, message: str
) -> None:
    make_case()
    with pytest.raises(CommandError, match=message):
        call_command("erase_customer", target)


def test_the_command_refuses_an_unknown_user_for_by(make_case: Callable[..., Case]) -> None:
    case = make_case()
    with pytest.raises(CommandError, match="No user is called 'ghost'"):
        call_command("erase_customer", case.reference, "--by", "ghost")
    assert Case.objects.get(pk=case.pk).erased_at is None


def test_erasing_a_customer_is_all_or_nothing(
    media: Path, agent: User, lead: User, guide: Guide, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = file_rich_case(agent, lead, guide)
    second = services.open_case(
        services.NewCase("Rosa Lima", "rosa@example.com", numbers=[numbers.normalise("+14155550123")])
    )
    # The second case's history holds an event the redaction cannot write (a summary too long
    # for its column): the whole erasure must roll back, the first case included.
    Event.objects.create(case=second, kind=EventKind.NOTE, summary="x", data={"text": "Rosa Lima"})
    monkeypatch.setattr(erasure, "ERASED_TEXT", "x" * 301)

    with pytest.raises(AppendOnlyError):
        erasure.erase_customer("rosa@example.com", actor=None)

    assert not Case.objects.filter(erased_at__isnull=False).exists()
    assert Case.objects.get(pk=first.pk).reporter_name == "Rosa Lima"
    assert Recipient.objects.get(case=first).e164 == NUMBER
    assert OutboundEmail.objects.filter(case=first).exists()


def test_a_number_another_live_case_names_stays_in_its_reports(
    media: Path, agent: User, lead: User, guide: Guide
) -> None:
    erased = file_rich_case(agent, lead, guide)
    other = services.open_case(
        services.NewCase(
            "Kim", "kim@example.com", numbers=[numbers.normalise(NUMBER)], msg_ids=["kims-message"]
        )
    )

    erasure.erase_case(erased.pk, actor=None, reason=erasure.BY_REQUEST)

    # Kim's case still finds the reports to that number; the erased case's own message is masked.
    assert StatusReport.objects.get(msg_id=OTHER_MSG).to_number == NUMBER
    assert StatusReport.objects.get(msg_id=MSG_ID).to_number == NUMBER
    assert other.recipients.get().e164 == NUMBER


def test_events_refuse_every_change_but_a_redaction(make_case: Callable[..., Case]) -> None:
    event = make_case().events.get()
    event.summary = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event(case=event.case, kind=EventKind.NOTE, summary="new").redact("x", {})

    event.redact("Case opened for erased-1", {})

    stored = Event.objects.get(pk=event.pk)
    assert (stored.summary, stored.kind, stored.at, stored.case_id) == (
        "Case opened for erased-1",
        EventKind.CREATED,
        event.at,
        event.case_id,
    )


def test_an_erased_case_still_renders_everywhere(
    rich_case: Case, client: Client, lead: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        erasure.erase_case(rich_case.pk, actor=lead, reason=erasure.BY_REQUEST)
    client.force_login(lead)

    page = client.get(f"/cases/{rich_case.reference}/?panels=all")
    assert page.status_code == 200
    content = page.content.decode()
    assert "personal data was erased" in content and "Personal data erased (at the customer" in content
    assert not [text for text in PERSONAL if text in content]
    for url in ("/cases/?tab=all", "/leads/", "/leads/export.csv", "/cases/export.csv?tab=all"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.getvalue()
        assert rich_case.reference.encode() in body or url == "/leads/", url
        assert not [text for text in PERSONAL if text.encode() in body], url


def test_no_email_goes_to_an_erased_customer(rich_case: Case, agent: User) -> None:
    erasure.erase_case(rich_case.pk, actor=None, reason=erasure.BY_REQUEST)

    services.send_reply(rich_case.pk, text="Anything new?", actor=agent)

    assert not OutboundEmail.objects.filter(case=rich_case).exists()

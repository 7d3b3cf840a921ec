"""The public ticket form, self-help, tracking link, find-my-ticket and abuse limits."""

from __future__ import annotations

import io
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from PIL import Image
from pytest_django import Settings

from diagnosis.cases import services
from diagnosis.models import Case, Deflection, EventKind, OutboundEmail, TrackingLink
from tests.diagnosis.conftest import MSG_ID, proposal_for, store_report, ticket, tracking_path


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(buffer, kind)
    return buffer.getvalue()


PNG = image_bytes("PNG")


def errors_of(response) -> list[str]:  # noqa: ANN001
    form = response.context["form"]
    return [e for errors in form.errors.values() for e in errors]


@pytest.mark.django_db
def test_a_good_ticket_with_several_numbers_is_filed(client: Client) -> None:
    response = client.post(
        "/support/new/",
        ticket(numbers="+49 151 23456789\n0151 23456780, (415) 555-0123", region="DE", msg_ids=MSG_ID),
    )

    assert response.status_code == 302
    case = Case.objects.get()
    path = response["Location"].removesuffix("?filed=1")
    assert TrackingLink.find_case(path.removeprefix("/support/t/").rstrip("/")) == case
    assert sorted(case.recipients.values_list("e164", flat=True)) == [
        "+4915123456780",
        "+4915123456789",
        "+494155550123",
    ]
    assert list(case.messages.values_list("msg_id", flat=True)) == [MSG_ID]
    assert case.sent_at is not None
    assert case.sent_at.isoformat() == "2026-11-20T09:30:00+00:00"  # 10:30 in Berlin, stored in UTC
    email = OutboundEmail.objects.get(case=case)
    assert email.to == "rosa@example.com" and path in email.body
    assert case.reference in email.body
    page = client.get(response["Location"]).content.decode()
    assert f"Your ticket {case.reference} is filed" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"numbers": "+49 1"}, "+49 1: This number is too short."),
        ({"numbers": "0151 23456789"}, "0151 23456789: Add the country code"),
        ({"numbers": "+999 12345678"}, "country code is not recognised"),
        ({"numbers": "+1 200 555 0123"}, "tick “Yes, these numbers are right”"),
        ({"numbers": "+44 7700 9001234"}, "wrong number of digits for its country"),
        ({"numbers": ""}, "This field is required."),
        ({"msg_ids": "12345"}, "does not look like a message id"),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"name": ""}, "This field is required."),
        ({"description": ""}, "This field is required."),
        ({"sent_at": "2099-01-01T10:00"}, "This time is in the future."),
        ({"website": "http://spam.example"}, "looks automated"),
    ],
)
def test_bad_tickets_say_why_and_store_nothing(
    client: Client, overrides: dict[str, object], message: str
) -> None:
    response = client.post("/support/new/", ticket(**overrides))

    assert response.status_code == 200
    assert any(message in e for e in errors_of(response)), errors_of(response)
    assert "Please check the following" in response.content.decode()
    assert not Case.objects.exists() and not OutboundEmail.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("shot.png", b"GIF89a" + b"\x00" * 20, content_type="image/png"),
            "must be a PNG or JPEG",
        ),
        (
            SimpleUploadedFile("big.png", PNG + b"\x00" * (5 * 1024 * 1024), content_type="image/png"),
            "larger than 5 MB",
        ),
    ],
)
def test_screenshots_are_checked_by_their_bytes(
    client: Client, upload: SimpleUploadedFile, message: str
) -> None:
    response = client.post("/support/new/", {**ticket(), "screenshot": upload})
    assert any(message in e for e in errors_of(response))
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_screenshot_is_kept_outside_the_web_root_for_staff(
    client: Client, agent: User, settings: Settings, tmp_path
) -> None:  # noqa: ANN001
    settings.MEDIA_ROOT = tmp_path
    client.post(
        "/support/new/",
        {**ticket(), "screenshot": SimpleUploadedFile("x.png", PNG, content_type="image/png")},
    )

    case = Case.objects.get()
    assert case.screenshot.name.endswith(".png") and (tmp_path / case.screenshot.name).exists()
    assert client.get(f"/cases/{case.reference}/screenshot/").status_code == 302  # anonymous → login
    client.force_login(agent)
    response = client.get(f"/cases/{case.reference}/screenshot/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.getvalue() == PNG


@pytest.mark.django_db
def test_inline_check_returns_the_field_with_its_errors(client: Client) -> None:
    response = client.post(
        "/support/new/check/numbers/", {"numbers": "+49 1\n+49 151 23456789"}, headers={"HX-Request": "true"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div class="field field-invalid" id="field-numbers">')
    assert "+49 1: This number is too short." in content and "<html" not in content
    assert client.post("/support/new/check/description/", {}).status_code == 404


UNKNOWN = "+44 7700 900123"  # the right length for the UK, but in no range the library knows
CONFIRM_BOX = '<input type="checkbox" name="numbers_confirmed" value="+447700900123"'


@pytest.mark.django_db
def test_a_number_the_library_does_not_know_is_filed_once_the_customer_confirms_it(client: Client) -> None:
    warned = client.post("/support/new/", ticket(numbers=f"+49 151 23456789\n{UNKNOWN}"))

    content = warned.content.decode()
    assert warned.status_code == 200 and not Case.objects.exists()
    assert "+44 7700 900123 has the right length for United Kingdom" in content
    assert f"{CONFIRM_BOX}>" in content  # offered, not ticked
    assert "Yes, these numbers are right" in content
    assert any("tick “Yes, these numbers are right”" in e for e in errors_of(warned))

    filed = client.post(
        "/support/new/",
        ticket(numbers=f"+49 151 23456789\n{UNKNOWN}", numbers_confirmed="+447700900123"),
    )

    assert filed.status_code == 302
    case = Case.objects.get()
    assert sorted(case.recipients.values_list("e164", "region", "number_type")) == [
        ("+447700900123", "GB", "unknown"),
        ("+4915123456789", "DE", "mobile"),
    ]


@pytest.mark.django_db
def test_a_confirmation_covers_only_the_numbers_it_was_given_for(client: Client) -> None:
    response = client.post(
        "/support/new/", ticket(numbers="+1 200 555 0123", numbers_confirmed="+447700900123")
    )

    assert response.status_code == 200 and not Case.objects.exists()
    assert 'value="+12005550123">' in response.content.decode()


@pytest.mark.django_db
def test_inline_check_warns_about_a_number_the_library_does_not_know(client: Client) -> None:
    url = "/support/new/check/numbers/"

    warned = client.post(url, {"numbers": UNKNOWN}, headers={"HX-Request": "true"}).content.decode()
    confirmed = client.post(
        url, {"numbers": UNKNOWN, "numbers_confirmed": "+447700900123"}, headers={"HX-Request": "true"}
    ).content.decode()

    assert warned.lstrip().startswith('<div class="field field-invalid" id="field-numbers">')
    assert "+44 7700 900123 has the right length for United Kingdom" in warned and f"{CONFIRM_BOX}>" in warned
    assert confirmed.lstrip().startswith('<div class="field" id="field-numbers">')
    assert f"{CONFIRM_BOX} checked>" in confirmed and "field-error" not in confirmed


@pytest.mark.django_db
def test_only_an_impossible_number_is_refused_and_no_tick_lets_it_through(client: Client) -> None:
    numbers = f"+44 7700 9001234\n{UNKNOWN}"

    response = client.post("/support/new/", ticket(numbers=numbers, numbers_confirmed="+447700900123"))

    assert errors_of(response) == [
        "+44 7700 9001234: This number has the wrong number of digits for its country."
    ]
    assert "numbers_confirmed" not in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_filing_is_limited_per_address_never_per_email(client: Client, settings: Settings) -> None:
    settings.CUSTOMER_EMAILS_PER_ADDRESS_PER_HOUR = 2
    settings.TICKET_LIMIT_PER_IP_PER_HOUR = 2
    email, ip = f"{uuid.uuid4().hex}@example.com", f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"

    assert client.post("/support/new/", ticket(email=email), REMOTE_ADDR=ip).status_code == 302
    assert client.post("/support/new/", ticket(email=email), REMOTE_ADDR=ip).status_code == 302
    same_email = client.post("/support/new/", ticket(email=email), REMOTE_ADDR="192.0.2.1")
    by_ip = client.post("/support/new/", ticket(email=f"x{email}"), REMOTE_ADDR=ip)

    assert same_email.status_code == 302 and "unsent=1" in same_email["Location"]
    assert by_ip.status_code == 429
    assert "Several tickets were filed from your network" in by_ip.content.decode()
    assert Case.objects.count() == 3
    assert OutboundEmail.objects.filter(to=email).count() == 2


@pytest.mark.django_db
def test_tracking_link_shows_only_its_own_case(client: Client, agent: User) -> None:
    client.post("/support/new/", ticket())
    client.post("/support/new/", ticket(email="other@example.com", description="Other person's secret"))
    mine, theirs = Case.objects.order_by("pk")
    services.assign(mine.pk, assignee=agent, actor=agent, claim=True)
    services.add_note(mine.pk, text="internal: customer sounds annoyed", actor=agent)
    services.send_reply(mine.pk, text="Please check the spam folder.", actor=agent)

    page = client.get(tracking_path(mine)).content.decode()

    assert mine.reference in page and "Please check the spam folder." in page
    assert "Avery from support" in page and agent.last_name not in page if agent.last_name else True
    assert "internal: customer sounds annoyed" not in page
    assert theirs.reference not in page and "Other person" not in page
    assert client.get("/support/t/not-a-real-token/").status_code == 404
    assert client.get(f"/support/t/{mine.reference}/").status_code == 404  # the reference alone opens nothing


@pytest.mark.django_db
def test_customer_answers_appear_in_the_agent_timeline(client: Client, agent: User) -> None:
    client.post("/support/new/", ticket())
    case = Case.objects.get()

    response = client.post(tracking_path(case) + "message/", {"text": "It also fails on +49 151 23456780."})

    assert response.status_code == 302
    event = case.events.get(kind=EventKind.CUSTOMER_MESSAGE)
    assert event.actor is None and "23456780" in event.data["text"]
    client.force_login(agent)
    assert "It also fails on" in client.get(f"/cases/{case.reference}/?panels=all").content.decode()


@pytest.mark.django_db
def test_customer_strings_are_escaped_everywhere(client: Client, agent: User) -> None:
    client.post(
        "/support/new/", ticket(name="<script>alert(1)</script>", description="<img src=x onerror=alert(1)>")
    )
    case = Case.objects.get()
    link = tracking_path(case)
    client.post(link + "message/", {"text": "<b>bold</b>"})

    tracking = client.get(link).content.decode()
    client.force_login(agent)
    staff = (
        client.get(f"/cases/{case.reference}/?panels=all").content.decode()
        + client.get("/cases/?tab=all").content.decode()
    )
    for page in (tracking, staff):
        assert (
            "<script>alert(1)</script>" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
        )


@pytest.mark.django_db
def test_find_my_ticket_answers_the_same_for_known_and_unknown(client: Client) -> None:
    client.post("/support/new/", ticket())
    OutboundEmail.objects.all().delete()

    known = client.post("/support/find/", {"email": "ROSA@example.com"})
    unknown = client.post("/support/find/", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 200
    assert (
        known.content == unknown.content.replace(b"nobody", b"ROSA")
        or "we have just emailed" in unknown.content.decode()
    )
    assert OutboundEmail.objects.count() == 1
    assert "/support/t/" in OutboundEmail.objects.get().body


@pytest.mark.django_db
def test_self_help_deflects_when_a_check_solves_it(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")

    first = client.post("/support/new/", ticket(msg_ids=MSG_ID))
    assert first.status_code == 200 and "reached the phone" in first.content.decode()
    assert "spam, junk or blocked-messages folder" in first.content.decode()

    solved = client.post("/support/new/", ticket(msg_ids=MSG_ID, selfhelp="junk_folder:yes"))

    assert "You do not need to file a ticket" in solved.content.decode()
    assert Deflection.objects.get().solved_by == "junk_folder"
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_self_help_answers_travel_with_the_ticket(client: Client, agent: User) -> None:
    from tests.diagnosis.conftest import walk_to

    store_report(MSG_ID, "DELIVRD")
    answers: dict[str, str] = {}
    for node, value in (
        ("junk_folder", "no"),
        ("signal", "yes"),
        ("inbox_full", "no"),
        ("other_phone", "no"),
        ("restart", "no"),
    ):
        response = client.post("/support/new/", ticket(msg_ids=MSG_ID, selfhelp=f"{node}:{value}", **answers))
        answers.update({k: v for k, v in response.context["help"]["answers"].items() for k in [f"sh_{k}"]})
    filed = client.post("/support/new/", ticket(msg_ids=MSG_ID, **answers))

    assert filed.status_code == 302
    case = Case.objects.get()
    assert case.customer_answers == {
        "junk_folder": "no",
        "signal": "yes",
        "inbox_full": "no",
        "other_phone": "no",
        "restart": "no",
    }
    assert not Deflection.objects.exists()
    case = walk_to(case, [("report_returned", "report_present"), ("status_is_delivrd", "delivered")], agent)
    proposal = proposal_for(case)
    assert (proposal.node, proposal.value) == ("junk_folder", "no")
    assert "customer already answered" in proposal.reason


@pytest.mark.django_db
def test_skipping_self_help_files_at_once(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")
    response = client.post("/support/new/", ticket(msg_ids=MSG_ID, skip_selfhelp="1"))
    assert response.status_code == 302
    assert Case.objects.get().customer_answers == {}


def test_public_pages_need_no_login(client: Client, db: None) -> None:
    for url in ("/support/new/", "/support/find/", "/"):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_a_ticket_keeps_the_language_it_was_filed_in_for_its_emails(client: Client) -> None:
    client.post("/support/new/", ticket(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.post("/support/new/", ticket(email="other@example.com"))

    chinese, english = Case.objects.order_by("pk")
    assert (chinese.language, english.language) == ("zh-hans", "en")
    with translation.override("zh-hans"):
        expected = translation.gettext("We received your report %(reference)s") % {
            "reference": chinese.reference
        }
    assert OutboundEmail.objects.get(case=chinese).subject == expected
    assert OutboundEmail.objects.get(case=english).subject == f"We received your report {english.reference}"


@pytest.mark.django_db
def test_the_tracking_page_speaks_the_case_language(client: Client) -> None:
    client.post("/support/new/", ticket())
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(language="zh-hans")
    with translation.override("zh-hans"):
        heading = translation.gettext("Where things stand")
    path = tracking_path(case)

    # The browser asks for English, but the case was filed in Chinese.
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")

    assert response["Content-Language"] == "zh-hans"
    assert heading in response.content.decode()


@pytest.mark.django_db
def test_a_language_chosen_on_the_tracking_page_becomes_the_case_language(client: Client) -> None:
    client.post("/support/new/", ticket(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    case = Case.objects.get()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(tracking_path(case), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response["Content-Language"] == "en"
    assert "Where things stand" in response.content.decode()
    case.refresh_from_db()
    assert case.language == "en"

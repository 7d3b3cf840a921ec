"""The admin lists cases with their history and walks the guide through the same services."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from diagnosis.models import Case, CaseState, StatusSource, token_digest
from tests.diagnosis.conftest import MSG_ID, rows_holding, store_report


@pytest.fixture
def admin_client_(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("term", ["+4915123456789", MSG_ID, "reference"])
def test_cases_are_searchable_by_reference_number_and_message_id(
    admin_client_: Client, make_case: Callable[..., Case], term: str
) -> None:
    case = make_case()
    make_case(number="+14155550123", msg_ids=("other-message",))
    query = case.reference if term == "reference" else term

    response = admin_client_.get("/admin/diagnosis/case/", {"q": query})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [case]


def test_case_page_shows_answers_reports_and_events(
    admin_client_: Client, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    store_report(status="DELIVRD")

    response = admin_client_.get(f"/admin/diagnosis/case/{case.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "Case opened for +4915123456789" in content
    assert "Answer current step (C1)" in content


def test_the_admin_answers_the_current_step(
    admin_client_: Client, make_case: Callable[..., Case], admin_user: User
) -> None:
    case = make_case()
    url = f"/admin/diagnosis/case/{case.pk}/answer/"

    assert admin_client_.get(url).status_code == 200
    bad = admin_client_.post(url, {"value": "nonsense"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    response = admin_client_.post(url, {"value": "no_report", "evidence": "", "notes": "checked the console"})

    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.current_node, case.state) == ("dial_recipient", CaseState.IN_PROGRESS)
    assert case.answers.get().answered_by == admin_user


def test_events_cannot_be_edited_in_the_admin(admin_client_: Client, make_case: Callable[..., Case]) -> None:
    event = make_case().events.get()
    assert (
        admin_client_.post(f"/admin/diagnosis/event/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert admin_client_.get("/admin/diagnosis/event/add/").status_code == 403


def test_agents_cannot_use_the_admin(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert client.get("/admin/diagnosis/case/").status_code == 302


def test_sources_rejected_payloads_and_outgoing_emails_are_in_the_admin(admin_client_: Client) -> None:
    from diagnosis.models import OutboundEmail, RejectedPayload, StatusSource

    source = StatusSource.objects.create(name="huawei-intl")
    RejectedPayload.objects.create(source=source, reason="body is not valid JSON", body="{")
    OutboundEmail.objects.create(
        to="dana@example.com", subject="Your ticket", body="Hello", last_error="timed out"
    )

    for model, shown in (
        ("statussource", "huawei-intl"),
        ("rejectedpayload", "body is not valid JSON"),
        ("outboundemail", "timed out"),
    ):
        response = admin_client_.get(f"/admin/diagnosis/{model}/")
        assert response.status_code == 200
        assert shown in response.content.decode()


def test_a_superuser_deletes_a_case_with_its_history(
    admin_client_: Client, make_case: Callable[..., Case], admin_user: User
) -> None:
    from django.contrib.admin.models import DELETION, LogEntry

    from diagnosis.models import Event, StatusReport

    case = make_case()
    report = store_report(to_number="+4915123456789")
    url = f"/admin/diagnosis/case/{case.pk}/delete/"

    assert admin_client_.get(url).status_code == 200
    response = admin_client_.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Case.objects.filter(pk=case.pk).exists() and not Event.objects.filter(case_id=case.pk).exists()
    # Erased first: the report (not the case's row) no longer carries the number.
    assert StatusReport.objects.get(pk=report.pk).to_number.startswith("erased-")
    entry = LogEntry.objects.get(action_flag=DELETION)
    assert (entry.object_repr, entry.user) == (case.reference, admin_user)


def test_only_superusers_may_delete_cases(client: Client, make_case: Callable[..., Case]) -> None:
    from django.contrib.auth.models import Permission

    from tests.conftest import make_user

    staff = make_user("drew", None, is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_case", "delete_case"]))
    case = make_case()
    client.force_login(staff)

    assert client.post(f"/admin/diagnosis/case/{case.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()


def test_the_admin_erases_the_selected_cases(admin_client_: Client, make_case: Callable[..., Case]) -> None:
    case = make_case()

    response = admin_client_.post(
        "/admin/diagnosis/case/", {"action": "erase_selected", "_selected_action": [case.pk]}, follow=True
    )

    assert response.status_code == 200 and "Personal data erased in 1 case;" in response.content.decode()
    case.refresh_from_db()
    assert case.erased_at is not None and case.reporter_email == "erased@erased.invalid"


def test_adding_a_status_source_shows_its_callback_address_once(admin_client_: Client) -> None:
    response = admin_client_.post("/admin/diagnosis/statussource/add/", {"name": "huawei-intl"})

    assert response.status_code == 200
    page = response.content.decode()
    match = re.search(r"/hooks/sms-status/([\w-]{43})/", page)
    assert match is not None, page
    token = match.group(1)
    source = StatusSource.objects.get()
    assert source.token_hash == token_digest(token)
    assert rows_holding(token) == []  # not in a message either: those live in the session
    change_page = admin_client_.get(f"/admin/diagnosis/statussource/{source.pk}/change/").content.decode()
    assert token not in change_page and token_digest(token) not in change_page

"""Each self-help check is answered on its own: htmx swaps the answer in place, and without
JavaScript the page comes back with what was typed and no complaint about the ticket fields."""

from __future__ import annotations

import html
import re
import secrets

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django import Settings

from diagnosis.guide import get_guide
from diagnosis.models import Case, Deflection
from tests.diagnosis.conftest import MSG_ID, store_report, ticket

URL = "/support/new/self-help/"
HTMX = {"HX-Request": "true"}
REQUIRED = "This field is required"
GUIDE = get_guide()


def unique_address() -> str:
    return f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


@pytest.mark.django_db
def test_an_answer_posted_alone_is_swapped_in_place(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")

    response = client.post(URL, {"msg_ids": MSG_ID, "selfhelp": "junk_folder:no"}, headers=HTMX)
    page = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in page and page.lstrip().startswith('<div id="self-help"')
    assert html.escape(GUIDE["signal"].customer_question) in page
    assert '<input type="hidden" name="sh_junk_folder" value="no">' in page
    assert REQUIRED not in page
    assert "Still missing? File the ticket." in page
    assert response["Vary"] and "HX-Request" in response["Vary"]


@pytest.mark.django_db
def test_a_check_that_solves_it_says_so_and_counts_once(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")

    page = client.post(URL, {"msg_ids": MSG_ID, "selfhelp": "junk_folder:yes"}, headers=HTMX).content.decode()

    assert "That explains it." in page and "You do not need to file a ticket" in page
    assert "Still missing? File the ticket." in page
    assert list(Deflection.objects.values_list("solved_by", flat=True)) == ["junk_folder"]
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_the_buttons_post_only_what_the_check_needs_and_fall_back_to_the_whole_form(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")

    page = client.post(URL, {"msg_ids": MSG_ID, "selfhelp": "junk_folder:no"}, headers=HTMX).content.decode()
    buttons = re.findall(r"<button [^>]*name=\"selfhelp\"[^>]*>", page)

    assert buttons
    for button in buttons:
        assert 'hx-post="/support/new/self-help/"' in button and 'hx-target="#self-help"' in button
        assert 'formaction="/support/new/self-help/#self-help"' in button
        params = re.search(r'hx-params="([^"]+)"', button)
        assert params is not None
        assert set(params.group(1).split(",")) == {"msg_ids", "selfhelp"} | {
            f"sh_{node}" for node in ("junk_folder", "signal", "inbox_full", "other_phone", "restart")
        }


@pytest.mark.django_db
def test_a_bad_message_id_is_named_next_to_its_field(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")

    bad = {"msg_ids": "12345", "selfhelp": "junk_folder:yes"}
    page = client.post(URL, bad, headers=HTMX).content.decode()

    field = re.search(r'class="field field-invalid" id="field-msg_ids" hx-swap-oob="true">.*', page, re.S)
    assert field is not None
    assert "this does not look like a message id" in field.group(0)
    assert REQUIRED not in page
    assert not Deflection.objects.exists()


@pytest.mark.django_db
def test_the_message_id_formats_of_the_form_are_accepted(client: Client) -> None:
    other = "9d3a1f0e-1111-4222-8333-444455556666_7"
    store_report(MSG_ID.upper(), "DELIVRD")

    page = client.post(
        URL, {"msg_ids": f"{other}, {MSG_ID.upper()}", "selfhelp": "junk_folder:no"}, headers=HTMX
    ).content.decode()

    assert html.escape(GUIDE["signal"].customer_question) in page


@pytest.mark.django_db
def test_without_javascript_the_page_comes_back_with_what_was_typed_and_no_required_errors(
    client: Client,
) -> None:
    store_report(MSG_ID, "DELIVRD")
    typed = ticket(msg_ids=MSG_ID, description="", email="", sender="ACME-42", selfhelp="junk_folder:no")

    response = client.post(URL, typed)
    page = response.content.decode()

    assert response.status_code == 200
    assert "<h1>" in page and 'id="self-help"' in page
    assert REQUIRED not in page and "error-summary" not in page
    assert 'value="Rosa Lima"' in page and 'value="ACME-42"' in page and "+49 151 23456789" in page
    assert '<option value="Europe/Berlin" selected>' in page
    assert html.escape(GUIDE["signal"].customer_question) in page
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_an_answer_posted_to_the_form_itself_does_not_validate_the_ticket(client: Client) -> None:
    """The reported defect: the answer reloaded the page with "What happened?: This field is required"."""
    store_report(MSG_ID, "DELIVRD")

    typed = ticket(msg_ids=MSG_ID, description="", selfhelp="junk_folder:yes")
    response = client.post("/support/new/", typed)
    page = response.content.decode()

    assert response.status_code == 200
    assert REQUIRED not in page
    assert "That explains it." in page
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_once_the_checks_were_offered_the_ticket_is_filed_when_the_customer_asks(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")

    first = client.post("/support/new/", ticket(msg_ids=MSG_ID))
    assert first.status_code == 200 and 'name="selfhelp_offered"' in first.content.decode()

    filed = client.post("/support/new/", ticket(msg_ids=MSG_ID, selfhelp_offered=MSG_ID, sh_junk_folder="no"))

    assert filed.status_code == 302
    assert Case.objects.get().customer_answers == {"junk_folder": "no"}


@pytest.mark.django_db
def test_the_endpoint_is_public_and_answers_post_only(client: Client, agent: User) -> None:
    store_report(MSG_ID, "DELIVRD")
    assert client.get(URL).status_code == 405
    anonymous = client.post(URL, {"msg_ids": MSG_ID, "selfhelp": "junk_folder:no"}, headers=HTMX)
    client.force_login(agent)
    signed_in = client.post(URL, {"msg_ids": MSG_ID, "selfhelp": "junk_folder:no"}, headers=HTMX)

    assert anonymous.status_code == signed_in.status_code == 200
    assert anonymous.content == signed_in.content


@pytest.mark.django_db
def test_answers_are_limited_per_address_with_a_reason(client: Client, settings: Settings) -> None:
    settings.SELF_HELP_LIMIT_PER_IP_PER_HOUR = 2
    store_report(MSG_ID, "DELIVRD")
    address = unique_address()
    answer = {"msg_ids": MSG_ID, "selfhelp": "junk_folder:yes"}

    statuses = [client.post(URL, answer, REMOTE_ADDR=address, headers=HTMX).status_code for _ in range(2)]
    refused = client.post(URL, answer, REMOTE_ADDR=address, headers=HTMX)
    elsewhere = client.post(URL, answer, REMOTE_ADDR=unique_address(), headers=HTMX)

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert "Many answers came from your network" in refused.content.decode()
    assert "That explains it." not in refused.content.decode()
    assert elsewhere.status_code == 200
    assert Deflection.objects.count() == 3
    # Filing is counted apart: a customer over the answer limit can still file.
    assert client.post("/support/new/", ticket(skip_selfhelp="1"), REMOTE_ADDR=address).status_code == 302

"""A lead erases a customer's personal data from the case page, after typing its reference."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from diagnosis.cases import erasure
from diagnosis.models import Case, EventKind

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_leads_see_the_erase_button_agents_do_not(
    client: Client, make_case: Callable[..., Case], lead: User, agent: User
) -> None:
    case = make_case()
    url = f"/leads/cases/{case.reference}/erase/"

    assert url in login(client, lead).get(f"/cases/{case.reference}/").content.decode()
    assert url not in login(Client(), agent).get(f"/cases/{case.reference}/").content.decode()


def test_the_button_swaps_in_a_confirmation_form(
    client: Client, make_case: Callable[..., Case], lead: User
) -> None:
    case = make_case()

    response = login(client, lead).get(f"/leads/cases/{case.reference}/erase/", headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert content.lstrip().startswith('<section class="card notice-warn" id="erase-form"')
    assert "<html" not in content and "Type the case reference to confirm" in content
    # Without JavaScript the same link opens a whole page with the form.
    page = client.get(f"/leads/cases/{case.reference}/erase/").content.decode()
    assert "<html" in page and 'id="erase-form"' in page


def test_a_wrong_reference_erases_nothing(client: Client, make_case: Callable[..., Case], lead: User) -> None:
    case = make_case()

    response = login(client, lead).post(
        f"/leads/cases/{case.reference}/erase/", {"reference": "SMS-222222"}, headers=HTMX
    )

    assert response.status_code == 200
    assert f"Type the reference exactly as shown: {case.reference}." in response.content.decode()
    assert Case.objects.get(pk=case.pk).erased_at is None


def test_the_typed_reference_erases_and_the_page_shows_the_erased_case(
    client: Client, make_case: Callable[..., Case], lead: User
) -> None:
    case = make_case()
    login(client, lead)

    response = client.post(
        f"/leads/cases/{case.reference}/erase/", {"reference": case.reference.lower()}, headers=HTMX
    )

    assert response.status_code == 200 and response["HX-Redirect"] == f"/cases/{case.reference}/"
    case.refresh_from_db()
    assert case.erased_at is not None and case.reporter_name == erasure.ERASED_NAME
    assert case.events.get(kind=EventKind.ERASED).actor == lead
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert "personal data was erased" in page and "in " + case.reference + " is erased" in page
    assert "Dana Customer" not in page and "+4915123456789" not in page
    assert f"/leads/cases/{case.reference}/erase/" not in page  # nothing left to erase


def test_without_javascript_the_erasure_redirects_to_the_case(
    client: Client, make_case: Callable[..., Case], lead: User
) -> None:
    case = make_case()

    response = login(client, lead).post(
        f"/leads/cases/{case.reference}/erase/", {"reference": case.reference}
    )

    assert response.status_code == 302 and response["Location"] == f"/cases/{case.reference}/"
    assert Case.objects.get(pk=case.pk).erased_at is not None


@pytest.mark.parametrize("persona", ["agent", "outsider"])
def test_agents_and_other_staff_get_403(
    client: Client, make_case: Callable[..., Case], persona: str, request: pytest.FixtureRequest
) -> None:
    case = make_case()
    login(client, request.getfixturevalue(persona))
    url = f"/leads/cases/{case.reference}/erase/"

    assert client.get(url).status_code == 403
    assert client.post(url, {"reference": case.reference}).status_code == 403
    assert Case.objects.get(pk=case.pk).erased_at is None


def test_anonymous_visitors_go_to_the_login_page(client: Client, make_case: Callable[..., Case]) -> None:
    case = make_case()
    response = client.post(f"/leads/cases/{case.reference}/erase/", {"reference": case.reference})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Case.objects.get(pk=case.pk).erased_at is None


def test_other_methods_get_405_and_unknown_cases_404(
    client: Client, make_case: Callable[..., Case], lead: User
) -> None:
    case = make_case()
    login(client, lead)
    assert client.put(f"/leads/cases/{case.reference}/erase/").status_code == 405
    assert client.get("/leads/cases/SMS-222222/erase/").status_code == 404


def test_the_form_needs_the_csrf_token(make_case: Callable[..., Case], lead: User) -> None:
    case = make_case()
    client = login(Client(enforce_csrf_checks=True), lead)

    response = client.post(f"/leads/cases/{case.reference}/erase/", {"reference": case.reference})

    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).erased_at is None

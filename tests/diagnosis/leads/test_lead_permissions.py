"""Who may open each team lead URL: anonymous visitors and customers are sent to the login page,
agents and other staff get 403, leads and admins get in; wrong methods get 405."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client

from diagnosis.cases import services
from diagnosis.guide import Guide
from diagnosis.models import Case
from tests.diagnosis.conftest import route_to, tracking_path, walk_to

pytestmark = pytest.mark.django_db

RESOLVED = "{resolved}"
CLOSED = "{closed}"

# (method, URL, status for a lead or an admin)
LEAD_URLS = [
    ("get", "/leads/", 200),
    ("get", "/leads/?days=90", 200),
    ("get", "/leads/export.csv", 200),
    ("get", "/leads/reassign/", 200),
    ("post", "/leads/reassign/", 200),  # nothing ticked: the page says so
    ("post", f"/leads/cases/{RESOLVED}/close/", 302),
    ("post", f"/leads/cases/{CLOSED}/reopen/", 302),
    ("get", f"/leads/cases/{RESOLVED}/erase/", 200),  # the confirmation; erasing needs the typed reference
    ("get", "/leads/import/", 200),
]
PERSONAS_KEPT_OUT = ["anonymous", "customer"]
PERSONAS_FORBIDDEN = ["agent", "outsider"]
PERSONAS_ALLOWED = ["lead", "admin_user"]


@pytest.fixture
def cases(make_case: Callable[..., Case], guide: Guide, agent: User, lead: User) -> dict[str, Case]:
    resolved = walk_to(make_case(), route_to(guide, "R_inbox_full"), agent)
    closed = walk_to(make_case(), route_to(guide, "R_no_signal"), agent)
    services.close_case(closed.pk, actor=lead)
    return {"resolved": resolved, "closed": closed}


def _url(template: str, cases: dict[str, Case]) -> str:
    return template.format(resolved=cases["resolved"].reference, closed=cases["closed"].reference)


def _client_as(persona: str, request: pytest.FixtureRequest, cases: dict[str, Case]) -> Client:
    client = Client()
    if persona == "customer":
        # A customer holds only the private tracking link of their case: it opens that page, nothing more.
        assert client.get(tracking_path(cases["resolved"])).status_code == 200
    elif persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


@pytest.mark.parametrize("persona", PERSONAS_KEPT_OUT)
@pytest.mark.parametrize(("method", "template", "allowed"), LEAD_URLS)
def test_visitors_without_a_staff_login_are_sent_to_sign_in(
    persona: str, method: str, template: str, allowed: int, request: pytest.FixtureRequest, cases: dict
) -> None:
    url = _url(template, cases)
    response = getattr(_client_as(persona, request, cases), method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url, safe='/')}"


@pytest.mark.parametrize("persona", PERSONAS_FORBIDDEN)
@pytest.mark.parametrize(("method", "template", "allowed"), LEAD_URLS)
def test_agents_and_other_staff_are_forbidden(
    persona: str, method: str, template: str, allowed: int, request: pytest.FixtureRequest, cases: dict
) -> None:
    response = getattr(_client_as(persona, request, cases), method)(_url(template, cases))

    assert response.status_code == 403


@pytest.mark.parametrize("persona", PERSONAS_ALLOWED)
@pytest.mark.parametrize(("method", "template", "allowed"), LEAD_URLS)
def test_leads_and_admins_get_in(
    persona: str, method: str, template: str, allowed: int, request: pytest.FixtureRequest, cases: dict
) -> None:
    response = getattr(_client_as(persona, request, cases), method)(_url(template, cases))

    assert response.status_code == allowed


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 302),
        ("customer", 302),
        ("outsider", 403),
        ("agent", 200),
        ("lead", 200),
        ("admin_user", 200),
    ],
)
def test_the_queue_export_is_for_everyone_who_works_cases(
    persona: str, status: int, request: pytest.FixtureRequest, cases: dict
) -> None:
    response = _client_as(persona, request, cases).get("/cases/export.csv?tab=all")

    assert response.status_code == status
    if status == 302:
        assert response["Location"] == "/accounts/login/?next=/cases/export.csv%3Ftab%3Dall"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/leads/"),
        ("post", "/leads/export.csv"),
        ("post", "/cases/export.csv"),
        ("put", "/leads/reassign/"),
        ("get", f"/leads/cases/{RESOLVED}/close/"),
        ("get", f"/leads/cases/{CLOSED}/reopen/"),
    ],
)
def test_wrong_methods_are_refused(method: str, url: str, lead: User, cases: dict) -> None:
    client = Client()
    client.force_login(lead)

    assert getattr(client, method)(_url(url, cases)).status_code == 405


def test_an_unknown_case_is_not_found(lead: User, db: None) -> None:
    client = Client()
    client.force_login(lead)

    assert client.post("/leads/cases/SMS-ZZZZZZ/close/").status_code == 404
    assert client.post("/leads/cases/SMS-ZZZZZZ/reopen/").status_code == 404

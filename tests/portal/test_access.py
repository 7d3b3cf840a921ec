"""Staff pages need a login and the right role; navigation follows the role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from portal import heartbeat, roles

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/cases/", "/leads/"]


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_anonymous_is_sent_to_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize(
    ("persona", "url", "status"),
    [
        ("agent", "/cases/", 200),
        ("agent", "/leads/", 403),
        ("lead", "/cases/", 200),
        ("lead", "/leads/", 200),
        ("outsider", "/cases/", 403),
        ("outsider", "/leads/", 403),
        ("admin_user", "/leads/", 200),
    ],
)
def test_role_decides_access(
    client: Client, request: pytest.FixtureRequest, persona: str, url: str, status: int
) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == status


def _nav_labels(client: Client) -> list[str]:
    response = client.get("/")
    assert response.status_code == 200
    return [item["label"] for item in response.context["nav_items"]]


def test_agent_navigation(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert _nav_labels(client) == ["Home", "Case queue", "Account security"]


def test_lead_navigation(client: Client, lead: User) -> None:
    client.force_login(lead)
    labels = _nav_labels(client)
    assert labels == ["Home", "Case queue", "Team overview", "Locked sign-ins", "Account security"]
    assert b'href="/leads/"' in client.get("/").content


def test_admin_navigation_includes_the_admin_site(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    assert _nav_labels(client) == [
        "Home",
        "Case queue",
        "Team overview",
        "Locked sign-ins",
        "Admin",
        "Account security",
    ]
    assert client.get("/admin/").status_code == 200


def test_visitor_sees_the_public_landing_without_staff_navigation(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["nav_items"] == []
    assert b"Staff sign in" in response.content


def test_login_and_logout(client: Client, agent: User) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    response = client.post("/accounts/login/", {"username": "avery", "password": "pw-avery"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/cases/").status_code == 200

    assert client.get("/accounts/logout/").status_code == 405  # logging out takes a POST
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/cases/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client: Client, agent: User) -> None:
    response = client.post("/accounts/login/", {"username": "avery", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content


def test_role_groups_and_permissions_come_from_the_migration() -> None:
    def perms(name: str) -> set[str]:
        return {
            f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=name).permissions.all()
        }

    assert perms(roles.AGENTS_GROUP) == {roles.WORK_CASES}
    assert perms(roles.LEADS_GROUP) == {roles.WORK_CASES, roles.ASSIGN_CASES, roles.REVIEW_TEAM}


def test_home_htmx_request_gets_only_the_status_panel(client: Client, agent: User) -> None:
    heartbeat.record("worker")
    client.force_login(agent)

    partial = client.get("/", headers={"HX-Request": "true"})
    full = client.get("/")

    assert partial["Vary"] and "HX-Request" in partial["Vary"]
    assert partial.content.lstrip().startswith(b'<div class="card" id="background-status"')
    assert b"<html" not in partial.content
    assert b"Running" in partial.content  # the worker is fresh
    assert b"<html" in full.content
    assert b"htmx" in full.content


def test_every_htmx_request_carries_the_csrf_token(client: Client, agent: User) -> None:
    client.force_login(agent)
    content = client.get("/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in content

"""Who may reach the account pages, and with which methods."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = [
    ("get", "/accounts/code/"),
    ("get", "/accounts/security/"),
    ("get", "/accounts/security/setup/"),
    ("post", "/accounts/security/recovery-codes/"),
    ("post", "/accounts/security/remove/"),
    ("get", "/accounts/lockouts/"),
    ("post", "/accounts/lockouts/unlock/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_visitors_are_sent_to_sign_in(client: Client, method: str, url: str) -> None:
    answer = getattr(client, method)(url)
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/accounts/security/"),
        ("get", "/accounts/security/recovery-codes/"),
        ("get", "/accounts/security/remove/"),
        ("post", "/accounts/lockouts/"),
        ("get", "/accounts/lockouts/unlock/"),
        ("delete", "/accounts/code/"),
    ],
)
def test_wrong_methods_are_refused(client: Client, lead: User, method: str, url: str) -> None:
    client.force_login(lead)
    assert getattr(client, method)(url).status_code == 405


@pytest.mark.parametrize("persona", ["agent", "outsider"])
def test_only_leads_and_admins_see_locked_sign_ins(
    client: Client, request: pytest.FixtureRequest, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/accounts/lockouts/").status_code == 403
    assert client.get("/accounts/security/").status_code == 200


@pytest.mark.parametrize("persona", ["lead", "admin_user"])
def test_leads_and_admins_see_locked_sign_ins(
    client: Client, request: pytest.FixtureRequest, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))
    page = client.get("/accounts/lockouts/")
    assert page.status_code == 200
    assert "No account or address is locked right now." in page.content.decode()


def test_the_lockout_rule_reads_in_the_singular_too(client: Client, lead: User, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME = 1, timedelta(minutes=1)
    client.force_login(lead)

    text = client.get("/accounts/lockouts/").content.decode()

    assert "After 1 failed sign-in, the account" in text and "cannot sign in for 1 minute." in text

"""Brute-force protection on sign-in, through real HTTP against the live server."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)

LOCKED = "Too many failed sign-in attempts"


def test_fifty_wrong_passwords_are_not_all_answered(web: Any, agent: User) -> None:
    visitor = web()
    statuses = [visitor.sign_in("avery", f"wrong-{n}").status for n in range(10)]
    # The fifth failure locks, and says so; every attempt after it is refused.
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {429}


def test_the_sixth_attempt_is_refused_even_with_the_right_password(web: Any, agent: User) -> None:
    visitor = web()
    for n in range(4):
        answer = visitor.sign_in("avery", f"wrong-{n}")
        assert answer.status == 200
        assert LOCKED not in answer.text
    assert LOCKED in visitor.sign_in("avery", "wrong-5").text
    answer = visitor.sign_in("avery", "pw-avery")
    assert answer.status == 429
    assert LOCKED in answer.text
    assert "Staff sign in" in answer.text
    # Not signed in: the start page is still the public landing.
    assert "Staff sign in" in visitor.get("/").text


def test_one_username_is_locked_whatever_address_the_attempts_come_from(
    web: Any, agent: User, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(4):
        assert web(f"10.0.0.{n + 1}").sign_in("avery", "wrong").status == 200
    assert web("10.0.0.5").sign_in("avery", "wrong").status == 429
    assert web("10.0.0.99").sign_in("avery", "pw-avery").status == 429


def test_one_address_is_locked_across_usernames(
    web: Any, agent: User, other_agent: User, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = web("203.0.113.9")
    for username in ("alex", "bo", "chris", "dana"):
        assert attacker.sign_in(username, "guess").status == 200
    assert attacker.sign_in("eli", "guess").status == 429
    assert attacker.sign_in("blake", "pw-blake").status == 429
    # Someone else, elsewhere, is not affected.
    assert "Hello, Avery" in web("198.51.100.2").sign_in("avery", "pw-avery").text


def test_a_lead_unlocks_an_account_and_the_right_password_works_again(
    web: Any, agent: User, lead: User, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        web("10.0.0.1").sign_in("avery", "wrong")
    assert web("10.0.0.2").sign_in("avery", "pw-avery").status == 429

    team_lead = web("10.0.0.3")
    team_lead.sign_in("morgan", "pw-morgan")
    listing = team_lead.get("/accounts/lockouts/")
    assert listing.status == 200
    assert "Account <strong>avery</strong>" in listing.text
    assert "Locked sign-ins" in team_lead.get("/").text  # in the leads' navigation
    answer = team_lead.post("/accounts/lockouts/unlock/", {"kind": "account", "value": "avery"})
    assert answer.status == 200
    assert "avery can sign in again" in answer.text
    assert "Account <strong>avery</strong>" not in answer.text

    assert "Hello, Avery" in web("10.0.0.2").sign_in("avery", "pw-avery").text


def test_a_lead_unlocks_an_address(web: Any, lead: User, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = web("203.0.113.9")
    for username in ("alex", "bo", "chris", "dana", "eli"):
        attacker.sign_in(username, "guess")
    team_lead = web("10.0.0.3")
    team_lead.sign_in("morgan", "pw-morgan")
    assert "Address <strong>203.0.113.9</strong>" in team_lead.get("/accounts/lockouts/").text
    team_lead.post("/accounts/lockouts/unlock/", {"kind": "address", "value": "203.0.113.9"})
    make_user("frankie")
    assert attacker.sign_in("frankie", "pw-frankie").status == 200


def test_an_agent_can_neither_see_nor_unlock_lockouts(
    web: Any, agent: User, other_agent: User, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        web("10.0.0.1").sign_in("blake", "wrong")
    colleague = web("10.0.0.5")
    colleague.sign_in("avery", "pw-avery")
    assert colleague.get("/accounts/lockouts/").status == 403
    assert colleague.post("/accounts/lockouts/unlock/", {"kind": "account", "value": "blake"}).status == 403
    assert "Locked sign-ins" not in colleague.get("/").text
    assert web("10.0.0.6").sign_in("blake", "pw-blake").status == 429


def test_unlocking_needs_a_post(client: Client, lead: User) -> None:
    client.force_login(lead)
    assert client.get("/accounts/lockouts/unlock/").status_code == 405


def test_failed_and_successful_sign_ins_are_logged_without_the_password(
    web: Any, agent: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    visitor = web()
    visitor.sign_in("avery", "Secret-Wrong-1")
    visitor.sign_in("avery", "pw-avery")
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert any(line.startswith("sign-in failed: username='avery' address=127.0.0.1") for line in lines)
    assert any(line.startswith("sign-in succeeded: user='avery' address=127.0.0.1") for line in lines)
    assert "Secret-Wrong-1" not in caplog.text
    assert "pw-avery" not in caplog.text


def test_the_admin_sign_in_sends_to_the_portal_sign_in(client: Client) -> None:
    answer = client.get("/admin/login/?next=/admin/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/?next=/admin/"
    # Its own form is gone: a password posted there signs nobody in.
    assert client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 405


def test_a_signed_in_user_without_admin_rights_gets_403_not_a_loop(client: Client, agent: User) -> None:
    client.force_login(agent)
    answer = client.get("/admin/", follow=True)
    assert answer.status_code == 403

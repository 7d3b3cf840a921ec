"""Staff one-time codes: set-up, the code step at sign-in, recovery codes, and the gate."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

SETUP = "/accounts/security/setup/"
VERIFY = "/accounts/code/"


def sign_in(client: Client, user: User) -> None:
    answer = client.post("/accounts/login/", {"username": user.username, "password": f"pw-{user.username}"})
    assert answer.status_code == 302, "the password step failed"


def code_for(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:06d}"


def authenticator_for(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


@pytest.fixture
def required(settings: Any) -> None:
    settings.STAFF_MFA_REQUIRED = True


@pytest.mark.usefixtures("required")
def test_required_and_no_authenticator_sends_every_kind_of_page_to_the_setup(
    client: Client, admin_user: User
) -> None:
    sign_in(client, admin_user)
    page = client.get("/cases/")
    assert page.status_code == 302
    assert page["Location"] == f"{SETUP}?next=%2Fcases%2F"
    partial = client.get("/", headers={"HX-Request": "true"})
    assert partial["HX-Redirect"] == SETUP
    assert client.get("/admin/")["Location"].startswith(SETUP)
    assert client.get("/cases/export.csv")["Location"].startswith(SETUP)
    assert client.post("/accounts/security/recovery-codes/")["Location"].startswith(SETUP)
    # The code step is for people who have an authenticator; this user has none yet.
    assert client.get(VERIFY)["Location"].startswith(SETUP)
    # The set-up itself and signing out stay reachable, with no navigation to elsewhere.
    setup_page = client.get(SETUP)
    assert setup_page.status_code == 200
    assert setup_page.context["nav_items"] == []
    assert client.post("/accounts/logout/").status_code == 302


@pytest.mark.usefixtures("required")
def test_setup_with_a_real_code_shows_recovery_codes_once_then_signs_in(client: Client, agent: User) -> None:
    sign_in(client, agent)
    page = client.get(f"{SETUP}?next=/cases/")
    assert page.status_code == 200
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    assert page.context["secret"].replace(" ", "") in device.config_url

    wrong = client.post(SETUP, {"code": "000000", "next": "/cases/"})
    assert "That code did not work" in wrong.content.decode()
    assert client.get("/cases/").status_code == 302

    device.refresh_from_db()
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        done = client.post(SETUP, {"code": code_for(device), "next": "/cases/"})
        assert done.status_code == 200
        codes = done.context["codes"]
        assert len(codes) == 10
        assert all(code in done.content.decode() for code in codes)
        assert client.get("/cases/").status_code == 200
    assert TOTPDevice.objects.get(user=agent).confirmed
    assert sorted(StaticToken.objects.filter(device__user=agent).values_list("token", flat=True)) == sorted(
        codes
    )
    # Shown once: the security page only counts them.
    security = client.get("/accounts/security/").content.decode()
    assert "10 unused recovery codes" in security
    assert codes[0] not in security


def test_the_next_sign_in_asks_for_the_code_and_refuses_a_wrong_one(
    client: Client, agent: User, caplog: pytest.LogCaptureFixture
) -> None:
    # Not required (the test settings): having an authenticator is enough to be asked.
    device = authenticator_for(agent)
    sign_in(client, agent)
    assert client.get("/cases/")["Location"] == f"{VERIFY}?next=%2Fcases%2F"
    assert client.get("/", headers={"HX-Request": "true"})["HX-Redirect"] == VERIFY

    caplog.set_level(logging.INFO, logger="portal.security")
    wrong = client.post(VERIFY, {"code": "123456", "next": "/cases/"})
    assert wrong.status_code == 200
    assert "That code did not work" in wrong.content.decode()
    assert "code refused: user='avery'" in caplog.text
    assert client.get("/cases/").status_code == 302

    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        right = client.post(VERIFY, {"code": code_for(device), "next": "/cases/"})
        assert right.status_code == 302
        assert right["Location"] == "/cases/"
        assert client.get("/cases/").status_code == 200
    assert "123456" not in caplog.text


def test_codes_are_throttled_after_a_wrong_one(client: Client, agent: User) -> None:
    device = authenticator_for(agent)
    sign_in(client, agent)
    with time_machine.travel(timezone.now(), tick=False):
        client.post(VERIFY, {"code": "111111"})
        client.post(VERIFY, {"code": "222222"})
        # Right code, but too soon after two wrong ones: django-otp's throttle refuses it.
        answer = client.post(VERIFY, {"code": code_for(device)})
        assert "Too many wrong codes" in answer.content.decode()
        assert client.get("/cases/").status_code == 302


def test_a_recovery_code_works_once_only(client: Client, agent: User) -> None:
    from portal.accounts.mfa import issue_recovery_codes

    authenticator_for(agent)
    codes = issue_recovery_codes(agent)
    sign_in(client, agent)
    # Typed as people type them: upper case, a space in the middle.
    typed = f"{codes[3][:4].upper()} {codes[3][4:].upper()}"
    assert client.post(VERIFY, {"code": typed})["Location"] == "/"
    assert client.get("/cases/").status_code == 200
    client.post("/accounts/logout/")

    sign_in(client, agent)
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        again = client.post(VERIFY, {"code": codes[3]})
    assert "That code did not work" in again.content.decode()
    assert client.get("/cases/").status_code == 302
    assert StaticToken.objects.filter(device__user=agent).count() == 9


def test_not_required_and_no_authenticator_goes_straight_in(client: Client, agent: User) -> None:
    sign_in(client, agent)
    assert client.get("/cases/").status_code == 200
    assert client.get("/").context["nav_items"]


@pytest.mark.usefixtures("required")
def test_required_admin_pages_need_a_verified_session(client: Client, admin_user: User) -> None:
    device = authenticator_for(admin_user)
    sign_in(client, admin_user)
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    # A session owing a code cannot add a second authenticator with the password alone.
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200


def test_removing_the_authenticator_needs_the_password_and_a_code(client: Client, agent: User) -> None:
    device = authenticator_for(agent)
    sign_in(client, agent)
    client.post(VERIFY, {"code": code_for(device)})
    device.refresh_from_db()
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        refused = client.post("/accounts/security/remove/", {"password": "wrong", "code": code_for(device)})
        assert "That password is not right" in refused.content.decode()
        assert TOTPDevice.objects.filter(user=agent).exists()
        removed = client.post(
            "/accounts/security/remove/", {"password": "pw-avery", "code": code_for(device)}
        )
        assert removed["Location"] == "/accounts/security/"
    assert not TOTPDevice.objects.filter(user=agent).exists()
    assert "Off." in client.get("/accounts/security/").content.decode()


def test_new_recovery_codes_replace_the_old_ones(client: Client, agent: User) -> None:
    from portal.accounts.mfa import issue_recovery_codes

    authenticator_for(agent)
    old = issue_recovery_codes(agent)
    sign_in(client, agent)
    client.post(VERIFY, {"code": old[0]})
    answer = client.post("/accounts/security/recovery-codes/")
    new = answer.context["codes"]
    assert len(new) == 10
    assert set(StaticToken.objects.filter(device__user=agent).values_list("token", flat=True)) == set(new)

"""Staff one-time codes: set-up, the code step at sign-in, recovery codes, and the gate."""

from __future__ import annotations

import importlib
import logging
import math
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.codes import ALPHABET, RECOVERY_CODE_LENGTH, normalise, recovery_digest
from portal.accounts.mfa import issue_recovery_codes
from portal.models import RecoveryCode, RecoveryCodes

pytestmark = pytest.mark.django_db

SETUP = "/accounts/security/setup/"
VERIFY = "/accounts/code/"


def stored_digests(user: User) -> list[str]:
    return sorted(RecoveryCode.objects.filter(device__user=user).values_list("digest", flat=True))


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
    assert stored_digests(agent) == sorted(recovery_digest(code) for code in codes)
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
    authenticator_for(agent)
    codes = issue_recovery_codes(agent)
    sign_in(client, agent)
    # Typed as people type them: lower case, spaces instead of dashes.
    typed = codes[3].replace("-", " ").lower()
    assert client.post(VERIFY, {"code": typed})["Location"] == "/"
    assert client.get("/cases/").status_code == 200
    client.post("/accounts/logout/")

    sign_in(client, agent)
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        again = client.post(VERIFY, {"code": codes[3]})
    assert "That code did not work" in again.content.decode()
    assert client.get("/cases/").status_code == 302
    assert RecoveryCode.objects.filter(device__user=agent).count() == 9


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
    authenticator_for(agent)
    old = issue_recovery_codes(agent)
    sign_in(client, agent)
    client.post(VERIFY, {"code": old[0]})
    answer = client.post("/accounts/security/recovery-codes/")
    new = answer.context["codes"]
    assert len(new) == 10
    assert stored_digests(agent) == sorted(recovery_digest(code) for code in new)
    assert not set(stored_digests(agent)) & {recovery_digest(code) for code in old}


def database_text() -> str:
    """Every value in every table of the test database, as one lower-case string."""
    values: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            values.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(values).lower()


def test_recovery_codes_are_never_stored_in_plain_text(agent: User) -> None:
    """OWASP ASVS 6.5.2: short lookup secrets must not be readable from the database."""
    authenticator_for(agent)
    codes = issue_recovery_codes(agent)
    text = database_text()
    for code in codes:
        assert normalise(code) not in text
        assert code.lower() not in text
        # Not even one group of eight characters, as django-otp's static tokens were.
        assert normalise(code)[:8] not in text
    assert stored_digests(agent) == sorted(recovery_digest(code) for code in codes)
    assert all(len(digest) == 64 for digest in stored_digests(agent))


def test_recovery_codes_carry_at_least_112_bits() -> None:
    """Enough entropy that a plain SHA-256 digest is an acceptable way to store them."""
    assert len(set(ALPHABET)) == len(ALPHABET) == 32
    assert RECOVERY_CODE_LENGTH * math.log2(len(ALPHABET)) >= 112
    codes = [normalise(code) for code in issue_recovery_codes(User.objects.create(username="riley"))]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == RECOVERY_CODE_LENGTH
        assert set(code) <= set(ALPHABET.lower())


def test_a_recovery_code_is_used_up_once_even_by_two_requests_at_the_same_time(agent: User) -> None:
    codes = issue_recovery_codes(agent)
    # Both loaded before either uses the code, as two parallel requests would have them.
    first = RecoveryCodes.objects.get(user=agent)
    second = RecoveryCodes.objects.get(user=agent)
    assert first.verify_token(normalise(codes[0]))
    assert not second.verify_token(normalise(codes[0]))
    assert RecoveryCode.objects.filter(device__user=agent).count() == 9


def test_plain_codes_from_the_previous_version_are_hashed_and_keep_working(
    client: Client, agent: User
) -> None:
    """django-otp's static tokens (8 characters, plain text) move to the digest table, then go."""
    migration = importlib.import_module("portal.migrations.0004_recovery_codes")
    authenticator_for(agent)
    with connection.cursor() as cursor:
        # The columns of the old otp_static tables that the migration reads.
        cursor.execute(
            "CREATE TABLE otp_static_staticdevice (id integer PRIMARY KEY,"
            " user_id integer NOT NULL, name varchar(64), confirmed boolean NOT NULL)"
        )
        cursor.execute(
            "CREATE TABLE otp_static_statictoken"
            " (id integer PRIMARY KEY, device_id integer NOT NULL, token varchar(16) NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO otp_static_staticdevice VALUES (1, %s, 'Recovery codes', true)", [agent.pk]
        )
        cursor.execute("INSERT INTO otp_static_statictoken VALUES (1, 1, 'abcdefgh'), (2, 1, 'ijklmnop')")

    migration.hash_plain_codes(apps, SimpleNamespace(connection=connection))

    assert "abcdefgh" not in database_text()
    assert stored_digests(agent) == sorted([recovery_digest("abcdefgh"), recovery_digest("ijklmnop")])
    sign_in(client, agent)
    assert client.post(VERIFY, {"code": "ABCD EFGH"})["Location"] == "/"
    assert RecoveryCode.objects.filter(device__user=agent).count() == 1
    # Still usable, but weak: the security page asks for new ones until they are made.
    assert "please make new recovery codes" in client.get("/accounts/security/").content.decode()
    client.post("/accounts/security/recovery-codes/")
    assert "please make new recovery codes" not in client.get("/accounts/security/").content.decode()

"""Sessions end after inactivity and a fixed time after signing in; polling is not activity."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from portal.accounts import sessions

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 3, 2, 8, 0, tzinfo=datetime.now().astimezone().tzinfo)
POLL = {"HX-Request": "true", "X-Background-Poll": "1"}


def test_a_session_left_idle_ends_with_a_message(client: Client, agent: User) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(agent)
        assert client.get("/cases/").status_code == 200
        clock.shift(timedelta(minutes=29))
        assert client.get("/cases/").status_code == 200
        clock.shift(timedelta(minutes=30, seconds=1))
        ended = client.get("/cases/")
        assert ended.status_code == 302
        assert ended["Location"] == "/accounts/login/?next=%2Fcases%2F"
        login_page = client.get(ended["Location"]).content.decode()
        assert "You were signed out after 30 minutes of inactivity" in login_page
        assert client.get("/cases/").status_code == 302


def test_activity_keeps_the_session_but_only_for_twelve_hours(client: Client, agent: User) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(agent)
        for _ in range(11 * 3 + 2):  # every 20 minutes, for 11 h 40 min
            clock.shift(timedelta(minutes=20))
            assert client.get("/cases/").status_code == 200
        clock.shift(timedelta(minutes=20))
        ended = client.get("/cases/")
        assert ended.status_code == 302
        message = client.get(ended["Location"]).content.decode()
        assert "signed in more than 12 hours ago" in message


def test_background_polling_does_not_keep_a_session_alive(client: Client, agent: User) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(agent)
        for _ in range(5):
            clock.shift(timedelta(minutes=5))
            assert client.get("/", headers=POLL).status_code == 200
        clock.shift(timedelta(minutes=5, seconds=1))
        # 30 minutes since the last real activity: the next poll is sent to sign in.
        ended = client.get("/", headers=POLL)
        assert ended["HX-Redirect"] == "/accounts/login/"


def test_a_request_that_is_not_a_poll_does_keep_it_alive(client: Client, agent: User) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(agent)
        clock.shift(timedelta(minutes=20))
        assert client.get("/", headers={"HX-Request": "true"}).status_code == 200
        clock.shift(timedelta(minutes=20))
        assert client.get("/cases/").status_code == 200


def test_activity_is_written_at_most_once_a_minute(client: Client, agent: User, settings) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(agent)
        clock.shift(timedelta(seconds=30))
        assert settings.SESSION_COOKIE_NAME not in client.get("/cases/").cookies
        clock.shift(timedelta(seconds=31))
        refreshed = client.get("/cases/").cookies[settings.SESSION_COOKIE_NAME]
        # The cookie lives a little longer than the idle limit, so the page can say what happened.
        assert int(refreshed["max-age"]) == (30 + 5) * 60


def test_the_polling_elements_are_marked_as_background() -> None:
    for template in (
        "templates/diagnosis/partials/test_sms_panel.html",
        "templates/diagnosis/leads/dashboard.html",
        "templates/portal/home.html",
        "templates/diagnosis/partials/case_live_poller.html",
        "templates/diagnosis/partials/home_notifications.html",
    ):
        text = (ROOT / template).read_text()
        assert "every " in text
        assert """hx-headers='{"X-Background-Poll": "1"}'""" in text


def test_production_cookies_carry_the_host_prefix() -> None:
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="0",
        SECRET_KEY="prod-" + "x7Yq2" * 12,
        ALLOWED_HOSTS="x",
    )
    script = "import django; django.setup(); from django.conf import settings as s; "
    script += "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_AGE, s.STAFF_MFA_REQUIRED)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["__Host-sessionid", "__Host-csrftoken", str(35 * 60), "True"], (
        result.stderr
    )


@pytest.mark.parametrize(
    ("hours", "minutes", "idle", "expected"),
    [
        (1, 30, 10, "You were signed out because you signed in more than 1 hour ago."),
        (12, 1, 120, "You were signed out after 1 minute of inactivity."),
        (12, 30, 3600, "You were signed out after 30 minutes of inactivity."),
    ],
)
def test_the_reason_a_session_ended_reads_in_the_singular_too(
    settings: Any, hours: int, minutes: int, idle: int, expected: str
) -> None:
    settings.STAFF_SESSION_MAX_HOURS, settings.STAFF_SESSION_IDLE_MINUTES = hours, minutes
    now = 10_000_000.0
    session = {sessions.SIGNED_IN_AT: now - 3 * 3600, sessions.LAST_ACTIVE_AT: now - idle}

    reason = sessions.ended_because(session, now)

    assert reason is not None and reason.startswith(expected)

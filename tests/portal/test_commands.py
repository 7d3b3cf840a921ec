"""seed_demo and the production configuration check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings

from diagnosis.models import Case, CaseState, Message, StatusReport
from diagnosis.support import tickets
from portal import roles

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_uses_demo_password(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo-secret-123")

    call_command("seed_demo")
    call_command("seed_demo")

    assert User.objects.filter(username__in=["agent", "lead", "admin"]).count() == 3
    agent = authenticate(username="agent", password="demo-secret-123")
    assert agent is not None and agent.has_perm(roles.WORK_CASES) and not agent.has_perm(roles.REVIEW_TEAM)
    lead = authenticate(username="lead", password="demo-secret-123")
    assert lead is not None and lead.has_perm(roles.REVIEW_TEAM)
    assert User.objects.get(username="admin").is_superuser
    out = capsys.readouterr().out
    assert out.count("agent  / demo-secret-123") == 2
    assert out.count("Created 6 example cases.") == 1
    assert set(Case.objects.values_list("state", flat=True)) == set(CaseState.values)


@pytest.mark.django_db
def test_seed_demo_generates_and_keeps_a_password(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)

    call_command("seed_demo")
    password = (tmp_path / "demo-password").read_text().strip()
    call_command("seed_demo")

    assert len(password) >= 12
    assert authenticate(username="lead", password=password) is not None
    assert capsys.readouterr().out.count(password) == 6


@pytest.mark.django_db
def test_seed_demo_message_ids_fit_the_public_form_and_one_is_ready_for_self_help(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo-secret-123")

    call_command("seed_demo")
    call_command("seed_demo")

    ids = list(Message.objects.values_list("msg_id", flat=True))
    assert ids and tickets.parse_msg_ids("\n".join(ids)) == (ids, [])
    out = capsys.readouterr().out
    offered = re.findall(r"message id (\S+)", out)
    assert len(offered) == 2 and offered[0] == offered[1], out
    # The offered id reads as a delivered message on the public form, and belongs to no case.
    assert tickets.parse_msg_ids(offered[0]) == ([offered[0]], [])
    assert tickets.delivered_message([offered[0]]) == offered[0]
    assert offered[0] not in ids
    assert StatusReport.objects.filter(msg_id=offered[0]).count() == 1


@pytest.mark.django_db
def test_seed_demo_refuses_production(settings: Settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.filter(username="agent").exists()


def _production_env(**extra: str) -> dict[str, str]:
    # A clean environment, as on a server: nothing leaks in from the test run.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "0",
            "SECRET_KEY": "prod-" + "x7Yq2" * 12,
            "ALLOWED_HOSTS": "support.example.com",
            "CSRF_TRUSTED_ORIGINS": "https://support.example.com",
            **extra,
        }
    )
    return env


def test_check_deploy_is_silent_with_production_settings() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SECRET_KEY", "short", "too weak"),
        ("DEBUG", "maybe", "not a boolean"),
        ("TIME_ZONE", "Mars/Olympus", "not a known time zone"),
        ("HEARTBEAT_INTERVAL_SECONDS", "0", "at least 1"),
    ],
)
def test_bad_configuration_stops_with_a_clear_message(variable: str, value: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_production_env(**{variable: value}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr

"""status_source and delivery_status: the command-line interfaces operators script against."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from pytest_django import Settings

from diagnosis.delivery import ingest
from diagnosis.models import Case, StatusSource, token_digest
from tests.diagnosis.conftest import MSG_ID, rows_holding, store_report


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> str:
    call_command(*args)
    return capsys.readouterr().out


@pytest.mark.django_db
def test_create_list_and_revoke_sources(capsys: pytest.CaptureFixture[str], settings: Settings) -> None:
    settings.PORTAL_BASE_URL = "https://support.example.com"

    url = run("status_source", "create", "huawei-intl", capsys=capsys).strip()
    source = StatusSource.objects.get(name="huawei-intl")
    match = re.fullmatch(r"https://support\.example\.com/hooks/sms-status/([\w-]{43})/", url)
    assert match is not None, url
    assert source.token_hash == token_digest(match.group(1))
    run("status_source", "create", "signed", "--push-ak", "ak", "--push-sk", "sk", capsys=capsys)

    listing = run("status_source", "list", capsys=capsys)
    assert "huawei-intl\tactive\tunsigned\tcreated " in listing
    assert "signed\tactive\tsigned" in listing
    assert "/hooks/" not in listing  # the address is shown once, at creation

    assert "Revoked huawei-intl." in run("status_source", "revoke", "huawei-intl", capsys=capsys)
    source.refresh_from_db()
    assert not source.is_active


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "x", "--push-ak", "ak"), "both --push-ak and --push-sk"),
        (("revoke", "nobody"), "No active source named 'nobody'"),
    ],
)
def test_source_command_errors(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("status_source", *args)


@pytest.mark.django_db
def test_duplicate_source_name_is_refused() -> None:
    call_command("status_source", "create", "twice")
    with pytest.raises(CommandError, match="already exists"):
        call_command("status_source", "create", "twice")


def test_delivery_status_json(make_case: Callable[..., Case], capsys: pytest.CaptureFixture[str]) -> None:
    case = make_case()
    store_report(MSG_ID, "DELIVRD", origin="2")
    store_report(MSG_ID, "ACCEPTD")

    data = json.loads(run("delivery_status", MSG_ID, "--json", capsys=capsys))

    assert data["sms_msg_id"] == MSG_ID
    assert {r["status"] for r in data["reports"]} == {"DELIVRD", "ACCEPTD"}
    first = next(r for r in data["reports"] if r["status"] == "DELIVRD")
    assert (
        first["channel"] == "callback"
        and first["source"] == "2"
        and first["update_time"]
        and first["received_at"]
    )
    assert data["cases"] == [{"reference": case.reference, "state": "new", "current_node": "report_returned"}]


@pytest.mark.django_db
def test_delivery_status_json_names_the_platform_fields_as_the_platform_does(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    source = StatusSource.objects.create(name="cb")
    body = (
        f"smsMsgId={MSG_ID}&status=DELIVRD&source=2&total=2&sequence=1&updateTime=2024-05-01T08%3A00%3A05Z"
        "&extend=order-42&to=%2B447700900123"
    )
    client.post(source.callback_path(), data=body, content_type="application/x-www-form-urlencoded")
    ingest.record_manual(MSG_ID, "UNDELIV")

    data = json.loads(run("delivery_status", MSG_ID, "--json", capsys=capsys))

    pushed, entered = data["reports"]
    assert {key: pushed[key] for key in ("status", "source", "channel", "to", "extend")} == {
        "status": "DELIVRD",
        "source": "2",
        "channel": "callback",
        "to": "+447700900123",
        "extend": "order-42",
    }
    assert (pushed["sequence"], pushed["total"], pushed["parts_inconsistent"]) == (1, 2, False)
    assert pushed["update_time"] == "2024-05-01T08:00:05+00:00"
    assert "origin" not in pushed  # the portal's channel went by that name; the platform has none
    assert {key: entered[key] for key in ("source", "channel", "to", "extend")} == {
        "source": None,
        "channel": "manual",
        "to": None,
        "extend": None,
    }
    assert "via callback" in run("delivery_status", MSG_ID, capsys=capsys)


def test_delivery_status_text(db: None, capsys: pytest.CaptureFixture[str]) -> None:
    out = run("delivery_status", "unknown-id", capsys=capsys)
    assert "no status report stored" in out


@pytest.mark.django_db
def test_the_database_keeps_only_the_hash_of_a_callback_token(capsys: pytest.CaptureFixture[str]) -> None:
    url = run("status_source", "create", "huawei-intl", capsys=capsys).strip()
    token = url.rstrip("/").rsplit("/", 1)[1]

    assert rows_holding(token) == []
    body = "smsMsgId=hashed-1&status=DELIVRD&updateTime=2026-11-20T10:00:00Z"
    client = Client()
    form = "application/x-www-form-urlencoded"
    assert client.post(f"/hooks/sms-status/{token}/", data=body, content_type=form).status_code == 200
    stored = StatusSource.objects.get().token_hash
    assert client.post(f"/hooks/sms-status/{stored}/", data=body, content_type=form).status_code == 404


@pytest.mark.django_db
def test_rotating_a_source_prints_a_new_url_and_the_old_one_stops_working(
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = run("status_source", "create", "huawei-intl", capsys=capsys).strip()
    new = run("status_source", "rotate", "huawei-intl", capsys=capsys).strip()

    body = "smsMsgId=rotated-1&status=DELIVRD&updateTime=2026-11-20T10:00:00Z"
    client, form = Client(), "application/x-www-form-urlencoded"
    assert new != old
    assert client.post(urlsplit(old).path, data=body, content_type=form).status_code == 404
    assert client.post(urlsplit(new).path, data=body, content_type=form).status_code == 200
    with pytest.raises(CommandError, match="No active source named 'nobody'"):
        call_command("status_source", "rotate", "nobody")

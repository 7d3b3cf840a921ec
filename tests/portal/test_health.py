"""/healthz: the shape load balancers and people read, ok and degraded."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest.mock import ANY

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django import Settings

from portal import heartbeat
from portal.models import BeatProcess

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def test_healthy_when_every_check_passes(client: Client) -> None:
    worker_at = heartbeat.record("worker")
    beat_at = heartbeat.record("beat")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": True},
            "worker": {"ok": True, "last_heartbeat": worker_at.isoformat()},
            "beat": {"ok": True, "last_tick": beat_at.isoformat()},
        },
    }


def test_broker_unreachable_is_degraded_with_a_short_reason_and_still_serving(
    client: Client, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CELERY_BROKER_URL = "redis://broker-user:hunter2@127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    heartbeat.record("worker")
    heartbeat.record("beat")

    with caplog.at_level(logging.WARNING, logger="portal.health"):
        response = client.get("/healthz")

    # Callbacks and tickets are still taken without the broker: web servers stay in the pool.
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"] == {"ok": False, "reason": "unreachable"}
    assert body["checks"]["database"] == {"ok": True}
    # Anyone can read /healthz: the host, port and credentials go to the log only.
    for secret in ("127.0.0.1", "broker-user", "hunter2", "refused", "Error", "redis"):
        assert secret not in response.content.decode()
    logged = [r for r in caplog.records if r.name == "portal.health"]
    assert logged and logged[0].levelname == "WARNING"
    assert "broker" in logged[0].getMessage() and "refused" in logged[0].getMessage().lower()


@pytest.mark.django_db(transaction=True)
def test_database_unreachable_names_no_host_port_or_role(
    client: Client, requires_postgres: None, caplog: pytest.LogCaptureFixture
) -> None:
    real = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1", USER="health-probe-role")
    try:
        with caplog.at_level(logging.WARNING, logger="portal.health"):
            response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.update(real)

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == {"ok": False, "reason": "unreachable"}
    assert body["checks"]["worker"]["reason"] == "unknown while the database is unavailable"
    for secret in ("127.0.0.1", "port 1", "health-probe-role", real["NAME"], "OperationalError"):
        assert secret not in response.content.decode()
    detail = " ".join(r.getMessage() for r in caplog.records if r.name == "portal.health")
    assert "database" in detail and "127.0.0.1" in detail and "OperationalError" in detail


def test_missing_background_is_degraded_but_still_serving(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert response.json()["status"] == "degraded"
    assert checks["worker"] == {
        "ok": False,
        "last_heartbeat": None,
        "reason": "no worker heartbeat recorded yet",
    }
    assert checks["beat"]["ok"] is False
    assert checks["beat"]["last_tick"] is None


def test_stale_heartbeat_is_reported_with_its_age(client: Client, settings: Settings) -> None:
    with time_machine.travel(timezone.now() - settings.HEARTBEAT_STALE_AFTER - timedelta(seconds=30)):
        heartbeat.record("worker")
    heartbeat.record("beat")

    checks = client.get("/healthz").json()["checks"]

    assert checks["worker"]["ok"] is False
    assert checks["worker"]["reason"].startswith("last worker heartbeat was ")
    assert checks["beat"]["ok"] is True


def test_healthz_rejects_writes(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


def beat_check(client: Client) -> dict[str, object]:
    return client.get("/healthz").json()["checks"]["beat"]


def test_two_beats_ticking_is_degraded_with_the_reason(client: Client) -> None:
    heartbeat.record("worker")
    heartbeat.record_beat_tick("host-a:101:2026-01-01T00:00:00Z")
    last = heartbeat.record_beat_tick("host-b:202:2026-01-01T00:00:05Z")

    response = client.get("/healthz")

    assert response.status_code == 200  # still serving: web servers stay in the pool
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["beat"] == {
        "ok": False,
        "last_tick": last.isoformat(),
        "reason": "more than one beat is running",
        "beats": 2,
    }


def test_one_beat_ticking_many_times_is_one_beat(client: Client) -> None:
    heartbeat.record("worker")
    for _ in range(3):
        heartbeat.record_beat_tick("host-a:101:2026-01-01T00:00:00Z")

    assert beat_check(client)["ok"] is True


def test_a_restarted_beat_is_one_beat_once_the_old_one_stops_ticking(
    client: Client, settings: Settings
) -> None:
    interval = settings.HEARTBEAT_INTERVAL
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        heartbeat.record("worker")
        heartbeat.record_beat_tick("host-a:101:old")
    with time_machine.travel(start + interval, tick=False):
        heartbeat.record_beat_tick("host-a:202:new")  # killed without a clean stop, restarted
        assert beat_check(client)["reason"] == "more than one beat is running"
    with time_machine.travel(start + interval * 2 + timedelta(seconds=1), tick=False):
        heartbeat.record_beat_tick("host-a:202:new")
        assert beat_check(client)["ok"] is True
    with time_machine.travel(start + settings.HEARTBEAT_STALE_AFTER * 2, tick=False):
        heartbeat.record_beat_tick("host-a:202:new")
    assert list(BeatProcess.objects.values_list("beat_id", flat=True)) == ["host-a:202:new"]


def test_a_beat_that_stops_cleanly_is_forgotten_at_once(client: Client) -> None:
    heartbeat.record("worker")
    heartbeat.record_beat_tick("host-a:101:old")
    heartbeat.forget_beat("host-a:101:old")  # what a stopping beat does at exit
    heartbeat.record_beat_tick("host-a:202:new")

    assert beat_check(client)["ok"] is True


def test_the_staff_status_panel_says_two_schedulers_run(client: Client, agent: User) -> None:
    heartbeat.record("worker")
    heartbeat.record_beat_tick("host-a:101:one")
    heartbeat.record_beat_tick("host-b:202:two")
    client.force_login(agent)

    assert "2 running, should be one" in client.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_real_beat_processes_are_reported(
    client: Client, requires_postgres: None, tmp_path: Path
) -> None:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        # The embedded broker in tmp_path: the beats' messages go nowhere shared.
        "REDIS_URL": "",
        "VAR_DIR": str(tmp_path),
        "HEARTBEAT_INTERVAL_SECONDS": "1",
    }

    def start_beat(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "--app", "portal", "beat", "--loglevel", "WARNING"),
                *(
                    "--schedule",
                    str(tmp_path / f"{name}-schedule"),
                    "--pidfile",
                    str(tmp_path / f"{name}.pid"),
                ),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    beats = [start_beat("a"), start_beat("b")]
    try:
        heartbeat.record("worker")
        deadline = time.monotonic() + 60
        while BeatProcess.objects.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert beat_check(client)["reason"] == "more than one beat is running"

        beats[1].terminate()
        beats[1].wait(timeout=30)
        heartbeat.record("worker")
        deadline = time.monotonic() + 10
        while not beat_check(client)["ok"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert beat_check(client) == {"ok": True, "last_tick": ANY}
        assert BeatProcess.objects.count() == 1  # the stopped beat removed itself
    finally:
        for beat in beats:
            if beat.poll() is None:
                beat.kill()
                beat.wait(timeout=10)

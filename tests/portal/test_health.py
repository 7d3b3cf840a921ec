"""/healthz: the shape load balancers and people read, ok and degraded."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from portal import heartbeat

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


def test_broker_unreachable_is_503_with_the_reason(client: Client, settings: object) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    heartbeat.record("worker")
    heartbeat.record("beat")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["ok"] is False
    assert "refused" in body["checks"]["broker"]["reason"].lower()
    assert body["checks"]["database"] == {"ok": True}


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


def test_stale_heartbeat_is_reported_with_its_age(client: Client, settings: object) -> None:
    with time_machine.travel(timezone.now() - settings.HEARTBEAT_STALE_AFTER - timedelta(seconds=30)):
        heartbeat.record("worker")
    heartbeat.record("beat")

    checks = client.get("/healthz").json()["checks"]

    assert checks["worker"]["ok"] is False
    assert checks["worker"]["reason"].startswith("last worker heartbeat was ")
    assert checks["beat"]["ok"] is True


def test_healthz_rejects_writes(client: Client) -> None:
    assert client.post("/healthz").status_code == 405

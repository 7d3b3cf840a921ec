"""The checks behind /healthz and the staff status panel."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from kombu import Connection

from portal.db_retry import reconnecting

Check = dict[str, Any]


def _failed(exc: BaseException) -> Check:
    return {"ok": False, "reason": f"{type(exc).__name__}: {exc}"}


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_database() -> Check:
    # A persistent connection the server dropped says nothing about the database: reconnect once.
    try:
        reconnecting(_select_one)
    except DatabaseError as exc:
        return _failed(exc)
    return {"ok": True}


def check_broker() -> Check:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    try:
        with Connection(settings.CELERY_BROKER_URL, transport_options=options, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        return _failed(exc)
    for key in ("data_folder_in", "data_folder_out"):
        folder = options.get(key)
        if folder and not os.access(folder, os.W_OK):
            return {"ok": False, "reason": f"broker folder {folder} is missing or not writable"}
    return {"ok": True}


def _freshness(stamp: datetime | None, key: str, what: str) -> Check:
    if stamp is None:
        return {"ok": False, key: None, "reason": f"no {what} recorded yet"}
    age = timezone.now() - stamp
    check: Check = {"ok": age <= settings.HEARTBEAT_STALE_AFTER, key: stamp.isoformat()}
    if not check["ok"]:
        check["reason"] = f"last {what} was {int(age.total_seconds())} s ago"
    return check


def heartbeat_stamps() -> dict[str, datetime]:
    from portal.models import Heartbeat

    return dict(Heartbeat.objects.values_list("component", "at"))


def check_background() -> tuple[Check, Check]:
    """Worker and beat freshness, read in one query."""
    try:
        stamps = reconnecting(heartbeat_stamps)
    except DatabaseError as exc:
        return _failed(exc), _failed(exc)
    return background_checks(stamps)


def background_checks(stamps: dict[str, datetime]) -> tuple[Check, Check]:
    return (
        _freshness(stamps.get("worker"), "last_heartbeat", "worker heartbeat"),
        _freshness(stamps.get("beat"), "last_tick", "beat tick"),
    )


def run_checks() -> tuple[dict[str, Any], bool]:
    """All checks, and whether the portal can serve (database and broker up)."""
    database = check_database()
    broker = check_broker()
    if database["ok"]:
        worker, beat = check_background()
    else:
        worker, beat = _unknown("last_heartbeat"), _unknown("last_tick")
    checks = {"database": database, "broker": broker, "worker": worker, "beat": beat}
    report = {
        "status": "ok" if all(c["ok"] for c in checks.values()) else "degraded",
        "checks": checks,
    }
    return report, database["ok"] and broker["ok"]


def _unknown(key: str) -> Check:
    return {"ok": False, key: None, "reason": "unknown while the database is unavailable"}

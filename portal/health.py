"""The checks behind /healthz and the staff status panel."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from kombu import Connection

from portal.db_retry import reconnecting

logger = logging.getLogger(__name__)

Check = dict[str, Any]


def _failed(name: str, exc: BaseException) -> Check:
    """A failed check as anyone may read it: the exception names hosts, ports and roles, so it goes
    only to the log."""
    logger.warning("Health check %s failed: %s: %s", name, type(exc).__name__, exc)
    return {"ok": False, "reason": "unreachable"}


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_database() -> Check:
    # A persistent connection the server dropped says nothing about the database: reconnect once.
    try:
        reconnecting(_select_one)
    except DatabaseError as exc:
        return _failed("database", exc)
    return {"ok": True}


def check_broker() -> Check:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    try:
        with Connection(settings.CELERY_BROKER_URL, transport_options=options, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        return _failed("broker", exc)
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


def running_beats() -> int:
    """How many distinct beat processes ticked within two heartbeat intervals.

    Every live beat ticks once an interval, so it is always inside the window; one
    that stopped drops out within two intervals (at once if it stopped cleanly).
    """
    from portal.models import BeatProcess

    since = timezone.now() - settings.HEARTBEAT_INTERVAL * 2
    return BeatProcess.objects.filter(last_tick__gte=since).count()


def check_background() -> tuple[Check, Check]:
    """Worker and beat freshness, and whether more than one beat is ticking."""
    try:
        stamps = reconnecting(heartbeat_stamps)
        beats = reconnecting(running_beats)
    except DatabaseError as exc:
        failed = _failed("background", exc)
        return failed, failed
    return background_checks(stamps, beats)


def background_checks(stamps: dict[str, datetime], beats: int = 0) -> tuple[Check, Check]:
    beat = _freshness(stamps.get("beat"), "last_tick", "beat tick")
    if beat["ok"] and beats > 1:
        # Periodic tasks guard against it (portal.periodic), but it is a deployment mistake.
        beat = {**beat, "ok": False, "reason": "more than one beat is running", "beats": beats}
    return _freshness(stamps.get("worker"), "last_heartbeat", "worker heartbeat"), beat


def run_checks() -> tuple[dict[str, Any], bool]:
    """All checks, and whether the portal can serve.

    Only the database decides: with the broker down, callbacks and tickets are still
    taken and their background work waits in the database (portal.publish), so a load
    balancer must keep the web servers in.
    """
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
    return report, database["ok"]


def _unknown(key: str) -> Check:
    return {"ok": False, key: None, "reason": "unknown while the database is unavailable"}

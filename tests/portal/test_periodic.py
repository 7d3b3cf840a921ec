"""A doubled schedule (two beats) does each periodic task's work once per slot."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.models import Heartbeat

pytestmark = pytest.mark.django_db

# Each beat entry and the domain function that does its work.
WORK = {
    "heartbeat": "portal.tasks.record",
    "deliver-pending-emails": "diagnosis.cases.outbox.deliver_pending",
    "refresh-trends": "diagnosis.leads.trends.refresh_cached_summaries",
    "waiting-sweep": "diagnosis.cases.sweep.sweep",
    "match-unmatched-reports": "diagnosis.cases.matching.match_unmatched",
    "apply-retention": "diagnosis.cases.retention.apply_retention",
    "dispatch-send-details-imports": "diagnosis.cases.send_details_imports.dispatch_stale",
}


def scheduled_task(entry: str) -> tuple[Any, timedelta]:
    import diagnosis.tasks  # noqa: F401  (registers the tasks a worker would discover)
    import portal.tasks  # noqa: F401
    from portal.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE[entry]
    return app.tasks[schedule["task"]], schedule["schedule"]


def count_calls(monkeypatch: pytest.MonkeyPatch, dotted: str) -> list[object]:
    """Wrap the domain function so each real run is counted, and still done."""
    module_name, name = dotted.rsplit(".", 1)
    module = importlib.import_module(module_name)
    real: Callable[..., object] = getattr(module, name)
    calls: list[object] = []

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_every_beat_entry_is_covered_here() -> None:
    assert set(settings.CELERY_BEAT_SCHEDULE) == set(WORK)


@pytest.mark.parametrize("entry", sorted(WORK))
def test_two_beats_in_one_slot_do_the_work_once_and_the_next_slot_runs_again(
    entry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    task, interval = scheduled_task(entry)
    calls = count_calls(monkeypatch, WORK[entry])
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        task()  # the first beat's message
    with time_machine.travel(start + timedelta(seconds=1), tick=False):
        task()  # the second beat's message for the same slot
    assert len(calls) == 1

    with time_machine.travel(start + interval, tick=False):
        task()  # the next slot
    assert len(calls) == 2


def test_the_second_heartbeat_in_a_slot_leaves_the_worker_stamp_alone() -> None:
    task, interval = scheduled_task("heartbeat")
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        first = task()
    with time_machine.travel(start + timedelta(seconds=2), tick=False):
        task()
    assert Heartbeat.objects.get(component="worker").at.isoformat() == first

    with time_machine.travel(start + interval, tick=False):
        later = task()
    assert later == (start + interval).isoformat()
    assert Heartbeat.objects.get(component="worker").at == start + interval


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_slot_let_exactly_one_run_through(requires_postgres: None) -> None:
    from portal.models import PeriodicSlot
    from portal.periodic import claim_slot

    interval = timedelta(minutes=1)

    def race() -> list[bool]:
        barrier = threading.Barrier(6)
        won: list[bool] = []

        def claim() -> None:
            try:
                barrier.wait()
                won.append(claim_slot("race", interval))
            finally:
                connection.close()

        threads = [threading.Thread(target=claim) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return won

    first = race()  # no row yet: the INSERT decides
    PeriodicSlot.objects.filter(name="race").update(started_at=timezone.now() - interval)
    later = race()  # the row exists: the conditional UPDATE decides

    assert (sorted(first), sorted(later)) == ([False] * 5 + [True], [False] * 5 + [True])

"""The suite really talks to PostgreSQL and to a Celery worker on Redis when configured."""

from __future__ import annotations

import pytest
from django.db import connection

from portal.models import Heartbeat
from portal.tasks import heartbeat


@pytest.mark.django_db
def test_suite_runs_on_postgresql(requires_postgres: None) -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    assert version.startswith("PostgreSQL")


def test_celery_round_trip_through_a_real_worker(celery_worker: object) -> None:
    from portal.celery import app

    assert not app.conf.task_always_eager
    result = heartbeat.apply_async(ignore_result=False)
    stamped = result.get(timeout=20)
    row = Heartbeat.objects.get(component=Heartbeat.Component.WORKER)
    assert row.at.isoformat() == stamped

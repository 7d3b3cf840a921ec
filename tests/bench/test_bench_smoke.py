"""The bench must not rot: seed a few thousand rows and replay every measurement once.

No timing is asserted; this proves that the seeding, the scenarios, the baselines, the
query counter, the import and the sweep measurements still run against the current code.
HTTP goes through Django's test client in process, on the test database (never `bench`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from bench import offline, scenarios, seed_scale
from diagnosis.models import Case, CaseState, StatusReport


@pytest.fixture
def bench_urls(settings: Any) -> None:
    """The bench's URLconf (portal plus baselines), query counter and baseline templates."""
    settings.ROOT_URLCONF = "bench.urls"
    settings.MIDDLEWARE = ["bench.middleware.query_count", *settings.MIDDLEWARE]
    template = settings.TEMPLATES[0]
    settings.TEMPLATES = [
        {**template, "DIRS": [*template["DIRS"], settings.BASE_DIR / "bench" / "templates"]}
    ]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_seed_scale_writes_every_state_and_reports(requires_postgres: None) -> None:
    seed_scale.seed(cases=2000, reports=20_000, reset=True, say=lambda _: None)

    states = set(Case.objects.values_list("state", flat=True).distinct())
    assert states == set(CaseState.values)
    assert StatusReport.objects.count() == 20_000
    assert not Case.objects.filter(state=CaseState.WAITING, wait_deadline__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_bench_measurements_run_at_small_scale(
    requires_postgres: None, bench_urls: None, tmp_path: Path
) -> None:
    started = time.time()
    seed_scale.seed(cases=2000, reports=5000, reset=True, say=lambda _: None)
    fixtures = scenarios.prepare(pool_size=10)

    for scenario in scenarios.scenarios(fixtures):
        for side in (scenario.portal, scenario.baseline):
            measured = scenarios.run_client(side, 2, run_id="smoke")
            assert measured.errors == 0, f"{scenario.name}: {side.paths[0]}"
            assert measured.queries_max >= 1
    scenarios.release(fixtures, started)
    assert Case.objects.filter(reference__in=fixtures.step_pool, state=CaseState.NEW).count() == 10

    swept = offline.measure_sweep(50)
    assert swept.handled_once, swept

    path = tmp_path / "send-details.csv"
    offline.write_send_details(path, 300)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": _database_url()}
    imported = offline.measure_import(path, 300, env)
    assert "Imported: 300" in imported.output
    assert imported.peak_rss_mb > 0
    assert not StatusReport.objects.filter(channel="import").exists()
    assert settings.ROOT_URLCONF == "bench.urls"

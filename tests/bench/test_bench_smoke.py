"""The bench must not rot: seed a few thousand rows and replay every measurement once.

No timing is asserted; this proves that the seeding, the scenarios (with their targets),
the baselines, the query counter, the import and the sweep measurements (borrowing open
cases when short), the growth table and the README rewrite still run against the current code.
HTTP goes through Django's test client in process, on the test database (never `bench`).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench import growth, offline, readme, run, scenarios, seed_scale
from diagnosis.models import Case, CaseState, Event, StatusReport


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

    heavy = Case.objects.get(reference=fixtures.heavy_reference)
    assert Event.objects.filter(case=heavy, kind="note").count() >= scenarios.HEAVY_ITEMS

    rows = []
    for scenario in scenarios.scenarios(fixtures):
        measured = {}
        for side, request in (("portal", scenario.portal), ("baseline", scenario.baseline)):
            measured[side] = scenarios.run_client(request, 2, run_id="smoke")
            assert measured[side].errors == 0, f"{scenario.name}: {request.paths[0]}"
            assert measured[side].queries_max >= 1
        portal, baseline = asdict(measured["portal"]), asdict(measured["baseline"])
        ratio, met = run._ratio(scenario, portal, baseline)
        rows.append(
            {"name": scenario.name, "portal": portal, "baseline": baseline, "ratio": ratio, "met": met}
            | {"target_label": scenario.target.label, "unique": False}
        )
    assert (
        len(rows) == 12
    )  # the paths of issue 15: five queue pages, two case pages, step, tracking, dashboard, two callbacks
    scenarios.release(fixtures, started)
    assert Case.objects.filter(reference__in=fixtures.step_pool, state=CaseState.NEW).count() == 10
    assert not StatusReport.objects.filter(dedupe_key__startswith=scenarios.HEAVY_KEY).exists()
    assert not Event.objects.filter(case=heavy, kind="note").exists()

    swept = offline.measure_sweep(50)
    assert swept.handled_once, swept
    assert swept.borrowed == 0

    # Too few waiting cases with a deadline an hour ahead: the sweep borrows open ones, then puts them back.
    keep = list(Case.objects.filter(state=CaseState.WAITING).order_by("pk").values_list("pk", flat=True)[:40])
    Case.objects.filter(state=CaseState.WAITING).exclude(pk__in=keep).update(
        wait_deadline=timezone.now() + timedelta(minutes=30)
    )
    before = {c["id"]: c for c in Case.objects.filter(state__in=["new", "in_progress"]).values()}
    short = offline.measure_sweep(50)
    assert short.borrowed == 10 and short.handled_once, short
    after = {c["id"]: c for c in Case.objects.filter(pk__in=before).values()}
    assert after == before

    point = growth.point({"cases": 2000, "reports": 5000}, rows, asdict(swept))
    curve = growth.summarize([point, {**point, "cases": 200, "label": "200"}])
    result: dict[str, Any] = {
        "started": "2026-01-01T00:00:00+00:00",
        "scale": {"cases": 2000, "reports": 5000},
        "http": rows,
        "sweep": asdict(swept),
        "growth": curve,
    }
    result["table"] = markdown = run.table(result)
    assert "| Growth | 200 cases | 2k cases |" in markdown
    text = f"intro\n{readme.START}\nold\n{readme.END}\nafter\n"
    rewritten = readme.rewrite(text, result)
    assert "old" not in rewritten and markdown in rewritten and rewritten.endswith("after\n")

    path = tmp_path / "send-details.csv"
    offline.write_send_details(path, 300)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": _database_url()}
    imported = offline.measure_import(path, 300, env)
    assert "Imported: 300" in imported.output
    assert imported.peak_rss_mb > 0
    assert not StatusReport.objects.filter(channel="import").exists()
    assert settings.ROOT_URLCONF == "bench.urls"

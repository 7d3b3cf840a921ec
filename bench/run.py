"""`make bench`: seed if needed, serve the portal with production settings, measure, report.

Every figure is measured beside its baseline in the same run, on the same database:
HTTP pages and callbacks with wrk (`bench/wrk.lua`, scenarios and their targets in
`bench/scenarios.py`), the Send Details import and the waiting sweep in `bench/offline.py`,
then the growth curve on smaller databases (`bench/growth.py`). Prints README-ready
Markdown tables and writes `bench/results/<time>.json` plus `bench/results/latest.json`
(`python -m bench.readme` copies the tables into README.md).

Environment: BENCH_CASES / BENCH_REPORTS (seed size when the database is empty),
BENCH_DB (database name, default `bench`), BENCH_DURATION (seconds per measurement),
BENCH_CONNECTIONS, BENCH_PORT, BENCH_IMPORT_ROWS, BENCH_SWEEP_CASES, BENCH_WORKERS, BENCH_THREADS,
BENCH_GROWTH (0 skips the growth curve), BENCH_GROWTH_SCALES (default "10000,100000").
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "var" / "bench"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def bench_env() -> dict[str, str]:
    """Production settings for the bench: DEBUG off, PostgreSQL with persistent connections, Redis."""
    db = os.environ.get("BENCH_DB", "bench")
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{db}"),
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(WORK / "static"),
        "LOG_LEVEL": "WARNING",
    }


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    workers, threads = _int("BENCH_WORKERS", 4), _int("BENCH_THREADS", 2)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "portal.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--worker-class=gthread",
        "--log-level=warning",
    ]
    # A statement timeout guards the run: one runaway page query must not slow every later figure.
    limit = _int("BENCH_STATEMENT_TIMEOUT", 30) * 1000
    url = env["DATABASE_URL"] + f"?options=-c%20statement_timeout%3D{limit}"
    server = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env, "DATABASE_URL": url}, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/dashboard/", timeout=5).read()
            return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise RuntimeError("gunicorn did not answer within 30 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def run_wrk(request: Any, port: int, seconds: int, run_id: str, csrf: str) -> dict[str, Any]:
    """One wrk run of one side of a scenario; the Lua script prints the figures as JSON."""
    from bench.scenarios import Measurement

    connections = _int("BENCH_CONNECTIONS", 4)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as paths:
        paths.write("\n".join(request.paths) + "\n")
    env = {
        **os.environ,
        "BENCH_PATHS": paths.name,
        "BENCH_METHOD": request.method,
        "BENCH_BODY": request.body,
        "BENCH_COOKIE": request.cookie,
        "BENCH_CSRF": csrf if request.method == "POST" else "",
        "BENCH_HTMX": "1" if request.htmx else "0",
        "BENCH_RUN": run_id,
        "BENCH_THREADS": "1",
    }
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout=30s", "-s", "bench/wrk.lua"]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    os.unlink(paths.name)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return asdict(Measurement(**data))


def _probe(request: Any, port: int) -> dict[str, Any] | None:
    """One request first: None when the page answers in time; else its failure, measured once."""
    from bench.scenarios import Measurement

    limit = _int("BENCH_STATEMENT_TIMEOUT", 30)
    call = urllib.request.Request(
        f"http://127.0.0.1:{port}{request.paths[0]}", headers={"Cookie": request.cookie}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(call, timeout=limit + 30) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 0
    elapsed = (time.perf_counter() - started) * 1000
    if status == 200 and elapsed < limit * 1000:
        return None
    failed = Measurement(requests=1, p50_ms=round(elapsed, 1), p99_ms=round(elapsed, 1), errors=1)
    failed.extra = {"probe_status": status, "timed_out": elapsed >= limit * 1000 or status == 500}
    return asdict(failed)


def _ratio(scenario: Any, portal: dict[str, Any], baseline: dict[str, Any]) -> tuple[float, bool]:
    if scenario.target.metric == "rps":
        ratio = portal["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    else:
        ratio = portal["p50_ms"] / baseline["p50_ms"] if baseline["p50_ms"] else 0.0
    # A side with no completed request has no figures (wrk reports 0): never a met target.
    failed = portal["errors"] + (0 if portal["requests"] and baseline["requests"] else 1)
    return round(ratio, 2), scenario.target.met(ratio, failed)


def measure_http(
    fixtures: Any, port: int, seconds: int, run_id: str, only: set[str] | None = None, baseline: bool = True
) -> list[dict[str, Any]]:
    """Each scenario (or those named in `only`): a warm-up pass, then baseline and portal under load."""
    from bench.scenarios import scenarios

    rows = []
    for scenario in scenarios(fixtures):
        if only is not None and scenario.name not in only:
            continue
        started = time.monotonic()
        probe = None
        if scenario.portal.method == "GET":
            probe = _probe(scenario.portal, port)
            if probe is None:  # a short pass first, so both sides run with warm caches and connections
                run_wrk(scenario.portal, port, 2, run_id + "w", fixtures.csrf)
            if baseline:
                run_wrk(scenario.baseline, port, 2, run_id + "w", fixtures.csrf)
        base = run_wrk(scenario.baseline, port, seconds, run_id + "b", fixtures.csrf) if baseline else None
        portal = probe or run_wrk(scenario.portal, port, seconds, run_id + "p", fixtures.csrf)
        ratio, met = _ratio(scenario, portal, base) if base else (0.0, False)
        row = {
            "name": scenario.name,
            "compare": scenario.compare,
            "target": {"metric": scenario.target.metric, "limit": scenario.target.limit},
            "target_label": scenario.target.label,
            "portal": portal,
            "baseline": base,
            "ratio": ratio,
            "met": met,
            "note": scenario.note,
            "unique": scenario.portal.body == "step",
            "seconds": round(time.monotonic() - started, 1),
        }
        rows.append(row)
        if base:
            print(_http_line(row), flush=True)
    return rows


HTTP_HEADER = (
    "| Request | req/s | p50 ms | p99 ms | queries | base req/s | base p50 | base p99 | base q "
    "| ratio | target |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)
JOB_HEADER = (
    "| Batch job | time | rate | peak memory | baseline | ratio | target |\n|---|---:|---:|---:|---|---:|---|"
)


def _mark(met: bool) -> str:
    return "✅" if met else "❌"


def _http_line(row: dict[str, Any]) -> str:
    p, b = row["portal"], row["baseline"]
    flags = []
    if p.get("extra", {}).get("probe_status") is not None:
        flags.append(
            f"one probe: HTTP {p['extra']['probe_status']} after {p['p50_ms'] / 1000:.0f} s; not loaded"
        )
    elif p["errors"]:
        flags.append(f"{p['errors']} non-2xx")
    elif not p["requests"]:
        flags.append("no request completed within the run")
    if p["wrapped"] and row.get("unique"):
        flags.append(f"{p['wrapped']} requests reused a case")
    flagged = f" ({', '.join(flags)})" if flags else ""
    return (
        f"| {row['name']} | {p['rps']:.0f} | {p['p50_ms']:.1f} | {p['p99_ms']:.1f} | {p['queries_mean']:.1f} "
        f"| {b['rps']:.0f} | {b['p50_ms']:.1f} | {b['p99_ms']:.1f} | {b['queries_mean']:.1f} "
        f"| {row['ratio']:.2f} | {row['target_label']} {_mark(row['met'])}{flagged} |"
    )


def _import_line(imp: dict[str, Any]) -> str:
    from bench.offline import IMPORT_TARGET

    met = IMPORT_TARGET.met(imp["ratio"], imp["peak_rss_mb"])
    return (
        f"| Send Details import, {imp['rows']:,} rows | {imp['seconds']:.1f} s "
        f"| {imp['rows_per_second']:,} rows/s | {imp['peak_rss_mb']:.0f} MB "
        f"| COPY {imp['copy_seconds']:.1f} s ({imp['copy_rows_per_second']:,} rows/s) "
        f"| {imp['ratio']:.3f} | {IMPORT_TARGET.label} {_mark(met)} |"
    )


def _sweep_line(swp: dict[str, Any]) -> str:
    from bench.offline import SWEEP_TARGET

    met = SWEEP_TARGET.met(swp["ratio"], swp["handled_once"])
    rate = swp["due"] / swp["seconds"] if swp["seconds"] else 0
    borrowed = f" ({swp['borrowed']:,} borrowed from open cases)" if swp.get("borrowed") else ""
    return (
        f"| Waiting sweep, {swp['due']:,} due cases{borrowed} | {swp['seconds']:.1f} s "
        f"| {rate:,.0f} cases/s | — "
        f"| UPDATE {swp['update_seconds']:.2f} s | {swp['ratio']:.1f}× "
        f"| {SWEEP_TARGET.label} {_mark(met)}; handled once: {'yes' if swp['handled_once'] else 'NO'} |"
    )


def table(result: dict[str, Any]) -> str:
    """The README-ready Markdown: the HTTP table, the batch jobs, and the growth curve if measured."""
    out = "\n".join([HTTP_HEADER, *(_http_line(row) for row in result["http"])])
    imp, swp = result.get("import"), result.get("sweep")
    if imp or swp:
        out += "\n\n" + JOB_HEADER
    if imp:
        out += "\n" + _import_line(imp)
    if swp:
        out += "\n" + _sweep_line(swp)
    if result.get("growth"):
        from bench import growth

        out += "\n\n" + growth.table(result["growth"])
    return out


def _setup(env: dict[str, str]) -> dict[str, Any]:
    """Django on the bench database: migrated, static files collected, seeded when empty."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    WORK.mkdir(parents=True, exist_ok=True)
    ensure_database(env["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command

    from bench import seed_scale
    from diagnosis.models import Case, StatusReport

    call_command("migrate", "--noinput", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    cases, reports = _int("BENCH_CASES", 1_000_000), _int("BENCH_REPORTS", 10_000_000)
    seed_seconds = None
    if not Case.objects.exists():
        print(f"Seeding {cases:,} cases and {reports:,} reports ...", flush=True)
        t0 = time.perf_counter()
        seed_scale.seed(cases=cases, reports=reports, reset=True)
        seed_seconds = round(time.perf_counter() - t0, 1)
    scale = {"cases": Case.objects.count(), "reports": StatusReport.objects.count()}
    print(f"Database {env['DATABASE_URL'].rsplit('/', 1)[1]}: {scale['cases']:,} cases, ", end="")
    print(f"{scale['reports']:,} status reports", flush=True)
    return {"scale": scale, "seed_seconds": seed_seconds}


def growth_point() -> int:
    """Child mode (`--growth-point`): the growth figures of one smaller database, as one JSON line."""
    from bench import growth

    env = bench_env()
    setup = _setup(env)
    from bench import offline, scenarios

    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%d%H%M%S") + "g"
    port, seconds = _int("BENCH_PORT", 8765), _int("BENCH_DURATION", 10)
    fixtures = scenarios.prepare(pool_size=10)
    server = start_server(env, port)
    try:
        http = measure_http(fixtures, port, seconds, run_id, {name for _, name, _, _ in growth.PAGES}, False)
    finally:
        stop_server(server)
        scenarios.release(fixtures, started.timestamp())
    swept = offline.measure_sweep(growth.GROWTH_SWEEP_CASES).as_dict()
    _forget_tasks(env["REDIS_URL"])
    print("BENCH_GROWTH_JSON " + json.dumps(growth.point(setup["scale"], http, swept)), flush=True)
    return 0


def _elapsed(since: float) -> str:
    return f"[{time.monotonic() - since:.0f} s]"


def main() -> int:
    started = datetime.now(UTC)
    clock = time.monotonic()
    env = bench_env()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    setup = _setup(env)
    from bench import growth, offline, scenarios

    run_id = started.strftime("%Y%m%d%H%M%S")
    port, seconds = _int("BENCH_PORT", 8765), _int("BENCH_DURATION", 10)
    fixtures = scenarios.prepare(pool_size=_int("BENCH_STEP_POOL", 3000))
    server = start_server(env, port)
    try:
        print(f"{_elapsed(clock)} HTTP scenarios, {seconds} s per side", flush=True)
        print(HTTP_HEADER, flush=True)
        http = measure_http(fixtures, port, seconds, run_id)
    finally:
        stop_server(server)
        scenarios.release(fixtures, started.timestamp())
    result: dict[str, Any] = {
        "started": started.isoformat(),
        "scale": setup["scale"],
        "seed_seconds": setup["seed_seconds"],
        "config": {
            "duration_s": seconds,
            "connections": _int("BENCH_CONNECTIONS", 4),
            "gunicorn": f"{_int('BENCH_WORKERS', 4)} workers × {_int('BENCH_THREADS', 2)} threads (gthread)",
            "cpus": os.cpu_count(),
        },
        "http": http,
    }
    measure_growth = os.environ.get("BENCH_GROWTH", "1") != "0"
    small_sweep = None
    if measure_growth:
        print(
            f"{_elapsed(clock)} Sweep per case over {growth.GROWTH_SWEEP_CASES:,} due cases ...", flush=True
        )
        small_sweep = offline.measure_sweep(growth.GROWTH_SWEEP_CASES).as_dict()
    sweep_cases = _int("BENCH_SWEEP_CASES", 100_000)
    if sweep_cases:
        print(f"{_elapsed(clock)} Waiting sweep over up to {sweep_cases:,} due cases ...", flush=True)
        result["sweep"] = offline.measure_sweep(sweep_cases).as_dict()
        print(_sweep_line(result["sweep"]), flush=True)
    import_rows = _int("BENCH_IMPORT_ROWS", 1_000_000)
    if import_rows:
        path = WORK / "send-details.csv"
        offline.write_send_details(path, import_rows)
        print(f"{_elapsed(clock)} Send Details import of {import_rows:,} rows ...", flush=True)
        result["import"] = offline.measure_import(path, import_rows, {**os.environ, **env}).as_dict()
        print(_import_line(result["import"]), flush=True)
        path.unlink()
    _forget_tasks(env["REDIS_URL"])
    if measure_growth:
        points = [growth.point(setup["scale"], http, small_sweep)]
        for cases in growth.scales():
            if cases >= setup["scale"]["cases"]:
                continue
            print(f"{_elapsed(clock)} Growth: {cases:,} cases (seeded when empty) ...", flush=True)
            points.append(growth.measure_point(cases, env))
        result["growth"] = growth.summarize(points)
    result["finished"] = datetime.now(UTC).isoformat()
    result["table"] = table(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in (f"{run_id}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print()
    print(result["table"])
    print(f"\n{_elapsed(clock)} Written to bench/results/{run_id}.json and bench/results/latest.json")
    print("README: python -m bench.readme rewrites its results block from latest.json")
    return 0


def _forget_tasks(url: str) -> None:
    """No worker runs during the bench: drop the tasks the callbacks queued in the bench's Redis db."""
    import redis

    redis.Redis.from_url(url).delete("celery")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # run as a script: the project's packages (bench, portal) come from ROOT
    raise SystemExit(growth_point() if "--growth-point" in sys.argv[1:] else main())

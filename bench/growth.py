"""The growth curve: the same few figures at 10,000, 100,000 and the main database's cases.

`make bench` measures the queue's Unassigned page, the case page, a single callback and
the waiting sweep (time per case over GROWTH_SWEEP_CASES due cases) on databases named
`<BENCH_DB>_10k` and `<BENCH_DB>_100k` (seeded when empty, reports 10× cases), each in a
child process (`bench/run.py --growth-point`) with the same server settings and durations
as the main run; the main database's figures come from the main run itself. A figure at
the largest scale must stay within GROWTH_LIMIT of the same figure at the smallest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GROWTH_LIMIT = 1.5
GROWTH_SWEEP_CASES = 1000
# (key, scenario name in bench.scenarios, label, "p50" or "rps")
PAGES = (
    ("unassigned_p50_ms", "queue: unassigned", "queue: unassigned, p50 ms", "p50"),
    ("case_p50_ms", "case page", "case page, p50 ms", "p50"),
    ("callback_rps", "callback: one report (form)", "callback: one report, req/s", "rps"),
)
SWEEP = ("sweep_ms_per_case", f"waiting sweep, ms per case ({GROWTH_SWEEP_CASES:,} due)")


def scales() -> list[int]:
    """The smaller scales to measure (BENCH_GROWTH_SCALES, comma-separated case counts)."""
    text = os.environ.get("BENCH_GROWTH_SCALES") or "10000,100000"
    return sorted(int(part) for part in text.split(",") if part.strip())


def label(cases: int) -> str:
    """10000 → "10k", 1000000 → "1M", 2500 → "2.5k"."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if cases >= size:
            return f"{cases / size:g}{suffix}"
    return str(cases)


def point(scale: dict[str, int], http: list[dict[str, Any]], sweep: dict[str, Any] | None) -> dict[str, Any]:
    """One column of the curve from measured rows (HTTP rows by scenario name, a sweep result)."""
    by_name = {row["name"]: row["portal"] for row in http}
    out: dict[str, Any] = {"label": label(scale["cases"]), **scale}
    for key, name, _, metric in PAGES:
        measured = by_name.get(name)
        # No completed request (all slower than the run) leaves wrk's percentiles at 0: no figure.
        done = measured is not None and measured["requests"] > 0 and not measured["errors"]
        out[key] = measured["rps" if metric == "rps" else "p50_ms"] if done and measured else None
    out[SWEEP[0]] = round(sweep["seconds_per_case"] * 1000, 3) if sweep and sweep.get("examined") else None
    return out


def measure_point(cases: int, env: dict[str, str]) -> dict[str, Any]:
    """Seed `<BENCH_DB>_<label>` if empty and measure it in a child process."""
    base = os.environ.get("BENCH_DATABASE_URL") or env["DATABASE_URL"]
    db = f"{base.rsplit('/', 1)[1]}_{label(cases)}".replace(".", "_")
    child_env = {
        **os.environ,
        **env,
        "BENCH_DATABASE_URL": base.rsplit("/", 1)[0] + "/" + db,
        "BENCH_DB": db,
        "BENCH_CASES": str(cases),
        "BENCH_REPORTS": str(cases * 10),
        "BENCH_GROWTH": "0",
    }
    child_env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--growth-point"],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_GROWTH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"growth point {db} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(line.removeprefix("BENCH_GROWTH_JSON "))


def _cell(value: float | None, key: str) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if key == "callback_rps" else f"{value:.2f}" if key == SWEEP[0] else f"{value:.1f}"


def summarize(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The curve plus, per figure, the largest scale's ratio to the smallest and whether it holds."""
    ordered = sorted(points, key=lambda p: p["cases"])
    ratios: dict[str, Any] = {}
    for key, metric in [*((k, m) for k, _, _, m in PAGES), (SWEEP[0], "p50")]:
        small, large = ordered[0].get(key), ordered[-1].get(key)
        if not small or not large or len(ordered) < 2:
            ratios[key] = {"ratio": None, "met": False}
            continue
        ratio = small / large if metric == "rps" else large / small
        ratios[key] = {"ratio": round(ratio, 2), "met": ratio <= GROWTH_LIMIT}
    return {"points": ordered, "ratios": ratios, "limit": GROWTH_LIMIT}


def table(growth: dict[str, Any]) -> str:
    """Markdown: one row per figure, one column per scale, then the largest ÷ smallest ratio."""
    points = growth["points"]
    small, large = points[0]["label"], points[-1]["label"]
    head = "| Growth | " + " | ".join(f"{p['label']} cases" for p in points)
    head += f" | {large} ÷ {small} | target |\n|---|" + "---:|" * len(points) + "---:|---|"
    lines = [head]
    for key, _, name, metric in PAGES:
        lines.append(_row(growth, key, name, metric, small, large))
    lines.append(_row(growth, SWEEP[0], SWEEP[1], "p50", small, large))
    return "\n".join(lines)


def _row(growth: dict[str, Any], key: str, name: str, metric: str, small: str, large: str) -> str:
    cells = " | ".join(_cell(p.get(key), key) for p in growth["points"])
    ratio = growth["ratios"][key]
    shown = "—" if ratio["ratio"] is None else f"{ratio['ratio']:.2f}"
    how = f"{small} ÷ {large}" if metric == "rps" else f"{large} ÷ {small}"
    mark = "✅" if ratio["met"] else "❌"
    return f"| {name} | {cells} | {shown} | {how} ≤ {growth['limit']:g} {mark} |"

"""`python -m bench.readme [results.json]`: put a bench run's tables into README.md.

Rewrites what lies between the `<!-- bench:results:start -->` and
`<!-- bench:results:end -->` markers of the README's "Performance" section with a line
naming the run (when, scale, load) and the run's Markdown tables (`table` in the JSON,
by default `bench/results/latest.json`). Text outside the markers is left alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LATEST = ROOT / "bench" / "results" / "latest.json"
START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def block(result: dict[str, Any]) -> str:
    """The text between the markers: what was run, then the tables."""
    config, scale = result.get("config", {}), result["scale"]
    when = result["started"][:16].replace("T", " ")
    intro = (
        f"**Latest run** ({when} UTC, {scale['cases']:,} cases, {scale['reports']:,} reports, "
        f"{config.get('cpus', '?')} cores shared by wrk, PostgreSQL and gunicorn, "
        f"{config.get('gunicorn', '?')}; wrk 1 thread × {config.get('connections', '?')} connections × "
        f'{config.get("duration_s", "?")} s per side; latencies in ms; "ratio" is p50 ÷ baseline p50 '
        "for pages and req/s ÷ baseline req/s for callbacks):"
    )
    return f"{intro}\n\n{result['table'].strip()}"


def rewrite(readme: str, result: dict[str, Any]) -> str:
    """The README with the block between the marker lines (markers alone on their line) replaced."""
    lines = readme.splitlines(keepends=True)
    stripped = [line.strip() for line in lines]
    if START not in stripped or END not in stripped[stripped.index(START) :]:
        raise ValueError(f"README.md has no {START} … {END} block")
    first = stripped.index(START)
    last = stripped.index(END, first)
    return "".join([*lines[: first + 1], block(result) + "\n", *lines[last:]])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else LATEST
    result = json.loads(source.read_text(encoding="utf-8"))
    README.write_text(rewrite(README.read_text(encoding="utf-8"), result), encoding="utf-8")
    print(f"README.md: results block rewritten from {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

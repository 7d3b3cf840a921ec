"""Keep the development `.env` in step with `make run`.

`make run` exports DEBUG=1, the port and the simulator's settings to the processes it
starts. Commands typed by hand afterwards (`.venv/bin/python manage.py ...`) read the
same values from `.env`, so they work as the README writes them and print URLs with the
port the portal really runs on. A `.env` the developer wrote (without the marker line)
is never touched. Standard library only: it runs before Django is configured.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

MARKER = "# Written by `make run` for local development; the values below follow each run."
MANAGED = (
    "DEBUG",
    "PORT",
    "PORTAL_BASE_URL",
    "SIMULATOR_PORT",
    "SMS_API_URL",
    "SMS_APP_KEY",
    "SMS_APP_SECRET",
    "SMS_SENDER",
    "SMS_TEST_TEMPLATE_ID",
)


def render(existing: str | None, environ: Mapping[str, str]) -> str | None:
    """The new text of the file, or None when it is the developer's own and stays as is."""
    if existing is not None and not existing.startswith(MARKER):
        return None
    values = {key: environ[key] for key in MANAGED if environ.get(key)}
    kept = []
    for line in (existing or "").splitlines()[1:]:
        key = line.partition("=")[0].strip()
        if key not in values:
            kept.append(line)
    body = [f"{key}={value}" for key, value in values.items()]
    return "\n".join([MARKER, *body, *kept]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    path = Path(os.environ.get("ENV_FILE") or ".env")
    existing = path.read_text() if path.exists() else None
    text = render(existing, os.environ)
    if text is None:
        print(f"{path} is your own; make run leaves it as it is.")
    elif text != existing:
        path.write_text(text)
        path.chmod(0o600)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A small process supervisor for `make run`: the Procfile's processes, restarted when they exit.

Development should behave like production, where systemd (see `deploy/`) restarts a
process that dies. One crashed process must not take the others down, and Ctrl-C must
leave nothing behind. Standard library only: it runs before Django is configured.

    python -m portal.runner Procfile --ready-url http://127.0.0.1:8000/healthz --banner var/banner.txt
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Backoff between restarts of a process that keeps failing; reset once it stays up.
RESTART_DELAYS = (1, 2, 5, 10, 30)
STABLE_AFTER_SECONDS = 60
# Ctrl-C: every process gets SIGTERM, and SIGKILL after this long.
STOP_GRACE_SECONDS = 7

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def parse_procfile(text: str, environ: dict[str, str]) -> dict[str, str]:
    """`name: command` lines, with $VAR and ${VAR} taken from the environment."""
    processes: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"Procfile line is not 'name: command': {line!r}")
        processes[name.strip()] = _VARIABLE.sub(
            lambda m: environ.get(m.group(1) or m.group(2), ""), command.strip()
        )
    return processes


@dataclass
class Supervised:
    name: str
    command: str
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restarts: int = 0
    reader: threading.Thread | None = field(default=None, repr=False)


class Runner:
    def __init__(self, processes: dict[str, str], out: object = sys.stdout) -> None:
        self.children = [Supervised(name, command) for name, command in processes.items()]
        self.width = max((len(name) for name in processes), default=6)
        self.out = out
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def say(self, name: str, text: str) -> None:
        with self.lock:
            self.out.write(f"{name:<{self.width}} | {text}\n")  # type: ignore[attr-defined]
            self.out.flush()  # type: ignore[attr-defined]

    def start(self, child: Supervised) -> None:
        # Each child leads its own process group, so stopping it also stops what it forked
        # (worker pool processes, server workers), and the terminal's Ctrl-C reaches only us.
        child.process = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {child.command}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        child.started_at = time.monotonic()
        child.reader = threading.Thread(target=self._pump, args=(child, child.process), daemon=True)
        child.reader.start()
        self.say(child.name, f"started (pid {child.process.pid})")

    def _pump(self, child: Supervised, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            self.say(child.name, raw.decode("utf-8", errors="replace").rstrip())

    def supervise(self) -> None:
        """Restart children that exit, until asked to stop."""
        for child in self.children:
            self.start(child)
        due: dict[str, float] = {}
        while not self.stopping.wait(0.5):
            now = time.monotonic()
            for child in self.children:
                process = child.process
                if process is None or process.poll() is None:
                    if child.name in due and now >= due[child.name]:
                        del due[child.name]
                        child.restarts += 1
                        self.start(child)
                    continue
                uptime = now - child.started_at
                child.failures = 0 if uptime >= STABLE_AFTER_SECONDS else child.failures + 1
                delay = RESTART_DELAYS[min(child.failures, len(RESTART_DELAYS) - 1)]
                self.say(
                    child.name,
                    f"exited with code {process.returncode} after {uptime:.0f} s; restarting in {delay} s",
                )
                self._kill_group(process, signal.SIGKILL)  # leftovers of the dead process
                child.process = None
                due[child.name] = now + delay

    def stop(self) -> None:
        self.stopping.set()
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            # The leader shuts its own children down (a warm Celery shutdown, gunicorn's workers).
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        # SIGKILL every group, even of processes that exited: their children may linger.
        for child in self.children:
            if child.process is not None:
                self._kill_group(child.process, signal.SIGKILL)
                child.process.wait()

    @staticmethod
    def _kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)


def announce_when_ready(runner: Runner, url: str, banner: Path | None, patience: float = 60) -> None:
    """Print the banner once the portal reports healthy, so it is the last thing on screen.

    Startup output (worker warnings, server boot lines) is over by the time a worker has run
    a heartbeat. If health stays unhappy, the banner still comes `patience` seconds after the
    server first answered: the person at the keyboard needs the logins either way.
    """
    answered_at: float | None = None
    while not runner.stopping.is_set():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                healthy = json.loads(response.read()).get("status") == "ok"
        except urllib.error.HTTPError:
            healthy = False  # it answered, unhappily (a 503 while something starts)
        except (OSError, ValueError):
            runner.stopping.wait(1)
            continue
        answered_at = answered_at or time.monotonic()
        if healthy or time.monotonic() - answered_at > patience:
            break
        runner.stopping.wait(1)
    else:
        return
    text = banner.read_text() if banner and banner.is_file() else ""
    with runner.lock:
        runner.out.write("\n" + text.rstrip() + "\n\n")  # type: ignore[attr-defined]
        runner.out.flush()  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procfile", type=Path)
    parser.add_argument("--ready-url", help="print the banner once this URL answers")
    parser.add_argument("--banner", type=Path, help="file whose text is printed when ready")
    args = parser.parse_args(argv)

    runner = Runner(parse_procfile(args.procfile.read_text(), dict(os.environ)))

    def _stop(signum: int, frame: object) -> None:
        runner.stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    if args.ready_url:
        threading.Thread(
            target=announce_when_ready, args=(runner, args.ready_url, args.banner), daemon=True
        ).start()
    try:
        runner.supervise()
    finally:
        runner.say("runner", "stopping every process")
        runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

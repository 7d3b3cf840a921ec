"""`make run` as a new user meets it: embedded defaults, supervised processes, README commands.

Each test drives the real command in its own session, with a private VAR_DIR and .env,
on free ports, and looks at what a person would see: the output, HTTP answers, processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
README = ROOT / "README.md"
STARTUP_SECONDS = 150


def free_port_pair() -> int:
    """A port whose successor is free too (the simulator takes PORT + 1)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            with socket.socket() as second:
                second.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free pair of ports")


@dataclass
class MadeRun:
    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]
    log: Path
    var_dir: Path
    # What was on screen a few seconds after the banner, before any test did anything.
    startup: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def manage(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """A manage.py command typed by hand, as the README writes it (nothing exported)."""
        env = {k: v for k, v in self.env.items() if k in {"PATH", "HOME", "LANG", "VAR_DIR", "ENV_FILE"}}
        return subprocess.run(
            [".venv/bin/python", "manage.py", *args],
            cwd=ROOT,
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def health(self) -> dict[str, object]:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())

    def wait_healthy(self, seconds: float = STARTUP_SECONDS) -> dict[str, object]:
        deadline = time.monotonic() + seconds
        last: dict[str, object] = {}
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"make run stopped:\n{self.output()[-3000:]}"
            try:
                last = self.health()
            except (OSError, ValueError):
                time.sleep(1)
                continue
            if last.get("status") == "ok":
                return last
            time.sleep(1)
        raise AssertionError(f"not healthy after {seconds} s: {last}\n{self.output()[-3000:]}")

    def processes(self) -> list[int]:
        """Every process that carries this run's VAR_DIR in its environment."""
        marker = f"VAR_DIR={self.var_dir}".encode() + b"\0"
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def interrupt(self) -> float:
        """Ctrl-C as a terminal sends it; returns the seconds until no process is left."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        while self.processes() and time.monotonic() - started < 30:
            time.sleep(0.1)
        return time.monotonic() - started


def start_make_run(tmp: Path) -> MadeRun:
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("make run needs the project's .venv (make test creates it)")
    port = free_port_pair()
    var_dir = tmp / "var"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "REQUIRE_SERVICES", "DJANGO_SETTINGS_MODULE", "DEBUG"}
        and not k.startswith(("PYTEST", "SMS_", "PORTAL_", "SIMULATOR_"))
    }
    env.update(PORT=str(port), VAR_DIR=str(var_dir), ENV_FILE=str(tmp / ".env"), DEMO_PASSWORD="demo-pass-1")
    log = tmp / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return MadeRun(process=process, port=port, env=env, log=log, var_dir=var_dir)


def stop(run: MadeRun) -> None:
    if run.process.poll() is None:
        run.interrupt()
    for pid in run.processes():
        os.kill(pid, signal.SIGKILL)
    run.process.wait(timeout=30)


@pytest.fixture(scope="module")
def made_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MadeRun]:
    run = start_make_run(tmp_path_factory.mktemp("make-run"))
    try:
        run.wait_healthy()
        _banner_position(run)
        time.sleep(3)  # anything a process still had to say at startup would come now
        run.startup = run.output()
        yield run
    finally:
        stop(run)


def _banner_position(run: MadeRun, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        position = run.output().find("Demo logins:")
        if position >= 0:
            return position
        time.sleep(0.5)
    raise AssertionError(f"no banner with the demo logins:\n{run.output()[-3000:]}")


def test_logins_and_address_are_the_last_thing_printed_once_the_server_answers(made_run: MadeRun) -> None:
    text = made_run.startup
    position = text.find("Demo logins:")
    after = text[position:]
    assert "agent  / demo-pass-1" in after
    # The address comes last, after the logins and the message id to try self-help with.
    lines = [line.strip() for line in after.splitlines() if line.strip()]
    assert lines[-1] == f"Portal: {made_run.url}/", lines
    assert any("self-help" in line and "message id" in line for line in lines), lines
    # Nothing follows the banner but its own lines: no server boot lines, Celery banners or emails.
    trailing = [line for line in after.splitlines() if " | " in line]
    assert trailing == [], trailing
    assert "-------------- celery@" not in text
    assert "Content-Type: text/plain" not in text


def test_fifty_simultaneous_callbacks_all_get_200_and_are_stored_once(made_run: MadeRun) -> None:
    created = made_run.manage("status_source", "create", "burst", DEBUG="1")
    assert created.returncode == 0, created.stderr
    path = re.search(r"/hooks/sms-status/\S+/", created.stdout)
    assert path, created.stdout
    url = f"{made_run.url}{path.group(0)}"
    body = urllib.parse.urlencode(
        {
            "smsMsgId": "5a6b7c8d-0000-4000-8000-000000000050_1",
            "status": "DELIVRD",
            "updateTime": "2026-11-29T08:00:05Z",
        }
    ).encode()

    def post(_: int) -> int | str:
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(post, range(50)))
    assert answers == [200] * 50
    status = made_run.manage("delivery_status", "5a6b7c8d-0000-4000-8000-000000000050_1", "--json", DEBUG="1")
    assert status.returncode == 0, status.stderr
    assert len(json.loads(status.stdout)["reports"]) == 1


def readme_commands() -> list[str]:
    """Every `manage.py` command the README shows, in code blocks and inline, as written."""
    text = README.read_text()
    commands = [
        line.split("#")[0].strip() for line in text.splitlines() if line.startswith(".venv/bin/python ")
    ]
    commands += re.findall(r"`((?:\.venv/bin/)?(?:python )?manage\.py [^`]+)`", text)
    return [c.split("manage.py ", 1)[1] for c in commands if "manage.py" in c]


def test_every_readme_manage_command_works_after_make_run(made_run: MadeRun, tmp_path: Path) -> None:
    commands = readme_commands()
    assert len(commands) >= 8, commands
    rows = (
        "消息ID,接收号码,发送时间,状态码,状态描述,状态报告时间\n"
        "1d2e3f40-1111-4000-8000-000000000001_1,13800000001,2026-11-29 08:00:00,DELIVRD,成功,\n"
    )
    export, plain = tmp_path / "export.csv", tmp_path / "plain.csv"
    export.write_text(rows, encoding="gb18030")
    plain.write_text(rows, encoding="utf-8")
    # Placeholders the reader fills in, with values of the right kind; optional parts are dropped.
    fill = {
        "MSGID": "1d2e3f40-1111-4000-8000-000000000001_1",
        "FILE": str(plain),
        "export.csv": str(export),
        "AK": "push-ak",
        "SK": "push-sk-0123456789",
        "N": "10",
        "M": "10",
    }
    created = made_run.manage("status_source", "create", "printed-address")
    # The callback address printed is the one this portal really answers on.
    assert f"{made_run.url}/hooks/sms-status/" in created.stdout, created.stdout + created.stderr
    failures = []
    for command in commands:
        if command.startswith(("seed_scale", "sms_simulator")):
            continue  # PostgreSQL only, as the README says; a server that make run already runs
        words = [fill.get(w, w) for w in re.sub(r"\[[^\]]*\]", "", command).split()]
        done = made_run.manage(*words)
        if done.returncode != 0 or "Traceback" in done.stderr:
            failures.append(f"manage.py {command}\n{done.stdout[-400:]}{done.stderr[-800:]}")
    assert failures == []


def test_a_process_that_dies_is_started_again(made_run: MadeRun) -> None:
    pids = re.findall(r"^worker +\| started \(pid (\d+)\)", made_run.output(), re.M)
    assert pids
    os.killpg(int(pids[-1]), signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        restarted = re.findall(r"^worker +\| started \(pid (\d+)\)", made_run.output(), re.M)
        if len(restarted) > len(pids):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(made_run.output()[-3000:])
    assert re.search(r"^worker +\| exited with code -9 .*restarting", made_run.output(), re.M)
    # The others kept serving, and the new worker runs heartbeats again.
    killed_at = datetime.now(UTC)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        stamp = made_run.health()["checks"]["worker"].get("last_heartbeat")  # type: ignore[index]
        if stamp and datetime.fromisoformat(stamp) > killed_at:
            break
        time.sleep(1)
    else:
        raise AssertionError(f"no heartbeat from the restarted worker: {made_run.health()}")
    assert made_run.process.poll() is None


def test_ctrl_c_stops_every_process_within_ten_seconds(tmp_path: Path) -> None:
    run = start_make_run(tmp_path)
    try:
        run.wait_healthy()
        assert len(run.processes()) >= 5
        seconds = run.interrupt()
        assert run.processes() == []
        assert seconds < 10, seconds
        assert run.process.wait(timeout=10) is not None
    finally:
        stop(run)

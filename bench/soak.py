"""Soak test: the embedded `make run` keeps working, unattended, under steady traffic.

What it proves. Started the way a developer starts it (`make run`, with SQLite for the data
and for the Celery broker, no PostgreSQL or Redis), the portal's four processes (web server,
Celery worker, beat, SMS simulator) keep running for the whole soak while it is used:

- no request gets a 5xx or a connection error, and none gets a status other than expected;
- no process exits (the runner prints `name | exited with code N ...` when one does);
- every status report pushed to the callback is stored exactly once, including reports
  pushed a second time (acknowledged, not stored again);
- every test SMS sent from a case gets its status report pushed back by the simulator and stored;
- every ticket filed on the public form opens a case;
- `/healthz` still reports database, broker, worker and beat ok at the end;
- Ctrl-C (SIGINT to the process group of `make run`) leaves no process behind within 10 s.

How to run it (from the project folder; needs only `.venv` with requirements.txt):

    make soak                          # 10 minutes
    make soak SOAK_MINUTES=120         # two hours
    .venv/bin/python bench/soak.py --minutes 10 [--json summary.json] [--keep]

Each run starts `make run` in a fresh temporary folder (VAR_DIR for the SQLite files, ENV_FILE
for the development .env, `run.log` with everything the processes printed) on a free port, so
the developer's `var/` and `.env` are left alone and a portal already running is not disturbed.
The folder is deleted after a clean run and kept (its path printed) after a failed one or with
--keep. Beat runs the waiting sweep and the heartbeat every 5 s during the soak.

Traffic, one round about every 2 s: a status report pushed as a form; every 5th round a JSON
batch of 5 reports; every 3rd round the previous push again (a duplicate); every 4th round a
customer ticket through the public form; every 5th round a test SMS from a case, alternately by
the demo agent (on a case of theirs, claimed if they have none) and the demo lead (on a case of
somebody else's); each round `/healthz` and one of the queue, a case page and `/leads/`.
One progress line a minute; a summary at the end; exit status 1 if any check failed.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"

ROUND_SECONDS = 2.0
PROGRESS_SECONDS = 60.0
HEALTH_TIMEOUT_SECONDS = 180.0
REQUEST_TIMEOUT_SECONDS = 30.0
SETTLE_SECONDS = 30.0
STOP_LIMIT_SECONDS = 10.0
JSON_BATCH_SIZE = 5

# What would take `make run` off its embedded default, or what it sets itself for its processes.
CLEARED_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "REQUIRE_SERVICES",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "EMAIL_URL",
    "PORTAL_BASE_URL",
    "SIMULATOR_PORT",
    "SMS_API_URL",
    "SMS_APP_KEY",
    "SMS_APP_SECRET",
    "SMS_SENDER",
    "SMS_TEST_TEMPLATE_ID",
    "SMS_TEST_TEMPLATE_PARAS",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)

EXIT_LINE = re.compile(r" exited with code ")
SIMULATOR_PUSH = re.compile(r"pushed (\S+) \((\S+)\) to \S+: HTTP (\d+)")
SIMULATOR_PUSH_FAILED = re.compile(r"push of (\S+) \((\S+)\) to \S+ failed")
CASE_LINK = re.compile(r"/cases/(SMS-[0-9A-Z]{6})/")
RECIPIENT_SELECT = re.compile(r'<select name="recipient"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="(\d+)"[^>]*>\s*([^<]+?)\s*</option>')
TEST_SMS_SENT = re.compile(r"Test SMS sent \(message id ([^)\s]+)\)")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TRACKING_PATH = re.compile(r"/support/t/([^/?#]+)/")
# A panel the case page leaves to load itself (partials/lazy_panel.html): the URL it fetches.
LAZY_PANEL = re.compile(r'<section class="[^"]*lazy-panel[^"]*" id="[^"]+" hx-get="([^"]+)"')


class SoakError(Exception):
    """The soak cannot go on (the portal did not start, a login failed, ...)."""


# HTTP ---------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int  # 0 when no HTTP answer came (connection refused, reset, timeout)
    url: str
    body: str
    seconds: float
    error: str = ""


@dataclass
class Stats:
    """Every request the soak made: by kind, status and time; failures with what they got."""

    started: float = field(default_factory=time.monotonic)
    requests: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0  # 5xx or no answer
    unexpected: int = 0  # any other status than the expected one
    samples: list[str] = field(default_factory=list)

    def record(self, kind: str, response: Response, expect: int) -> bool:
        self.requests[kind] += 1
        self.statuses[kind][response.status] += 1
        self.seconds[kind].append(response.seconds)
        if response.status == expect:
            return True
        if response.status == 0 or response.status >= 500:
            self.errors += 1
        else:
            self.unexpected += 1
        self.fail(f"{kind}: {response.status or response.error} (expected {expect}) {response.url}")
        return False

    def wrong_answer(self, text: str) -> None:
        """The status was right but the page says the action did not happen."""
        self.unexpected += 1
        self.fail(text)

    def fail(self, text: str) -> None:
        if len(self.samples) < 50:
            self.samples.append(f"[{time.monotonic() - self.started:6.0f} s] {text}")
        print(f"FAIL {text}", flush=True)

    @property
    def failures(self) -> int:
        return self.errors + self.unexpected

    def latency(self) -> dict[str, dict[str, float]]:
        table = {}
        for kind, values in sorted(self.seconds.items()):
            ordered = sorted(values)
            table[kind] = {
                "median_ms": round(statistics.median(ordered) * 1000, 1),
                "p95_ms": round(ordered[math.ceil(0.95 * len(ordered)) - 1] * 1000, 1),
                "max_ms": round(ordered[-1] * 1000, 1),
            }
        return table


class Client:
    """One browser: its own cookies (session, CSRF), every request recorded in `stats`."""

    def __init__(self, base_url: str, stats: Stats) -> None:
        self.base_url = base_url
        self.stats = stats
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def fetch(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Response:
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers or {})
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
                body = answer.read().decode("utf-8", errors="replace")
                return Response(answer.status, answer.url, body, time.monotonic() - started)
        except urllib.error.HTTPError as exc:
            with closing(exc):
                body = exc.read().decode("utf-8", errors="replace")
            return Response(exc.code, exc.url or request.full_url, body, time.monotonic() - started)
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            return Response(0, request.full_url, "", time.monotonic() - started, error)

    def get(self, kind: str, path: str, expect: int = 200) -> Response:
        response = self.fetch(path)
        self.stats.record(kind, response, expect)
        return response

    def post(
        self, kind: str, path: str, body: bytes, content_type: str, expect: int = 200
    ) -> tuple[Response, bool]:
        response = self.fetch(path, body, {"Content-Type": content_type})
        return response, self.stats.record(kind, response, expect)

    def post_form(self, kind: str, path: str, fields: dict[str, str], expect: int = 200) -> Response:
        """A form as a browser submits it: with the CSRF token of the cookie."""
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf_token(), **fields}).encode()
        return self.post(kind, path, data, "application/x-www-form-urlencoded", expect)[0]

    def csrf_token(self) -> str:
        return next((c.value for c in self.cookies if c.name == "csrftoken" and c.value), "")

    def logged_in(self) -> bool:
        return any(c.name == "sessionid" for c in self.cookies)


# The portal under test ----------------------------------------------------------------------


def port_is_free(port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pair() -> int:
    """A port whose next port (the simulator's) is free as well."""
    for _ in range(100):
        with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port < 65535 and port_is_free(port) and port_is_free(port + 1):
            return port
    raise SoakError("found no two free ports in a row")


@dataclass
class Portal:
    """`make run` in a folder of its own, and the way to read what it printed."""

    workdir: Path
    port: int
    password: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def var_dir(self) -> Path:
        return self.workdir / "var"

    @property
    def log_path(self) -> Path:
        return self.workdir / "run.log"

    @property
    def database(self) -> Path:
        return self.var_dir / "portal.sqlite3"

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "run"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as in a terminal of its own
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def exits(self) -> list[str]:
        return [line for line in self.log_lines() if EXIT_LINE.search(line)]

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise SoakError(f"manage.py {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
        return done.stdout


def portal_env(workdir: Path, port: int, password: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CLEARED_ENV}
    env.update(
        PORT=str(port),
        VAR_DIR=str(workdir / "var"),
        ENV_FILE=str(workdir / "dev.env"),
        DIAGNOSIS_SWEEP_SECONDS="5",
        HEARTBEAT_INTERVAL_SECONDS="5",
        TICKET_LIMIT_PER_IP_PER_HOUR="1000000",
        FIND_TICKET_LIMIT_PER_IP_PER_HOUR="1000000",
        CUSTOMER_EMAILS_PER_ADDRESS_PER_HOUR="1000000",
        DEMO_PASSWORD=password,
        PYTHONUNBUFFERED="1",
    )
    return env


def read_health(client: Client) -> tuple[int, dict[str, Any]]:
    response = client.fetch("/healthz")
    try:
        return response.status, json.loads(response.body)
    except ValueError:
        return response.status, {}


def health_ok(report: dict[str, Any]) -> bool:
    checks = report.get("checks", {})
    return all(checks.get(name, {}).get("ok") for name in ("database", "broker", "worker", "beat"))


def wait_until_healthy(portal: Portal, client: Client) -> float:
    """Seconds until /healthz reports database, broker, worker and beat ok."""
    started = time.monotonic()
    report: dict[str, Any] = {}
    while time.monotonic() - started < HEALTH_TIMEOUT_SECONDS:
        if not portal.running():
            raise SoakError(f"make run ended with code {portal.process and portal.process.returncode}")
        _, report = read_health(client)
        if health_ok(report):
            return time.monotonic() - started
        time.sleep(2)
    raise SoakError(f"/healthz not ok after {HEALTH_TIMEOUT_SECONDS:.0f} s: {json.dumps(report)}")


def portal_pids(var_dir: Path) -> list[int]:
    """Processes whose environment names this run's VAR_DIR: everything `make run` started."""
    needle = b"\0VAR_DIR=" + str(var_dir).encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = b"\0" + (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ:
            found.append(int(entry.name))
    return sorted(found)


def stop(portal: Portal) -> tuple[float, list[int]]:
    """Ctrl-C: SIGINT to make's process group; seconds until every process is gone, and leftovers."""
    assert portal.process is not None
    started = time.monotonic()
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(portal.process.pid, signal.SIGINT)
    left: list[int] = []
    while time.monotonic() - started < STOP_LIMIT_SECONDS + 5:
        left = portal_pids(portal.var_dir)
        if not left and not portal.running():
            return time.monotonic() - started, []
        time.sleep(0.1)
    return time.monotonic() - started, left


def kill_leftovers(portal: Portal, pids: Iterable[int]) -> None:
    if portal.process is not None and portal.running():
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(portal.process.pid, signal.SIGKILL)
    for pid in pids:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    if portal.process is not None:
        portal.process.wait(timeout=10)


# Logging in and finding cases ---------------------------------------------------------------


def login(client: Client, username: str, password: str) -> None:
    page = client.get("login_form", "/accounts/login/")
    token = CSRF_FIELD.search(page.body)
    fields = {"username": username, "password": password, "next": "/"}
    data = {"csrfmiddlewaretoken": token.group(1) if token else client.csrf_token(), **fields}
    body = urllib.parse.urlencode(data).encode()
    client.post("login", "/accounts/login/", body, "application/x-www-form-urlencoded")
    if not client.logged_in():
        raise SoakError(f"could not log in as {username!r}")


def case_refs(client: Client, tab: str) -> list[str]:
    page = client.get("page_queue", f"/cases/?tab={tab}")
    return list(dict.fromkeys(CASE_LINK.findall(page.body)))


def case_page(client: Client, reference: str) -> str:
    """The case page as a browser gets it: the page, then each panel it loads by itself."""
    page = client.get("page_case", f"/cases/{reference}/").body
    panels = [client.get("page_case_panel", html.unescape(url)).body for url in LAZY_PANEL.findall(page)]
    return "\n".join([page, *panels])


def recipients(client: Client, reference: str) -> list[tuple[str, str]]:
    """(recipient id, number) pairs offered by the case page's test SMS form."""
    select = RECIPIENT_SELECT.search(case_page(client, reference))
    return OPTION.findall(select.group(1)) if select else []


@dataclass
class Target:
    """A case a test SMS goes from, the number it goes to, and who sends it."""

    who: str
    client: Client
    reference: str
    recipient: str
    number: str


def first_target(
    who: str, client: Client, references: Iterable[str], silent: tuple[str, ...]
) -> Target | None:
    """The first case with a number the simulator answers with a status report."""
    for reference in references:
        for recipient, number in recipients(client, reference):
            if not number.startswith(silent):
                return Target(who, client, reference, recipient, number)
    return None


def agent_target(agent: Client, silent: tuple[str, ...]) -> Target:
    target = first_target("agent", agent, case_refs(agent, "mine"), silent)
    for reference in [] if target else case_refs(agent, "unassigned"):
        agent.post_form("claim", f"/cases/{reference}/claim/", {})
        target = first_target("agent", agent, [reference], silent)
        if target:
            break
    if target is None:
        raise SoakError("the demo agent has no case to send a test SMS from, and none to claim")
    return target


def lead_target(lead: Client, silent: tuple[str, ...], avoid: str) -> Target:
    references = [ref for ref in case_refs(lead, "all") if ref != avoid]
    target = first_target("lead", lead, references, silent)
    if target is None:
        raise SoakError("the demo lead finds no open case to send a test SMS from")
    return target


def silent_prefixes() -> tuple[str, ...]:
    """Numbers the simulator sends no report for (`--rule PREFIX=none` in the Procfile)."""
    return tuple(re.findall(r"--rule (\+?\d+)=none\b", (ROOT / "Procfile").read_text()))


# Traffic ------------------------------------------------------------------------------------


@dataclass
class Push:
    kind: str
    body: bytes
    content_type: str
    msg_ids: list[str]


@dataclass
class Traffic:
    """One round of traffic at a time, and everything sent that must be found stored later."""

    run_id: str
    token: str
    customer: Client
    agent: Client
    lead: Client
    targets: list[Target]
    reports: dict[str, bool] = field(default_factory=dict)  # msg id: acknowledged with 200
    duplicate_pushes: int = 0
    test_sms: dict[str, str] = field(default_factory=dict)  # msg id: case reference
    test_sms_refused: int = 0
    tickets: list[str] = field(default_factory=list)  # tracking tokens
    health_degraded: int = 0
    last_push: Push | None = None
    counter: int = 0

    def round(self, number: int) -> None:
        self.push_form()
        if number % 5 == 0:
            self.push_json()
        if number % 3 == 0:
            self.push_again()
        if number % 4 == 0:
            self.file_ticket()
        if number % 5 == 2:
            self.send_test_sms(self.targets[(number // 5) % len(self.targets)])
        self.read_health()
        self.read_page(number)

    # Status reports.

    def new_report(self) -> dict[str, str]:
        self.counter += 1
        status = ("DELIVRD", "DELIVRD", "UNDELIV", "EXPIRED")[self.counter % 4]
        report = {
            "smsMsgId": f"soak-{self.run_id}-{self.counter:06d}",
            "total": "1",
            "sequence": "1",
            "status": status,
            "source": "1" if status == "EXPIRED" else "2",
            "statusDesc": f"soak report {self.counter}",
            "to": f"+86138{secrets.randbelow(10**8):08d}",
            "orgCode": "000000",
        }
        if status != "EXPIRED":
            report["updateTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return report

    def push(self, push: Push) -> None:
        path = f"/hooks/sms-status/{self.token}/"
        _, ok = self.customer.post(push.kind, path, push.body, push.content_type)
        for msg_id in push.msg_ids:
            self.reports[msg_id] = self.reports.get(msg_id, False) or ok

    def push_form(self) -> None:
        report = self.new_report()
        body = urllib.parse.urlencode(report).encode()
        self.last_push = Push(
            "callback_form", body, "application/x-www-form-urlencoded", [report["smsMsgId"]]
        )
        self.push(self.last_push)

    def push_json(self) -> None:
        batch = [self.new_report() for _ in range(JSON_BATCH_SIZE)]
        body = json.dumps({"statusReportList": batch}).encode()
        self.last_push = Push("callback_json", body, "application/json", [r["smsMsgId"] for r in batch])
        self.push(self.last_push)

    def push_again(self) -> None:
        if self.last_push is not None:
            self.duplicate_pushes += len(self.last_push.msg_ids)
            self.push(Push("callback_duplicate", self.last_push.body, self.last_push.content_type, []))

    # Tickets, test SMS and pages.

    def file_ticket(self) -> None:
        number = len(self.tickets) + 1
        self.customer.get("ticket_form", "/support/new/")
        fields = {
            "name": f"Soak Customer {number}",
            "email": f"soak-{self.run_id}-{number}@example.com",
            "region": "",
            "numbers": f"+86 139 {secrets.randbelow(10**4):04d} {secrets.randbelow(10**4):04d}",
            "msg_ids": "",
            "sent_at": "",
            "sent_tz": "UTC",
            "sender": "ACME",
            "template_id": "",
            "description": "The verification code never arrived (soak test ticket).",
            "website": "",
        }
        response = self.customer.post_form("ticket", "/support/new/", fields)
        tracking = TRACKING_PATH.search(urllib.parse.urlsplit(response.url).path)
        if response.status == 200 and tracking:
            self.tickets.append(tracking.group(1))
        elif response.status == 200:
            self.customer.stats.wrong_answer(f"ticket: the form did not file it (ended on {response.url})")

    def send_test_sms(self, target: Target) -> None:
        path = f"/cases/{target.reference}/test-sms/"
        response = target.client.post_form(f"test_sms_{target.who}", path, {"recipient": target.recipient})
        sent = TEST_SMS_SENT.search(response.body)
        if sent:
            self.test_sms[sent.group(1)] = target.reference
        elif response.status == 200:
            self.test_sms_refused += 1
            target.client.stats.wrong_answer(f"test SMS from {target.reference} was not sent")

    def read_health(self) -> None:
        response = self.customer.get("healthz", "/healthz")
        try:
            healthy = health_ok(json.loads(response.body))
        except ValueError:
            healthy = False
        if response.status == 200 and not healthy:
            self.health_degraded += 1
            print(f"note: /healthz degraded: {response.body}", flush=True)

    def read_page(self, number: int) -> None:
        choice = number % 3
        if choice == 0:
            self.agent.get("page_queue", "/cases/?tab=mine")
        elif choice == 1:
            target = self.targets[number % len(self.targets)]
            case_page(target.client, target.reference)
        else:
            self.lead.get("page_leads", "/leads/")


# Checking what was stored -------------------------------------------------------------------


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        yield connection
    finally:
        connection.close()


def chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stored_counts(database: Path, msg_ids: Iterable[str]) -> Counter[str]:
    """How many status reports are stored for each message id."""
    counts: Counter[str] = Counter()
    with read_only(database) as db:
        for chunk in chunks(sorted(set(msg_ids))):
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT msg_id, COUNT(*) FROM diagnosis_statusreport"
                f" WHERE msg_id IN ({marks}) GROUP BY msg_id"
            )
            counts.update(dict(db.execute(query, chunk).fetchall()))
    return counts


def cases_with_tokens(database: Path, tokens: list[str]) -> int:
    found = 0
    with read_only(database) as db:
        for chunk in chunks(tokens):
            marks = ",".join("?" * len(chunk))
            # Only the tokens' SHA-256 is stored (diagnosis.models.token_digest).
            query = (
                f"SELECT COUNT(DISTINCT case_id) FROM diagnosis_trackinglink WHERE token_hash IN ({marks})"
            )
            hashes = [hashlib.sha256(token.encode()).hexdigest() for token in chunk]
            found += db.execute(query, hashes).fetchone()[0]
    return found


def broker_backlog(var_dir: Path) -> int | None:
    """Messages waiting in the SQLite broker (None if the table cannot be read)."""
    try:
        with read_only(var_dir / "celery-broker.sqlite3") as db:
            return db.execute("SELECT COUNT(*) FROM kombu_message WHERE visible = 1").fetchone()[0]
    except sqlite3.Error:
        return None


def wait_for_test_reports(portal: Portal, msg_ids: list[str]) -> Counter[str]:
    """The simulator pushes a few seconds after sending: give the last ones time to arrive."""
    deadline = time.monotonic() + SETTLE_SECONDS
    counts = stored_counts(portal.database, msg_ids)
    while any(not counts[m] for m in msg_ids) and time.monotonic() < deadline:
        time.sleep(1)
        counts = stored_counts(portal.database, msg_ids)
    return counts


def simulator_pushes(lines: list[str]) -> dict[str, object]:
    answered = Counter(match.group(3) for line in lines if (match := SIMULATOR_PUSH.search(line)))
    failed = sum(1 for line in lines if SIMULATOR_PUSH_FAILED.search(line))
    return {
        "by_status": dict(answered),
        "not_200": sum(n for s, n in answered.items() if s != "200") + failed,
    }


# The run ------------------------------------------------------------------------------------


def progress(stats: Stats, portal: Portal, traffic: Traffic) -> None:
    elapsed = time.monotonic() - stats.started
    print(
        f"[{elapsed / 60:5.1f} min] requests {sum(stats.requests.values())}, failures {stats.failures}, "
        f"process exits {len(portal.exits())}, reports {len(traffic.reports)}, "
        f"test SMS {len(traffic.test_sms)}, tickets {len(traffic.tickets)}",
        flush=True,
    )


def drive(traffic: Traffic, stats: Stats, portal: Portal, minutes: float) -> None:
    started = time.monotonic()
    end = started + minutes * 60
    next_progress = started + PROGRESS_SECONDS
    number = 0
    while time.monotonic() < end:
        round_started = time.monotonic()
        number += 1
        traffic.round(number)
        if not portal.running():
            raise SoakError("make run ended during the soak")
        if time.monotonic() >= next_progress:
            progress(stats, portal, traffic)
            next_progress += PROGRESS_SECONDS
        time.sleep(max(0.0, ROUND_SECONDS - (time.monotonic() - round_started)))


def setup(portal: Portal, stats: Stats) -> Traffic:
    customer, agent, lead = (Client(portal.base_url, stats) for _ in range(3))
    url = portal.manage("status_source", "create", f"soak-{portal.port}").strip()
    token = re.search(r"/hooks/sms-status/([^/\s]+)/", url)
    if not token:
        raise SoakError(f"status_source create printed no callback URL: {url!r}")
    login(agent, "agent", portal.password)
    login(lead, "lead", portal.password)
    silent = silent_prefixes()
    mine = agent_target(agent, silent)
    theirs = lead_target(lead, silent, avoid=mine.reference)
    for target in (mine, theirs):
        print(f"test SMS: {target.who} from {target.reference} to {target.number}", flush=True)
    return Traffic(secrets.token_hex(3), token.group(1), customer, agent, lead, [mine, theirs])


def verify(portal: Portal, traffic: Traffic) -> dict[str, Any]:
    test_ids = list(traffic.test_sms)
    test_counts = wait_for_test_reports(portal, test_ids)
    report_counts = stored_counts(portal.database, traffic.reports)
    acknowledged = [m for m, ok in traffic.reports.items() if ok]
    status, health = read_health(Client(portal.base_url, Stats()))
    return {
        "reports": {
            "sent": len(traffic.reports),
            "acknowledged": len(acknowledged),
            "stored": sum(1 for m in traffic.reports if report_counts[m]),
            "lost": sum(1 for m in acknowledged if not report_counts[m]),
            "stored_more_than_once": sum(1 for m in traffic.reports if report_counts[m] > 1),
            "duplicate_pushes": traffic.duplicate_pushes,
        },
        "test_sms": {
            "sent": len(test_ids),
            "refused": traffic.test_sms_refused,
            "reports_stored": sum(1 for m in test_ids if test_counts[m]),
            "missing": sum(1 for m in test_ids if not test_counts[m]),
            "stored_more_than_once": sum(1 for m in test_ids if test_counts[m] > 1),
        },
        "tickets": {
            "filed": len(traffic.tickets),
            "cases": cases_with_tokens(portal.database, traffic.tickets),
        },
        "health_degraded_reads": traffic.health_degraded,
        "health_at_end": health.get("status") if status == 200 and health_ok(health) else health or status,
        "broker_backlog_at_end": broker_backlog(portal.var_dir),
        "simulator_pushes": simulator_pushes(portal.log_lines()),
    }


def verdict(summary: dict[str, Any]) -> list[str]:
    """Every check that failed, in words; empty when the soak passed."""
    problems = []
    if summary["failures"]:
        problems.append(f"{summary['failures']} requests failed")
    if summary["process_exits"]:
        problems.append(f"{summary['process_exits']} process exits")
    reports, tests, tickets = summary["reports"], summary["test_sms"], summary["tickets"]
    if reports["lost"] or reports["stored_more_than_once"] or reports["stored"] != reports["acknowledged"]:
        problems.append("status reports lost or stored more than once")
    if tests["missing"] or tests["stored_more_than_once"] or tests["refused"] or not tests["sent"]:
        problems.append("test SMS reports missing, stored twice, or test SMS refused")
    if tickets["cases"] != tickets["filed"] or not tickets["filed"]:
        problems.append("tickets without a case")
    if summary["simulator_pushes"]["not_200"]:
        problems.append("simulator pushes not answered with 200")
    if summary["health_at_end"] != "ok":
        problems.append(f"/healthz at the end: {summary['health_at_end']}")
    if summary["leftover_processes"] or summary["shutdown_seconds"] > STOP_LIMIT_SECONDS:
        problems.append("processes left after Ctrl-C")
    return problems


def print_summary(summary: dict[str, Any]) -> None:
    print("\nSoak summary")
    print(f"  duration      {summary['minutes']} min on port {summary['port']}")
    print(f"  startup       healthy after {summary['startup_seconds']:.0f} s")
    print(
        f"  requests      {summary['requests_total']}: "
        + ", ".join(f"{k} {n}" for k, n in summary["requests"].items())
    )
    print(
        f"  failures      {summary['failures']} "
        f"({summary['errors']} 5xx or no answer, {summary['unexpected']} other)"
    )
    for sample in summary["failure_samples"][:20]:
        print(f"                {sample}")
    print(f"  process exits {summary['process_exits']}")
    for line in summary["exit_lines"][:20]:
        print(f"                {line}")
    r, t, k = summary["reports"], summary["test_sms"], summary["tickets"]
    print(
        f"  reports       sent {r['sent']}, acknowledged {r['acknowledged']}, stored {r['stored']}, "
        f"lost {r['lost']}, stored twice {r['stored_more_than_once']}, pushed again {r['duplicate_pushes']}"
    )
    print(
        f"  test SMS      sent {t['sent']}, reports stored {t['reports_stored']}, missing {t['missing']}, "
        f"refused {t['refused']}; simulator pushes {summary['simulator_pushes']['by_status']}"
    )
    print(f"  tickets       filed {k['filed']}, cases {k['cases']}")
    print(
        f"  health        degraded reads {summary['health_degraded_reads']}, at the end "
        f"{summary['health_at_end']}; broker backlog {summary['broker_backlog_at_end']}"
    )
    print(
        f"  shutdown      {summary['shutdown_seconds']:.1f} s after SIGINT, "
        f"leftover processes {summary['leftover_processes'] or 'none'}"
    )
    print(f"  log           {summary['log']}")
    print(
        "  result        " + ("PASSED" if summary["passed"] else "FAILED: " + "; ".join(summary["problems"]))
    )


def soak(minutes: float, workdir: Path) -> dict[str, Any]:
    port = free_port_pair()
    password = secrets.token_urlsafe(12)
    portal = Portal(workdir, port, password, portal_env(workdir, port, password))
    stats = Stats()
    summary: dict[str, Any] = {"minutes": minutes, "port": port, "log": str(portal.log_path)}
    print(f"make run on port {port} (simulator {port + 1}), folder {workdir}", flush=True)
    portal.start()
    try:
        summary["startup_seconds"] = wait_until_healthy(portal, Client(portal.base_url, Stats()))
        traffic = setup(portal, stats)
        stats.started = time.monotonic()
        drive(traffic, stats, portal, minutes)
        summary.update(verify(portal, traffic))
    finally:
        shutdown, left = stop(portal)
        if left or portal.running():
            kill_leftovers(portal, left)
    exits = portal.exits()
    summary.update(
        requests=dict(sorted(stats.requests.items())),
        requests_total=sum(stats.requests.values()),
        statuses={kind: dict(counts) for kind, counts in sorted(stats.statuses.items())},
        latency=stats.latency(),
        failures=stats.failures,
        errors=stats.errors,
        unexpected=stats.unexpected,
        failure_samples=stats.samples,
        process_exits=len(exits),
        exit_lines=exits,
        shutdown_seconds=round(shutdown, 2),
        leftover_processes=left,
    )
    summary["problems"] = verdict(summary)
    summary["passed"] = not summary["problems"]
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to drive traffic (default 10)")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON to this file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the run's folder (VAR_DIR, log) after a pass"
    )
    args = parser.parse_args(argv)
    if not PYTHON.exists():
        print(f"{PYTHON} is missing: run `make .venv/.run-deps` first.", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="portal-soak-"))
    try:
        summary = soak(args.minutes, workdir)
    except SoakError as exc:
        print(f"soak aborted: {exc}\nlog and data kept in {workdir}", file=sys.stderr)
        return 1
    print_summary(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    if summary["passed"] and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"folder kept: {workdir}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())

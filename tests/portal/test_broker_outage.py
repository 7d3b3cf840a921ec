"""A broker outage in the middle of a task: background work comes back by itself, nothing twice.

The worker and beat run exactly as `make run` starts them (the Procfile's lines, under
portal.runner), against a throwaway redis-server that the test stops mid-send and starts
again. Celery's worker can die on such an outage with a task in flight; the supervisor
must bring it back, and the outbox must still send every email exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from diagnosis.models import Case, Escalation, OutboundEmail
from portal.models import Heartbeat
from portal.runner import parse_procfile
from tests.diagnosis.waiting import bulk_waiting
from tests.redis_server import ThrowawayRedis
from tests.smtp import SlowSMTPServer

ROOT = Path(settings.BASE_DIR)
# Long enough for the worker to notice; BROKER_OUTAGE_SECONDS=300 reproduces a five-minute outage.
OUTAGE_SECONDS = int(os.environ.get("BROKER_OUTAGE_SECONDS", "20"))
# Must hold: work resumes within this long after the broker is back.
RESUME_WITHIN_SECONDS = 60

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp() -> Iterator[SlowSMTPServer]:
    server = SlowSMTPServer(delay=1.5)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def portal_env(broker: ThrowawayRedis, smtp: SlowSMTPServer, var_dir: Path) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": broker.url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        # A short SMTP timeout makes a short lease: an email lost with a killed worker comes back soon.
        "EMAIL_TIMEOUT_SECONDS": "3",
        "HEARTBEAT_INTERVAL_SECONDS": "2",
        "DIAGNOSIS_SWEEP_SECONDS": "5",
        "VAR_DIR": str(var_dir),
        "ENV_FILE": "",
    }


def in_portal(env: dict[str, str], code: str) -> None:
    """Run code in a separate portal process (it publishes to the throwaway broker)."""
    script = "import django; django.setup()\n" + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def queue_emails(env: dict[str, str], *subjects: str) -> None:
    in_portal(
        env,
        f"""
        from django.db import transaction
        from diagnosis.cases import outbox
        with transaction.atomic():
            for subject in {list(subjects)!r}:
                outbox.queue_email(to="customer@example.com", subject=subject, body="Hello")
        """,
    )


def wait_for(what: str, condition: object, seconds: float, log: Path) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.25)
    state = {
        "unsent": list(
            OutboundEmail.objects.filter(sent_at__isnull=True).values("subject", "attempts", "last_error")
        ),
        "cases": list(Case.objects.values("state", "next_poll_at", "wait_deadline")),
    }
    raise AssertionError(f"{what} not within {seconds} s: {state}\n{log.read_text(errors='replace')[-4000:]}")


def test_background_work_resumes_after_the_broker_returns_and_nothing_is_sent_twice(
    requires_postgres: None, throwaway_redis: ThrowawayRedis, smtp: SlowSMTPServer, tmp_path: Path
) -> None:
    broker = throwaway_redis
    env = portal_env(broker, smtp, tmp_path)
    processes = parse_procfile((ROOT / "Procfile").read_text(), env)
    procfile = tmp_path / "Procfile"
    procfile.write_text("".join(f"{name}: {processes[name]}\n" for name in ("worker", "beat")))
    log = tmp_path / "runner.log"
    with log.open("wb") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "portal.runner", str(procfile)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            "a first worker heartbeat", lambda: Heartbeat.objects.filter(component="worker").exists(), 90, log
        )

        queue_emails(env, "before 1", "before 2", "before 3")
        wait_for("a send in progress", smtp.sending.is_set, 30, log)
        broker.stop()  # mid-send: the worker holds an unacknowledged task
        (case_id,) = bulk_waiting(1, timezone.now() - timedelta(minutes=5))  # due while nothing can be queued
        time.sleep(OUTAGE_SECONDS)
        broker.start()

        queue_emails(env, "after")
        resumed = wait_for("the email queued after the outage", lambda: "after" in smtp.subjects, 90, log)
        print(f"outage {OUTAGE_SECONDS} s; work resumed {resumed:.1f} s after the broker returned")
        assert resumed < RESUME_WITHIN_SECONDS

        expected = {"before 1", "before 2", "before 3", "after"}
        wait_for(
            "every email and the escalation sent",
            lambda: (
                expected <= set(smtp.subjects)
                and not OutboundEmail.objects.filter(sent_at__isnull=True).exists()
                and Escalation.objects.filter(case_id=case_id, sent_at__isnull=False).exists()
            ),
            180,
            log,
        )
        time.sleep(3)  # a late duplicate would arrive now
        assert [s for s, n in Counter(smtp.subjects).items() if n > 1] == []
        assert Escalation.objects.filter(case_id=case_id).count() == 1
        # The four queued here, the escalation, and the customer's email that their wait ended.
        assert OutboundEmail.objects.count() == len(smtp.subjects) == 6
    finally:
        os.killpg(runner.pid, signal.SIGTERM)
        runner.wait(timeout=30)

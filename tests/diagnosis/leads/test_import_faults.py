"""The background Send Details import under real faults: a worker process killed, a connection dropped.

To stop the import mid-batch, a colleague's transaction holds the waiting case's row: the
batch that resumes that case waits for it, its reports stored but not committed. The fault
is then real: SIGKILL of the worker process, or pg_terminate_backend of its connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from diagnosis.cases import send_details_imports
from diagnosis.delivery import send_details_copy
from diagnosis.models import Case, CaseState, EventKind, ImportState, SendDetailsImport, StatusReport
from tests.diagnosis.conftest import walk_to
from tests.diagnosis.leads.test_import_view import WAITING_ROUTE, post, rows, upload, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(settings.BASE_DIR)
BATCH = 10
ROWS = 60
# In the third batch: the first two commit, the third waits for the case's row.
CASE_MSG_ID = "m-25"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SEND_DETAILS_IMPORT_BATCH_LINES = BATCH
    return settings.MEDIA_ROOT


def wait_for(what: str, check: Callable[[], object], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {seconds} s")
        time.sleep(0.05)


class HeldCase:
    """A colleague's open transaction on the case's row, in a thread with its own connection."""

    def __init__(self, pk: int) -> None:
        self.pk = pk
        self.locked = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=self.pk)
                self.locked.set()
                self.done.wait(60)
        finally:
            connection.close()

    def __enter__(self) -> HeldCase:
        self.thread.start()
        assert self.locked.wait(10), "the case's row could not be locked"
        return self

    def release(self) -> None:
        self.done.set()
        self.thread.join(timeout=10)

    def __exit__(self, *exc: object) -> None:
        self.release()


def backends_waiting_for_a_lock() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def backends_running(statement: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'"
            " AND query LIKE %s",
            [statement + "%"],
        )
        return [pid for (pid,) in cursor.fetchall()]


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


@contextmanager
def worker_process(queue: str, media: Path, redis_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker in its own process on this test's database, queue and uploads folder."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(media),
        "SEND_DETAILS_IMPORT_BATCH_LINES": str(BATCH),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "portal", "worker", "--pool", "solo", "-Q", queue]
        + ["--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)


def stored_import(lead: User, text: str) -> SendDetailsImport:
    """An upload written without queueing its task: each test sends it to the worker it means."""
    job = SendDetailsImport(
        file_name="send-details.csv",
        encoding="utf-8-sig",
        timezone_name="Asia/Shanghai",
        uploaded_by=lead,
        rows_estimate=ROWS,
    )
    job.file.save("send-details.csv", upload(text), save=True)
    return job


def assert_finished_once(job: SendDetailsImport, case: Case, *, attempts: int) -> None:
    assert (job.state, job.rows_done, job.imported, job.duplicates, job.rejected, job.attempts) == (
        ImportState.DONE,
        ROWS,
        ROWS,
        0,
        0,
        attempts,
    )
    assert StatusReport.objects.count() == ROWS, "no report stored twice, none lost"
    assert StatusReport.objects.values("msg_id").distinct().count() == ROWS
    case.refresh_from_db()
    assert job.resumed == [case.pk] and case.state == CaseState.IN_PROGRESS
    assert case.events.filter(kind=EventKind.WAIT_ENDED).count() == 1, "the case resumed exactly once"


@pytest.mark.parametrize("ending", ["\n", "\n\n"], ids=["copy", "row-by-row"])
def test_a_worker_killed_mid_batch_keeps_others_out_until_its_lease_ends_then_nothing_doubles(
    requires_postgres: None,
    requires_redis: str,
    request: pytest.FixtureRequest,
    lead: User,
    agent: User,
    make_case: Callable[..., Case],
    _uploads_in_tmp: Path,
    ending: str,
) -> None:
    # A blank last line makes COPY decline the file: the row-by-row path commits its batches too.
    case = walk_to(make_case(msg_ids=(CASE_MSG_ID,)), WAITING_ROUTE, agent)
    job = stored_import(lead, rows(ROWS).rstrip("\n") + ending)
    queue = f"import-kill-{os.getpid()}"

    with HeldCase(case.pk) as held, worker_process(queue, _uploads_in_tmp, requires_redis) as worker:
        send_details_imports.import_task.apply_async((job.pk,), queue=queue)
        wait_for("the worker waiting in its third batch", backends_waiting_for_a_lock, 60)
        [killed_backend] = backends_waiting_for_a_lock()
        job.refresh_from_db()
        assert (job.state, job.rows_done) == (ImportState.RUNNING, 2 * BATCH)

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

        # What the dead worker committed is exactly what its counters say.
        job.refresh_from_db()
        assert (job.rows_done, job.imported, job.resumed) == (2 * BATCH, 2 * BATCH, [])
        assert StatusReport.objects.count() == 2 * BATCH
        assert job.claimed_until is not None and job.claimed_until > timezone.now()
        assert send_details_imports.claim(job.pk) is None, "a live lease keeps other workers out"
        assert send_details_imports.dispatch_stale() == 0
        held.release()
        # Its connection ends with the process: the third batch rolls back, resumed case and all.
        wait_for("the killed worker's connection to end", lambda: not backend_alive(killed_backend))

    assert StatusReport.objects.count() == 2 * BATCH
    case.refresh_from_db()
    assert case.state == CaseState.WAITING

    # The lease runs out (as ten minutes later); beat's dispatch hands the import to another worker.
    SendDetailsImport.objects.filter(pk=job.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    request.getfixturevalue("celery_worker")
    assert send_details_imports.dispatch_stale() == 1

    assert_finished_once(wait_until_finished(job.pk), case, attempts=2)


def test_a_connection_dropped_mid_batch_releases_the_import_and_the_next_dispatch_finishes_it(
    requires_postgres: None,
    celery_worker: Any,
    client: Client,
    lead: User,
    agent: User,
    make_case: Callable[..., Case],
) -> None:
    case = walk_to(make_case(msg_ids=(CASE_MSG_ID,)), WAITING_ROUTE, agent)
    client.force_login(lead)

    with HeldCase(case.pk):
        post(client, rows(ROWS))
        job = SendDetailsImport.objects.get()
        wait_for("the worker waiting in its third batch", backends_waiting_for_a_lock)
        [worker_backend] = backends_waiting_for_a_lock()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [worker_backend])

    # The run ends with an error, but first gives the import back for the next dispatch.
    wait_for("the import released", lambda: SendDetailsImport.objects.get(pk=job.pk).claimed_until is None)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_done, job.imported) == (
        ImportState.RUNNING,
        1,
        2 * BATCH,
        2 * BATCH,
    )
    assert StatusReport.objects.count() == 2 * BATCH, "the dropped batch stored nothing"

    assert send_details_imports.dispatch_stale() == 1, "queued again at beat's next tick, not after the lease"

    assert_finished_once(wait_until_finished(job.pk), case, attempts=2)


def test_a_connection_dropped_outside_a_batch_releases_the_import_too(
    requires_postgres: None, celery_worker: Any, client: Client, lead: User, settings: Any
) -> None:
    # Before its batches, outside any transaction, the worker sends the file's distinct
    # numbers to PostgreSQL as it reads them: with many numbers that takes seconds.
    count = 20_000
    settings.SEND_DETAILS_IMPORT_BATCH_LINES = 5000
    client.force_login(lead)

    post(client, rows(count))
    job = SendDetailsImport.objects.get()
    numbers = f"COPY {send_details_copy.NUMBERS}"
    wait_for("the worker sending the file's numbers", lambda: backends_running(numbers))
    [worker_backend] = backends_running(numbers)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [worker_backend])

    wait_for("the import released", lambda: SendDetailsImport.objects.get(pk=job.pk).claimed_until is None)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_done) == (ImportState.RUNNING, 1, 0)
    assert not StatusReport.objects.exists()

    assert send_details_imports.dispatch_stale() == 1
    job = wait_until_finished(job.pk)
    assert (job.state, job.rows_done, job.imported, job.duplicates, job.attempts) == (
        ImportState.DONE,
        count,
        count,
        0,
        2,
    )
    assert StatusReport.objects.count() == count

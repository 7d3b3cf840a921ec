"""PostgreSQL connections that die under a running portal (failover, restarts, idle killers).

The server here is a real single-threaded WSGI server in a thread, like one gunicorn
sync worker: its connection outlives each request (CONN_MAX_AGE), so a connection
killed between requests is one the next request would reuse. Connections are killed
with pg_terminate_backend, from another session, as an administrator or failover would.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import OperationalError, connection, connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from portal import heartbeat
from portal.db_retry import RetryOnLostConnectionMiddleware
from portal.models import Heartbeat, PeriodicSlot

pytestmark = pytest.mark.django_db(transaction=True)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class PersistentServer:
    """Serves the portal from one thread, one request at a time, keeping its database connection."""

    def __init__(self) -> None:
        self.httpd = WSGIServer(("127.0.0.1", 0), QuietHandler, ipv6=False)
        self.httpd.set_app(WSGIHandler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            self.httpd.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()

    def get(self, path: str, cookie: str = "") -> int:
        request = urllib.request.Request(self.url + path, headers={"Cookie": cookie} if cookie else {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code

    def stop(self) -> None:
        self.httpd.shutdown()
        self.thread.join(timeout=10)
        self.httpd.server_close()


@pytest.fixture
def server(requires_postgres: None, settings: Any) -> Iterator[PersistentServer]:
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    running = PersistentServer()
    yield running
    running.stop()


def other_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def terminate(pids: set[int]) -> None:
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def test_a_connection_killed_between_requests_is_replaced(server: PersistentServer, agent: User) -> None:
    cookie = session_cookie(agent)
    before = other_backends()
    assert server.get("/healthz") == 200
    served_by = other_backends() - before
    assert len(served_by) == 1  # the server's one connection ...
    assert server.get("/cases/", cookie) == 200
    assert other_backends() - before == served_by  # ... kept between requests

    terminate(served_by)

    assert server.get("/healthz") == 200
    assert server.get("/cases/", cookie) == 200
    assert server.get("/", cookie) == 200
    replaced_by = other_backends() - before
    assert len(replaced_by) == 1 and replaced_by != served_by


def test_connections_killed_while_requests_run_cost_no_errors(server: PersistentServer, agent: User) -> None:
    cookie = session_cookie(agent)
    connection.ensure_connection()
    keep = {connection.connection.info.backend_pid}  # this test's own session
    stop = threading.Event()
    kills = Counter[str]()

    def killer() -> None:
        try:
            while not stop.wait(0.1):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> ALL(%s)",
                        [list(keep)],
                    )
                    kills["terminated"] += cursor.fetchone()[0]
        finally:
            connection.close()

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    statuses = Counter[int]()
    try:
        for n in range(200):
            path, with_cookie = [("/healthz", ""), ("/cases/", cookie), ("/", cookie)][n % 3]
            statuses[server.get(path, with_cookie)] += 1
    finally:
        stop.set()
        thread.join(timeout=10)

    assert kills["terminated"] >= 5, kills  # the run really was disturbed
    assert statuses == Counter({200: 200}), f"{dict(statuses)} with {kills['terminated']} connections killed"


def test_workers_and_beat_recover_after_their_connection_is_killed(
    requires_postgres: None, celery_worker: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.tasks import heartbeat as heartbeat_task

    def worker_stamp_after(previous: object) -> bool:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            stamp = Heartbeat.objects.filter(component="worker").values_list("at", flat=True).first()
            if stamp is not None and stamp != previous:
                return True
            time.sleep(0.1)
        return False

    heartbeat_task.delay()
    assert worker_stamp_after(None)
    first = Heartbeat.objects.get(component="worker").at
    terminate(other_backends())
    PeriodicSlot.objects.all().delete()  # the next beat slot, so the heartbeat runs again
    heartbeat_task.delay()
    assert worker_stamp_after(first)

    # Beat: one long-lived thread that stamps its tick as it publishes the heartbeat.
    monkeypatch.setattr(heartbeat, "_beat_id", "test-host:1:2026-01-01T00:00:00Z")
    with ThreadPoolExecutor(max_workers=1) as beat:
        beat.submit(heartbeat._record_beat_tick, sender=heartbeat.HEARTBEAT_TASK).result()
        ticked = Heartbeat.objects.get(component="beat").at
        terminate(other_backends())
        beat.submit(heartbeat._record_beat_tick, sender=heartbeat.HEARTBEAT_TASK).result()
        assert Heartbeat.objects.get(component="beat").at > ticked
        beat.submit(connections.close_all).result()


def killed_on_first_call(calls: list[str], times: int = 1) -> Callable[[HttpRequest], HttpResponse]:
    """A handler whose first `times` runs lose their connection after a query, as a killed backend would."""

    def handler(request: HttpRequest) -> HttpResponse:
        calls.append(request.method or "")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            if len(calls) <= times:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return HttpResponse("ok")

    # Wrapped as Django wraps every layer: the exception becomes a 500 response.
    # Cast: the wrapper of a synchronous handler is synchronous (the stubs allow either).
    return cast("Callable[[HttpRequest], HttpResponse]", convert_exception_to_response(handler))


@pytest.fixture
def closed_after(transactional_db: None) -> Iterator[None]:
    """Drop this thread's connection before the database is flushed: a test may leave it dead."""
    yield
    connection.close()


@pytest.mark.parametrize(
    ("method", "attempts", "status"),
    [("GET", 2, 200), ("HEAD", 2, 200), ("OPTIONS", 2, 200), ("POST", 1, 500), ("PUT", 1, 500)],
)
def test_only_safe_requests_are_retried(
    requires_postgres: None,
    closed_after: None,
    rf: RequestFactory,
    caplog: pytest.LogCaptureFixture,
    method: str,
    attempts: int,
    status: int,
) -> None:
    calls: list[str] = []
    middleware = RetryOnLostConnectionMiddleware(killed_on_first_call(calls))

    response = middleware(rf.generic(method, "/anything"))

    assert (len(calls), response.status_code) == (attempts, status)
    # A retried attempt is a warning; only a request that really failed logs a server error.
    assert ("Internal Server Error" in caplog.text) == (status == 500)


@pytest.mark.parametrize(("times", "status"), [(2, 200), (3, 500)])
def test_a_safe_request_survives_its_new_connection_dying_too(
    requires_postgres: None,
    closed_after: None,
    rf: RequestFactory,
    caplog: pytest.LogCaptureFixture,
    times: int,
    status: int,
) -> None:
    # A failover can drop the replacement connection as well; a third loss in a row is an outage.
    calls: list[str] = []
    middleware = RetryOnLostConnectionMiddleware(killed_on_first_call(calls, times))

    response = middleware(rf.get("/anything"))

    assert (len(calls), response.status_code) == (min(times, 2) + 1, status)
    assert ("Internal Server Error" in caplog.text) == (status == 500)


def test_nothing_is_retried_inside_a_transaction(
    requires_postgres: None, closed_after: None, rf: RequestFactory
) -> None:
    calls: list[str] = []
    middleware = RetryOnLostConnectionMiddleware(killed_on_first_call(calls))

    with pytest.raises(OperationalError), transaction.atomic():  # its commit fails: lost with the connection
        response = middleware(rf.get("/anything"))
        assert (len(calls), response.status_code) == (1, 500)

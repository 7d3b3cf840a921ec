"""Shared fixtures: personas, real services, and the browser.

Tests that need PostgreSQL, Redis or Chromium skip with a reason when the service
is not configured; with REQUIRE_SERVICES=1 (CI) every skip is turned into a failure.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import translation

from portal import roles
from tests.redis_server import ThrowawayRedis

CHROMIUM = "/usr/bin/chromium"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"REQUIRE_SERVICES=1 turns this skip into a failure: {reason}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Playwright's sync API runs an event loop in this thread; the ORM must allow it.
    if any(item.get_closest_marker("browser") for item in items):
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Every record of every logger, at every level, goes to this file; `make test` then runs the
# log audit (tests/log_audit.py) over it: no token, phone number or email address may show.
SUITE_LOG = Path(__file__).resolve().parent.parent / "var" / "test-logs" / "suite.log"
_suite_log: logging.FileHandler | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _suite_log
    SUITE_LOG.parent.mkdir(parents=True, exist_ok=True)
    SUITE_LOG.write_text("")
    # Append mode: a test that reconfigures logging closes every handler, and a handler
    # opened for appending reopens itself on its next record (one opened with "w" never does).
    _suite_log = logging.FileHandler(SUITE_LOG, mode="a", encoding="utf-8")
    _suite_log.setLevel(logging.DEBUG)
    _suite_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))


@pytest.fixture(autouse=True)
def _suite_log_records_everything() -> None:
    """Attach the suite's log file to the root logger, at DEBUG, before every test.

    Tests that run `manage.py` in-process (django.setup() applies LOGGING again) or start a
    Celery worker replace the root logger's handlers and level; the log audit is only worth
    something if the file sees every test.
    """
    root = logging.getLogger()
    if _suite_log is not None and _suite_log not in root.handlers:
        root.addHandler(_suite_log)
    root.setLevel(logging.DEBUG)


@pytest.fixture(autouse=True)
def _source_language() -> Iterator[None]:
    """Each test starts in the source language: a request in Chinese (LocaleMiddleware activates
    it on the thread and leaves it there) must not change what the next test reads."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def make_user(username: str, group_name: str | None = None, **extra: Any) -> User:
    user = User.objects.create_user(
        username=username, password="pw-" + username, email=f"{username}@example.com", **extra
    )
    if group_name:
        user.groups.add(roles.ensure_role_groups()[group_name])
    return user


@pytest.fixture(scope="session", autouse=True)
def _no_lingering_sessions(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Close sessions that worker and server threads left open, so the test database can be dropped."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    # Outage tests kill backends on purpose; this thread's connection may be one of them.
    connection.close()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _fresh_queue_counts() -> None:
    """The queue's tab counts are cached; a rolled-back test must not hand its counts to the next."""
    from diagnosis.cases import queue, unseen_replies

    queue.forget_counts()
    unseen_replies.forget_all()


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Give transactional tests the rows data migrations made and a flush removed."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from diagnosis.delivery.catalogue import load_catalogue

    load_catalogue()
    roles.ensure_role_groups()


@pytest.fixture
def agent(db: None) -> User:
    return make_user("avery", roles.AGENTS_GROUP, first_name="Avery")


@pytest.fixture
def other_agent(db: None) -> User:
    return make_user("blake", roles.AGENTS_GROUP, first_name="Blake")


@pytest.fixture
def lead(db: None) -> User:
    return make_user("morgan", roles.LEADS_GROUP, first_name="Morgan")


@pytest.fixture
def admin_user(db: None) -> User:
    return make_user("sam", None, is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(db: None) -> User:
    """Signed in, but in no group: has no business on staff pages."""
    return make_user("casey")


@pytest.fixture
def requires_postgres() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("PostgreSQL not configured: set DATABASE_URL=postgres://...")


@pytest.fixture
def requires_redis() -> str:
    if not settings.REDIS_URL:
        pytest.skip("Redis not configured: set REDIS_URL=redis://...")
    return settings.REDIS_URL


@pytest.fixture
def celery_worker(transactional_db: None, requires_redis: str) -> Iterator[Any]:
    """A real Celery worker thread consuming this run's queue on the Redis broker."""
    from celery.contrib.testing.worker import start_worker
    from django.db import connections

    from portal.celery import app

    # The worker sets the root logger's level; keep the suite's, so its log file misses nothing.
    level = logging.getLogger().level
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel=level
    ) as worker:
        yield worker
    logging.getLogger().setLevel(level)
    connections.close_all()


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    """A running redis-server of the test's own; `stop()` and `start()` simulate an outage."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server not found on PATH: apt-get install redis-server")
    server = ThrowawayRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        from tests.browser.axe_audit import AuditedBrowser

        yield AuditedBrowser(chromium)
        chromium.close()


@pytest.fixture(autouse=True)
def _accessibility_checked(request: pytest.FixtureRequest) -> Iterator[object]:
    """Every page a browser test opens is checked by axe-core (tests/browser/axe_audit.py)."""
    if "browser" not in request.fixturenames:
        yield None
        return
    from tests.browser.axe_audit import audited

    yield from audited(request, request.getfixturevalue("browser"))


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def platform(settings: Any, live_server: Any) -> Iterator[Any]:
    """The SMS platform simulator: accepts sends to +4915… and pushes DELIVRD back to the live server."""
    from diagnosis.huawei import simulator

    server = simulator.make_server(
        "127.0.0.1",
        0,
        app_key="e2e-key",
        app_secret="e2e-secret",
        rules=[simulator.Rule.parse("+4915=DELIVRD@0.2")],
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_API_URL = server.url
    settings.SMS_APP_KEY, settings.SMS_APP_SECRET = "e2e-key", "e2e-secret"
    settings.SMS_SENDER, settings.SMS_TEST_TEMPLATE_ID = "csms12345678", "e2e-template"
    settings.PORTAL_BASE_URL = live_server.url
    yield server
    server.shutdown()
    server.server_close()

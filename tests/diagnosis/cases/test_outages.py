"""A Redis outage (broker and cache are one server in production) seen from the outside.

While the server is down, status-report callbacks are answered and stored, customers
can file tickets, and the pages that read the cache still render. Once it is back, the
work that could not be queued is done by the periodic catch-up tasks, on a real worker.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.db import connections, transaction
from django.test import Client

from diagnosis import tasks
from diagnosis.cases import outbox, services
from diagnosis.models import Case, CaseState, OutboundEmail, StatusReport, StatusSource
from diagnosis.support import tickets
from portal.celery import app
from portal.periodic import SLOT_FRACTION
from portal.publish import publish, publish_on_commit
from tests.diagnosis.conftest import ticket, walk_to
from tests.redis_server import ThrowawayRedis

pytestmark = pytest.mark.django_db(transaction=True)

FORM = "application/x-www-form-urlencoded"
WAITING_MSG_ID = "b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6"
# A request during the outage may spend a connect timeout on the dead server, no more.
SLOW_REQUEST_SECONDS = 5.0


def callback_body(msg_id: str, status: str = "DELIVRD") -> str:
    return f"sequence=1&total=1&updateTime=2026-11-20T08%3A00%3A05Z&smsMsgId={msg_id}&status={status}"


def _repoint_producers(url: str) -> None:
    # The app keeps a connection pool and a producer pool for the broker it first used.
    # Private attributes and a setting celery-types declares read-only: hence the ignores.
    app.conf.broker_url = url  # type: ignore[misc]
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def celery_broker_at(url: str) -> Iterator[None]:
    """Publish to (and start workers on) the broker at `url`; the configured one afterwards."""
    saved = app.conf.broker_url
    _repoint_producers(url)
    try:
        yield
    finally:
        app.pool.force_close_all()  # type: ignore[attr-defined]  # kombu's Resource has it; the stubs do not
        _repoint_producers(saved)


@pytest.fixture
def outage_redis(
    throwaway_redis: ThrowawayRedis, requires_redis: str, settings: Any
) -> Iterator[ThrowawayRedis]:
    """Broker and cache, configured as in production, on a server the test can stop."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": throwaway_redis.url}}
    settings.TRENDS_CACHE_SECONDS = 600  # the leads' page reads its trends from the cache
    with celery_broker_at(throwaway_redis.url):
        yield throwaway_redis


@contextmanager
def worker() -> Iterator[None]:
    """A real Celery worker thread on the (repointed) broker, as `celery_worker` in conftest."""
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    connections.close_all()


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_callbacks_are_answered_during_an_outage_and_matched_after_it(
    outage_redis: ThrowawayRedis,
    make_case: Callable[..., Case],
    agent: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = StatusSource.objects.create(name="outage")
    case = make_case(msg_ids=(WAITING_MSG_ID,))
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)
    assert Case.objects.get(pk=case.pk).state == CaseState.WAITING
    bodies = [callback_body(WAITING_MSG_ID)] + [callback_body(f"other-{n}") for n in range(19)]

    outage_redis.stop()
    client = Client(raise_request_exception=False)
    caplog.set_level(logging.WARNING)
    path = source.callback_path()
    answers = [timed(partial(client.post, path, data=body, content_type=FORM)) for body in bodies]

    statuses = [response.status_code for response, _ in answers]
    assert statuses == [200] * len(bodies), f"{statuses.count(200)}/{len(bodies)} answered 200: {statuses}"
    assert max(seconds for _, seconds in answers) < SLOW_REQUEST_SECONDS
    assert StatusReport.objects.count() == len(bodies)
    assert not StatusReport.objects.filter(matched_at__isnull=False).exists()  # matching is owed
    assert Case.objects.get(pk=case.pk).state == CaseState.WAITING
    assert "portal.publish" not in {record.name for record in caplog.records}  # callbacks publish nothing

    outage_redis.start()
    with worker():
        tasks.match_unmatched_task.delay()  # what beat publishes every few seconds
        wait_for(lambda: not StatusReport.objects.filter(matched_at__isnull=True).exists())
        case.refresh_from_db()
        assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
        assert agent.notifications.filter(case=case).count() == 1

        # A callback after the outage is matched by beat's next run, in the next slot.
        response = client.post(source.callback_path(), data=callback_body("after-1"), content_type=FORM)
        assert response.status_code == 200
        time.sleep(settings.DIAGNOSIS_MATCH_SECONDS * SLOT_FRACTION)
        tasks.match_unmatched_task.delay()
        wait_for(lambda: StatusReport.objects.filter(msg_id="after-1", matched_at__isnull=False).exists())


def test_tickets_and_cached_pages_work_during_an_outage_and_emails_go_out_after_it(
    outage_redis: ThrowawayRedis, lead: User, caplog: pytest.LogCaptureFixture
) -> None:
    outage_redis.stop()
    customer = Client(raise_request_exception=False)
    caplog.set_level(logging.WARNING)
    emails = [f"customer{n}@example.com" for n in range(5)]
    answers = [timed(partial(customer.post, "/support/new/", ticket(email=email))) for email in emails]

    statuses = [response.status_code for response, _ in answers]
    assert statuses == [302] * len(emails), f"{statuses.count(302)}/{len(emails)} filed: {statuses}"
    assert max(seconds for _, seconds in answers) < SLOW_REQUEST_SECONDS
    for (response, _), email in zip(answers, emails, strict=True):
        case = Case.objects.get(reporter_email=email)
        # The link shown on filing opens the case.
        assert customer.get(response["Location"]).status_code == 200
        assert OutboundEmail.objects.filter(case=case, to=email, sent_at__isnull=True).count() == 1
    assert "ticket-rate" in caplog.text  # the rate limit could not count: logged, and the ticket allowed

    assert customer.get("/support/find/").status_code == 200
    assert customer.post("/support/find/", {"email": emails[0]}).status_code == 200
    staff = Client(raise_request_exception=False)
    staff.force_login(lead)
    assert staff.get("/leads/").status_code == 200
    assert staff.get("/leads/?days=7").status_code == 200
    pending = OutboundEmail.objects.filter(sent_at__isnull=True).count()
    assert pending == len(emails) + 1  # the tickets' confirmations and the links resent by /support/find/
    assert mail.outbox == []

    outage_redis.start()
    with worker():
        tasks.deliver_pending_task.delay()  # what beat publishes every minute
        wait_for(lambda: not OutboundEmail.objects.filter(sent_at__isnull=True).exists())
    assert outbox.deliver_pending() == 0
    assert sorted(message.to[0] for message in mail.outbox) == sorted([*emails, emails[0]])
    assert staff.get("/leads/").status_code == 200  # and the cache is used again


def test_a_publish_with_the_broker_down_is_logged_not_raised(
    outage_redis: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    outage_redis.stop()
    caplog.set_level(logging.WARNING, logger="portal.publish")

    queued, seconds = timed(lambda: publish(tasks.deliver_pending_task))
    with transaction.atomic():
        publish_on_commit(tasks.deliver_pending_task)

    assert queued is False and seconds < SLOW_REQUEST_SECONDS
    assert caplog.text.count("Could not queue diagnosis.deliver_pending_emails") == 2


def test_a_broker_that_hangs_costs_seconds_not_a_hung_request(requires_redis: str) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        with celery_broker_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0"):
            queued, seconds = timed(lambda: publish(tasks.deliver_pending_task))
    assert queued is False and seconds < 2 * SLOW_REQUEST_SECONDS


def test_the_ticket_rate_limit_counts_while_redis_is_up_and_lets_tickets_through_while_it_is_down(
    outage_redis: ThrowawayRedis, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.TICKET_LIMIT_PER_IP_PER_HOUR = 1
    assert tickets.may_file("203.0.113.9")
    assert not tickets.may_file("203.0.113.9")

    outage_redis.stop()
    caplog.set_level(logging.WARNING, logger="portal.cache")
    assert tickets.may_file("203.0.113.9")
    assert "incr ticket-rate:file:203.0.113.9 skipped" in caplog.text

"""The outbox sends each email once, through a real (slow) SMTP server, even when
the immediate send and several periodic resends race for the same rows."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.utils import timezone
from pytest_django import Settings

from diagnosis.cases import outbox
from diagnosis.models import OutboundEmail
from tests.smtp import SlowSMTPServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp_server(settings: Settings, requires_postgres: None) -> Iterator[SlowSMTPServer]:
    """A real SMTP server on a spare loopback port, and Django's SMTP backend pointed at it."""
    server = SlowSMTPServer(delay=1.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    yield server
    server.shutdown()
    server.server_close()


def make_emails(count: int) -> list[OutboundEmail]:
    return [
        OutboundEmail.objects.create(to=f"customer{i}@example.com", subject=f"Case update {i}", body="Hello")
        for i in range(count)
    ]


def run_together(targets: list[Callable[[], object]]) -> None:
    """Start every target at the same moment, each on its own thread and database connection."""
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Callable[[], object]) -> None:
        try:
            barrier.wait()
            target()
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_immediate_send_and_concurrent_resends_send_each_email_exactly_once(
    smtp_server: SlowSMTPServer,
) -> None:
    emails = make_emails(5)

    def resend_loop() -> None:
        for _ in range(2):
            outbox.deliver_pending()

    # One on-commit task per email, as `queue_email` asks for, racing three beats' worth of resends.
    immediate: list[Callable[[], object]] = [partial(outbox.deliver, e.pk) for e in emails]
    run_together([*immediate, resend_loop, resend_loop, resend_loop])

    received = Counter(smtp_server.subjects)
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates == 0, f"{duplicates} duplicate sends: {dict(received)}"
    assert received == {e.subject: 1 for e in emails}
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()
    assert list(OutboundEmail.objects.values_list("attempts", flat=True)) == [1] * len(emails)


def test_a_row_whose_sender_died_is_sent_by_the_next_resend(smtp_server: SlowSMTPServer) -> None:
    smtp_server.delay = 0
    abandoned, in_flight = make_emails(2)
    now = timezone.now()
    # A sender claimed this one and died before stamping it; its lease has run out.
    OutboundEmail.objects.filter(pk=abandoned.pk).update(attempts=1, claimed_until=now - timedelta(seconds=1))
    # A live sender holds this one: nobody may overtake it while its lease lasts.
    OutboundEmail.objects.filter(pk=in_flight.pk).update(attempts=1, claimed_until=now + outbox.claim_lease())

    assert outbox.deliver_pending() == 1
    assert outbox.deliver(in_flight.pk) is False

    assert smtp_server.subjects == [abandoned.subject]
    abandoned.refresh_from_db()
    assert abandoned.sent_at is not None and abandoned.claimed_until is None
    assert abandoned.attempts == 2
    in_flight.refresh_from_db()
    assert in_flight.sent_at is None and in_flight.attempts == 1


def test_a_failed_send_releases_its_claim_for_the_next_resend(smtp_server: SlowSMTPServer) -> None:
    smtp_server.delay = 0
    smtp_server.reject = True
    (row,) = make_emails(1)

    assert outbox.deliver(row.pk) is False

    row.refresh_from_db()
    assert (row.sent_at, row.claimed_until, row.attempts) == (None, None, 1)
    assert "554" in row.last_error
    smtp_server.reject = False
    assert outbox.deliver_pending() == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.last_error == ""
    assert smtp_server.subjects == [row.subject]


def test_the_claim_outlasts_the_smtp_timeout(settings: Settings) -> None:
    from portal import settings as production

    assert isinstance(production.EMAIL_TIMEOUT, int) and production.EMAIL_TIMEOUT > 0
    settings.EMAIL_TIMEOUT = production.EMAIL_TIMEOUT
    assert outbox.claim_lease() > timedelta(seconds=production.EMAIL_TIMEOUT) * 10

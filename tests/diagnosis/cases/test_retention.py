"""The retention rules beat applies every hour: closed cases erased after a year, old rejected
bodies and old sent emails deleted, unsent emails kept whatever their age."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from diagnosis.cases import erasure, retention, services
from diagnosis.cases.outbox import MAX_ATTEMPTS
from diagnosis.guide import Guide
from diagnosis.models import Case, CaseState, EventKind, OutboundEmail, Recipient, RejectedPayload
from tests.diagnosis.conftest import route_to, walk_to


def closed_at(when: datetime, make_case: Callable[..., Case], guide: Guide, agent: User, lead: User) -> Case:
    """A case resolved and closed at `when`."""
    with time_machine.travel(when, tick=False):
        case = walk_to(make_case(), route_to(guide, "R_inbox_full"), agent)
        case = services.close_case(case.pk, actor=lead)
    assert case.closed_at == when
    return case


def emails_and_payloads(now: datetime) -> dict[str, int]:
    """Rows on either side of their retention periods (30 days for bodies, 90 for sent emails)."""
    made = {
        "old rejected": RejectedPayload.objects.create(reason="bad", received_at=now - timedelta(days=31)),
        "new rejected": RejectedPayload.objects.create(reason="bad", received_at=now - timedelta(days=29)),
        "old sent": OutboundEmail.objects.create(
            to="a@example.com", subject="s", body="b", sent_at=now - timedelta(days=91)
        ),
        "new sent": OutboundEmail.objects.create(
            to="a@example.com", subject="s", body="b", sent_at=now - timedelta(days=89)
        ),
        "old pending": OutboundEmail.objects.create(
            to="a@example.com", subject="s", body="b", created_at=now - timedelta(days=400)
        ),
        # Given up after the last attempt: done with, like a sent one, once it is old enough.
        "old given up": OutboundEmail.objects.create(
            to="a@example.com",
            subject="s",
            body="b",
            created_at=now - timedelta(days=91),
            attempts=MAX_ATTEMPTS,
        ),
        "new given up": OutboundEmail.objects.create(
            to="a@example.com",
            subject="s",
            body="b",
            created_at=now - timedelta(days=89),
            attempts=MAX_ATTEMPTS,
        ),
    }
    return {name: row.pk for name, row in made.items()}


def remaining(rows: dict[str, int]) -> set[str]:
    kept = set()
    for name, pk in rows.items():
        model = RejectedPayload if "rejected" in name else OutboundEmail
        if model.objects.filter(pk=pk).exists():
            kept.add(name)
    return kept


@pytest.mark.django_db
def test_cases_closed_longer_than_the_retention_are_erased_once(
    make_case: Callable[..., Case], guide: Guide, agent: User, lead: User
) -> None:
    now = timezone.now()
    old = closed_at(now - timedelta(days=366), make_case, guide, agent, lead)
    recent = closed_at(now - timedelta(days=364), make_case, guide, agent, lead)
    resolved_long_ago = walk_to(make_case(), route_to(guide, "R_inbox_full"), agent)
    Case.objects.filter(pk=resolved_long_ago.pk).update(resolved_at=now - timedelta(days=800))
    rows = emails_and_payloads(now)

    with time_machine.travel(now, tick=False):
        result = retention.apply_retention()

    assert (result.erased_cases, result.failed_cases, result.rejected_payloads, result.sent_emails) == (
        1,
        0,
        1,
        2,
    )
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.erased_at == now and old.reporter_email == erasure.ERASED_EMAIL
    assert old.state == CaseState.CLOSED and old.outcome == "R_inbox_full"
    assert old.events.get(kind=EventKind.ERASED).summary == "Personal data erased (retention rule)"
    assert recent.erased_at is None and recent.reporter_email == "dana@example.com"
    assert Case.objects.get(pk=resolved_long_ago.pk).erased_at is None  # not closed: not erased
    assert remaining(rows) == {"new rejected", "new sent", "old pending", "new given up"}

    # Run again two days later: the second case is due now, the first is not erased twice.
    with time_machine.travel(now + timedelta(days=2), tick=False):
        again = retention.apply_retention()
    assert again.erased_cases == 1
    assert Case.objects.get(pk=recent.pk).erased_at is not None
    assert old.events.filter(kind=EventKind.ERASED).count() == 1


@pytest.mark.django_db
def test_a_reopened_case_is_not_erased(
    make_case: Callable[..., Case], guide: Guide, agent: User, lead: User
) -> None:
    case = closed_at(timezone.now() - timedelta(days=400), make_case, guide, agent, lead)
    services.reopen_case(case.pk, actor=lead)

    assert retention.apply_retention().erased_cases == 0
    assert Case.objects.get(pk=case.pk).closed_at is None


@pytest.mark.django_db
def test_retention_periods_come_from_settings(
    settings: object, make_case: Callable[..., Case], guide: Guide, agent: User, lead: User
) -> None:
    settings.PERSONAL_DATA_RETENTION_DAYS = 10  # type: ignore[attr-defined]
    case = closed_at(timezone.now() - timedelta(days=11), make_case, guide, agent, lead)

    assert retention.apply_retention().erased_cases == 1
    assert Case.objects.get(pk=case.pk).erased_at is not None


@pytest.mark.django_db
def test_one_case_that_fails_does_not_stop_the_others(
    make_case: Callable[..., Case], guide: Guide, agent: User, lead: User
) -> None:
    now = timezone.now()
    cases = [closed_at(now - timedelta(days=400 + n), make_case, guide, agent, lead) for n in range(3)]
    # Damaged data: a second number that reads like the first one's placeholder, so the
    # erasure of this case breaks the one-number-per-case constraint and rolls back.
    broken = cases[1]
    first = broken.recipients.get()
    Recipient.objects.create(case=broken, e164=erasure.placeholder_number(first))

    result = retention.apply_retention(batch_size=2)

    assert (result.erased_cases, result.failed_cases) == (2, 1)
    assert [Case.objects.get(pk=c.pk).erased_at is not None for c in cases] == [True, False, True]
    assert Recipient.objects.get(pk=first.pk).e164 == "+4915123456789"


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_erases_and_prunes_through_a_real_worker(
    celery_worker: object, make_case: Callable[..., Case], guide: Guide, agent: User, lead: User
) -> None:
    now = timezone.now()
    old = closed_at(now - timedelta(days=366), make_case, guide, agent, lead)
    recent = closed_at(now - timedelta(days=364), make_case, guide, agent, lead)
    rows = emails_and_payloads(now)

    retention.apply_retention_task.delay()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and remaining(rows) != {
        "new rejected",
        "new sent",
        "old pending",
        "new given up",
    }:
        time.sleep(0.2)
    assert remaining(rows) == {"new rejected", "new sent", "old pending", "new given up"}
    assert Case.objects.get(pk=old.pk).erased_at is not None
    assert Case.objects.get(pk=recent.pk).erased_at is None


@pytest.mark.django_db
def test_cases_closed_before_the_upgrade_get_their_close_time_from_their_history(
    make_case: Callable[..., Case], guide: Guide, agent: User, lead: User
) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("diagnosis.migrations.0017_closed_at_and_erasure")
    when = timezone.now() - timedelta(days=500)
    case = closed_at(when, make_case, guide, agent, lead)
    open_case = make_case()
    Case.objects.filter(pk__in=[case.pk, open_case.pk]).update(closed_at=None)

    migration.fill_closed_at(apps, None)

    assert Case.objects.get(pk=case.pk).closed_at == when
    assert Case.objects.get(pk=open_case.pk).closed_at is None

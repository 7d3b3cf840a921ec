"""The 72-hour wait, with the clock travelled: resume, escalate once, catch up, race, crash."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diagnosis.cases import outbox, sweep, waiting
from diagnosis.delivery import case_reports, ingest
from diagnosis.guide.evidence import Standing, verdict
from diagnosis.models import (
    AnswerRecord,
    Case,
    CaseState,
    Escalation,
    EventKind,
    OutboundEmail,
    ReportChannel,
    TestMessage,
)
from tests.diagnosis.conftest import MSG_ID, store_report, walk_to
from tests.diagnosis.waiting import bulk_waiting

ROOT = Path(settings.BASE_DIR)


def waiting_case(make_case: Callable[..., Case], agent: User, **kw: object) -> Case:
    return walk_to(
        make_case(sent_ago=timedelta(0), **kw),
        [("report_returned", "no_report"), ("dial_recipient", "yes")],
        agent,
    )


def import_report(status: str, msg_id: str = MSG_ID) -> None:
    """A report that reaches the store without a callback (as from a Send Details import)."""
    report = ingest.build_report(
        {"smsMsgId": msg_id, "status": status, "updateTime": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")},
        ReportChannel.IMPORT,
    )
    ingest.store([report])


def test_poll_schedule_backs_off_and_ends_at_the_deadline() -> None:
    start = timezone.now()
    deadline = start + timedelta(hours=73)
    times: list[timedelta] = []
    at = start
    while (following := waiting.next_poll_at(start, deadline, at)) is not None:
        at = following
        times.append(at - start)
        if at == deadline:
            break
    assert times[:6] == [
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(hours=12),
        timedelta(hours=24),
        timedelta(hours=36),
    ]
    assert times[-1] == timedelta(hours=73)
    assert waiting.next_poll_at(start, deadline, deadline) is None


def test_report_after_10_hours_resumes_at_c3_with_the_code(
    make_case: Callable[..., Case], agent: User
) -> None:
    case = waiting_case(make_case, agent)
    assert case.waiting_since is not None
    assert case.next_poll_at == case.waiting_since + timedelta(minutes=15)

    with time_machine.travel(case.waiting_since + timedelta(hours=10), tick=False):
        import_report("UNDELIV")
        result = sweep.sweep()

    case.refresh_from_db()
    assert (result.resumed, result.escalated) == (1, 0)
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    assert case.answers.get(node="wait_phone_off").evidence == "UNDELIV"


def test_nothing_for_72_hours_escalates_exactly_once(make_case: Callable[..., Case], agent: User) -> None:
    case = waiting_case(make_case, agent)
    deadline = case.wait_deadline

    assert deadline is not None
    with time_machine.travel(deadline - timedelta(minutes=1), tick=False):
        early = sweep.sweep()
    with time_machine.travel(deadline, tick=False):
        on_time = sweep.sweep()
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        again = sweep.sweep()

    case.refresh_from_db()
    assert (early.escalated, on_time.escalated, again.escalated, again.examined) == (0, 1, 0, 0)
    assert (case.state, case.outcome) == (CaseState.ESCALATED, "E_no_report_after_72h")
    escalation = Escalation.objects.get(case=case)
    email = OutboundEmail.objects.get(escalation=escalation)
    assert email.to == settings.CUSTOMER_SERVICE_EMAIL
    assert MSG_ID in email.body and "+4915123456789" in email.body and '"case":' in email.body
    assert outbox.deliver_pending() == 2  # the escalation, and the customer's news of it
    escalation.refresh_from_db()
    assert escalation.sent_at is not None and escalation.sent_to == settings.CUSTOMER_SERVICE_EMAIL
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [settings.CUSTOMER_SERVICE_EMAIL, case.reporter_email]
    )


def test_a_report_at_71h59_wins_over_the_escalation(make_case: Callable[..., Case], agent: User) -> None:
    case = waiting_case(make_case, agent)

    assert case.waiting_since is not None and case.wait_deadline is not None
    with time_machine.travel(case.waiting_since + timedelta(hours=71, minutes=59), tick=False):
        import_report("DELIVRD")
    with time_machine.travel(case.wait_deadline + timedelta(minutes=5), tick=False):
        result = sweep.sweep()

    case.refresh_from_db()
    assert (result.resumed, result.escalated) == (1, 0)
    assert case.current_node == "status_is_delivrd"
    assert not Escalation.objects.filter(case=case).exists()


def test_beat_down_for_five_days_catches_up_once(make_case: Callable[..., Case], agent: User) -> None:
    cases = [waiting_case(make_case, agent, msg_ids=(f"m-{i}",)) for i in range(12)]
    import_report("DELIVRD", "m-0")

    assert cases[0].waiting_since is not None
    with time_machine.travel(cases[0].waiting_since + timedelta(days=5), tick=False):
        first = sweep.sweep(batch_size=5)
        second = sweep.sweep(batch_size=5)

    assert (first.resumed, first.escalated, first.examined) == (1, 11, 12)
    assert second.examined == 0
    assert Escalation.objects.count() == 11
    assert Case.objects.filter(state=CaseState.ESCALATED).count() == 11


def test_a_failing_case_does_not_stop_the_sweep(make_case: Callable[..., Case], agent: User) -> None:
    broken = waiting_case(make_case, agent, msg_ids=("broken",))
    fine = waiting_case(make_case, agent, msg_ids=("fine",))
    # A stored answer the guide does not offer makes this case fail to settle.
    AnswerRecord.objects.filter(case=broken, node="dial_recipient").update(
        node="wait_phone_off", value="bogus"
    )
    Case.objects.filter(pk=broken.pk).update(current_node="no_such_node")

    assert fine.wait_deadline is not None
    with time_machine.travel(fine.wait_deadline + timedelta(minutes=1), tick=False):
        result = sweep.sweep()
        broken.refresh_from_db()
        assert broken.next_poll_at == timezone.now() + sweep.RETRY_AFTER_FAILURE

    assert (result.failed, result.escalated) == (1, 1)
    fine.refresh_from_db()
    assert fine.state == CaseState.ESCALATED


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_never_touch_the_same_case(requires_postgres: None) -> None:
    ids = bulk_waiting(120, timezone.now() - timedelta(hours=1))
    results: list[sweep.SweepResult] = []

    def run() -> None:
        try:
            results.append(sweep.sweep(batch_size=10))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sum(r.examined for r in results) == len(ids)
    assert sum(r.escalated for r in results) == len(ids)
    assert all(r.examined > 0 for r in results), "both sweeps should have taken work"
    assert Escalation.objects.count() == len(ids)
    assert Case.objects.filter(events__kind=EventKind.WAIT_ENDED).count() == len(ids)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(
    requires_postgres: None, requires_redis: str
) -> None:
    from portal.celery import app

    ids = bulk_waiting(600, timezone.now() - timedelta(hours=1))
    queue = f"kill-test-{os.getpid()}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": requires_redis,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "portal",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        app.send_task("diagnosis.sweep_waiting_cases", queue=queue)
        deadline = time.monotonic() + 60
        while Escalation.objects.count() == 0 and time.monotonic() < deadline:
            time.sleep(0.2)  # wait until the worker has committed at least one batch
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        done_by_worker = Escalation.objects.count()
        assert 0 < done_by_worker < len(ids), "the worker should have died in the middle of the sweep"
    finally:
        if worker.poll() is None:
            worker.kill()

    result = sweep.sweep()  # another worker's sweep takes over

    assert result.escalated == len(ids) - done_by_worker
    assert Escalation.objects.count() == len(ids)
    assert Case.objects.filter(state=CaseState.ESCALATED).count() == len(ids)
    assert Escalation.objects.values("case").distinct().count() == len(ids)


def _due_to_reschedule(count: int) -> list[int]:
    """Waiting cases due for a check, far from their deadline and without any report."""
    ids = bulk_waiting(count, timezone.now() + timedelta(hours=48))
    Case.objects.filter(pk__in=ids).update(next_poll_at=timezone.now() - timedelta(minutes=1))
    return ids


def test_a_batch_costs_the_same_statements_for_5_cases_as_for_50(
    db: None,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    """Set-based: claiming, reading the reports and rescheduling do not grow with the batch."""
    counts = []
    for size in (5, 50):
        ids = _due_to_reschedule(size)
        with CaptureQueriesContext(connection) as queries:
            result = sweep.sweep(batch_size=100)
        assert (result.examined, result.rescheduled) == (size, size)
        counts.append(len(queries))
        assert not Case.objects.filter(pk__in=ids, next_poll_at__lte=timezone.now()).exists()
    assert counts[0] == counts[1]
    ids = _due_to_reschedule(50)
    # One empty claim for the overdue and for cases with no next check; then for the batch:
    # claim (with messages/numbers/tests on PostgreSQL), reports, reschedule; savepoints with their releases.
    with django_assert_max_num_queries(13 if connection.vendor == "postgresql" else 14):
        sweep.sweep(batch_size=100)


def test_the_reschedule_is_each_cases_own_next_check(db: None) -> None:
    ids = _due_to_reschedule(3)
    now = timezone.now()
    Case.objects.filter(pk=ids[1]).update(waiting_since=now - timedelta(hours=2))
    Case.objects.filter(pk=ids[2]).update(waiting_since=now - timedelta(minutes=5))

    sweep.sweep(now=now)

    cases = {c.pk: c for c in Case.objects.filter(pk__in=ids)}
    for pk in ids:
        case = cases[pk]
        assert case.waiting_since is not None and case.wait_deadline is not None
        assert case.next_poll_at == waiting.next_poll_at(case.waiting_since, case.wait_deadline, now)
    recent = cases[ids[2]]
    assert recent.waiting_since is not None
    assert recent.next_poll_at == recent.waiting_since + timedelta(minutes=15)


def test_a_failing_batch_falls_back_to_one_case_at_a_time(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _due_to_reschedule(4)

    def broken(cases: object, known: object = None) -> None:
        raise RuntimeError("the batch's reports could not be read")

    monkeypatch.setattr(case_reports, "with_final_evidence", broken)
    result = sweep.sweep()

    assert (result.examined, result.rescheduled, result.failed) == (4, 4, 0)
    assert not Case.objects.filter(pk__in=ids, next_poll_at__lte=timezone.now()).exists()


def test_the_batch_reads_each_cases_evidence_as_the_case_alone_would(
    make_case: Callable[..., Case], agent: User
) -> None:
    """Cases sharing a number, one without message ids, one with a test SMS: the batch sorts
    their reports exactly as `case_reports.for_case` does one case at a time."""
    shared = "+4915123456789"
    own_failed = make_case(number=shared, msg_ids=("own-1",))
    own_pending = make_case(number=shared, msg_ids=("own-2",))
    by_number = make_case(number=shared, msg_ids=())
    with_test = make_case(number="+447400123456", msg_ids=("own-3",))
    TestMessage.objects.create(case=with_test, msg_id="test-3", sent_by=agent)
    old = make_case(number="+447400123456", msg_ids=("own-4",), sent_ago=timedelta(days=30))
    store_report("own-1", "UNDELIV", to_number=shared)
    store_report("own-2", "ACCEPTD", to_number=shared)
    store_report("test-3", "DELIVRD", to_number="+447400123456")
    store_report("stranger", "DELIVRD", to_number="+447400123456")
    cases = list(
        Case.objects.filter(pk__in=[c.pk for c in (own_failed, own_pending, by_number, with_test, old)])
    )

    batch = case_reports.for_cases(cases)
    with CaptureQueriesContext(connection) as queries:
        final = case_reports.with_final_evidence(cases)
    assert len(queries) == 3  # lists, reports, catalogue: no report field loaded one by one

    for case in cases:
        alone = case_reports.for_case(case)
        assert [r.pk for r in batch[case.pk].own] == [r.pk for r in alone.own]
        assert [r.pk for r in batch[case.pk].by_number] == [r.pk for r in alone.by_number]
        assert [r.pk for r in batch[case.pk].tests] == [r.pk for r in alone.tests]
        assert batch[case.pk].evidence() == alone.evidence()
        assert (case.pk in final) == alone.evidence().verdict.final
    assert final == {own_failed.pk, by_number.pk}

    # A later batch of the same sweep meeting only known codes skips the catalogue query.
    known = case_reports.KnownCodes()
    case_reports.with_final_evidence(cases, known)
    store_report("own-2", "UNDELIV", to_number=shared)
    with CaptureQueriesContext(connection) as queries:
        again = case_reports.with_final_evidence(cases, known)
    assert len(queries) == 2  # lists, reports
    assert again == {own_failed.pk, own_pending.pk, by_number.pk}

    # Cases read with their message ids, numbers and tests (the sweep's claim on PostgreSQL)
    # need no lists query and come to the same verdicts.
    with_keys = list(case_reports.with_report_keys(Case.objects.filter(pk__in=[c.pk for c in cases])))
    with CaptureQueriesContext(connection) as queries:
        keyed = case_reports.with_final_evidence(with_keys, known)
    assert keyed == again
    if connection.vendor == "postgresql":
        assert len(queries) == 1  # reports


def test_the_stored_verdict_is_the_one_any_arrival_order_gives(make_case: Callable[..., Case]) -> None:
    """Reports that tie on time and code, and a later intermediate one: the verdict read from
    the store (one case or a batch) is the verdict of the same reports in every order."""
    case = make_case(msg_ids=("tied-1", "tied-2"))
    at = timezone.now().replace(microsecond=0)
    # One-part message: two reports of the same failure at the same time, then a late ACCEPTD.
    store_report("tied-1", "E200027", sequence=1, updated_at=at, received_at=at)
    store_report("tied-1", "E200027", sequence=2, updated_at=at, received_at=at)
    store_report("tied-1", "ACCEPTD", updated_at=at + timedelta(minutes=5))
    # Two-part message: part 1 delivered, two failures whose part number cannot be placed.
    store_report("tied-2", "DELIVRD", sequence=1, total=2, updated_at=at)
    store_report("tied-2", "UNDELIV", sequence=0, total=2, updated_at=at, received_at=at)
    store_report("tied-2", "UNDELIV", sequence=5, total=2, updated_at=at, received_at=at)

    alone = case_reports.for_case(case)
    assert case_reports.for_cases([case])[case.pk].evidence() == alone.evidence()
    assert case_reports.with_final_evidence([case]) == {case.pk}
    stored = alone.evidence().verdict
    assert (stored.standing, stored.code) == (Standing.FAILED, "E200027")
    facts = case_reports.facts_for(alone.own, alone.codes)
    for order in itertools.permutations(facts):
        assert verdict(order, alone.msg_ids) == stored


def test_overdue_cases_that_fail_are_met_once_per_sweep(db: None) -> None:
    """More failing overdue cases than a batch holds: each is tried once, then left for a later sweep."""
    ids = bulk_waiting(5, timezone.now() - timedelta(hours=1))
    Case.objects.filter(pk__in=ids).update(current_node="no_such_node")

    result = sweep.sweep(batch_size=2)

    assert (result.examined, result.failed, result.escalated) == (5, 5, 0)
    assert Case.objects.filter(pk__in=ids, state=CaseState.WAITING).count() == 5

"""Matching stored reports to waiting cases: the marker each intake path sets, and the catch-up."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diagnosis import tasks
from diagnosis.cases import matching, services
from diagnosis.delivery.send_details import import_send_details
from diagnosis.models import Case, CaseState, EventKind, StatusReport, StatusSource
from tests.diagnosis.conftest import MSG_ID, store_report, walk_to

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def waiting(make_case: Callable[..., Case], agent: User) -> Case:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    return walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "no")], agent)


def test_a_callback_stores_its_report_unmatched_and_the_matcher_resumes_the_case(
    client: Client, waiting: Case, django_capture_on_commit_callbacks: Any
) -> None:
    source = StatusSource.objects.create(name="cb")
    body = f"sequence=1&total=1&smsMsgId={MSG_ID}&status=DELIVRD&updateTime=2026-11-20T08%3A00%3A05Z"

    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(source.callback_path(), data=body, content_type=FORM).status_code == 200

    assert callbacks == []  # nothing queued: the callback never touches the broker
    assert StatusReport.objects.get().matched_at is None
    assert Case.objects.get(pk=waiting.pk).state == CaseState.WAITING

    assert matching.match_unmatched() == 1  # what beat runs every few seconds
    assert StatusReport.objects.get().matched_at is not None
    waiting.refresh_from_db()
    assert waiting.state == CaseState.IN_PROGRESS


def test_a_match_task_queued_before_the_upgrade_still_matches(waiting: Case) -> None:
    store_report(MSG_ID, "DELIVRD")
    tasks.match_reports_task([MSG_ID], [])  # the old two-argument message

    waiting.refresh_from_db()
    assert waiting.state == CaseState.IN_PROGRESS
    assert StatusReport.objects.get().matched_at is None  # left for the catch-up, which is harmless


def test_a_send_details_import_marks_what_it_matched(waiting: Case) -> None:
    csv = f"smsMsgId,Status,Update Time\n{MSG_ID},DELIVRD,2024-05-01T08:00:05Z\nother-id,UNDELIV,\n"

    import_send_details(io.StringIO(csv), on_batch=matching.resume_for_reports)

    assert not StatusReport.objects.filter(matched_at__isnull=True).exists()
    waiting.refresh_from_db()
    assert waiting.state == CaseState.IN_PROGRESS


def test_the_matcher_matches_oldest_first_in_bounded_sets(
    waiting: Case, make_case: Callable[..., Case], agent: User
) -> None:
    long_ago = timezone.now() - timedelta(minutes=5)
    for n in range(5):
        store_report(f"unrelated-{n}", "DELIVRD", received_at=long_ago)
    store_report(MSG_ID, "DELIVRD", received_at=long_ago)
    newest = store_report("just-arrived", "DELIVRD")
    store_report("done-before", "DELIVRD", received_at=long_ago, matched_at=long_ago)

    assert matching.match_unmatched(batch_size=2, max_batches=2) == 4
    assert StatusReport.objects.filter(matched_at__isnull=True).count() == 3  # bounded: the rest next run
    assert matching.match_unmatched(batch_size=2, max_batches=1) == 2

    waiting.refresh_from_db()
    assert waiting.state == CaseState.IN_PROGRESS
    assert agent.notifications.filter(case=waiting).count() == 1
    assert list(StatusReport.objects.filter(matched_at__isnull=True)) == [newest]
    assert StatusReport.objects.get(msg_id="done-before").matched_at == long_ago
    assert matching.match_unmatched() == 1
    assert matching.match_unmatched() == 0  # nothing twice


def test_the_matcher_reads_a_set_in_one_query_and_resumes_each_case_once(waiting: Case, agent: User) -> None:
    for n in range(30):
        store_report(f"unrelated-{n}", "DELIVRD")
    store_report(MSG_ID, "DELIVRD")
    store_report(MSG_ID, "DELIVRD", sequence=2)  # a second report for the same case

    with CaptureQueriesContext(connection) as captured:
        assert matching.match_unmatched() == 32
    sets = [q["sql"] for q in captured if '"matched_at" IS NULL' in q["sql"] and "LIMIT" in q["sql"]]
    assert len(sets) == 1  # one read for the whole set

    waiting.refresh_from_db()
    assert waiting.state == CaseState.IN_PROGRESS
    assert agent.notifications.filter(case=waiting).count() == 1


def test_beat_runs_the_matcher_every_few_seconds() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["match-unmatched-reports"]
    assert entry["task"] == tasks.match_unmatched_task.name
    assert entry["schedule"] == timedelta(seconds=settings.DIAGNOSIS_MATCH_SECONDS) == timedelta(seconds=5)


@pytest.mark.django_db(transaction=True)
def test_reports_stored_before_the_upgrade_count_as_matched() -> None:
    before = [("diagnosis", "0010_mine_queue_index")]
    after = [("diagnosis", "0012_status_report_matched_at")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("diagnosis", "StatusReport")
    old.objects.create(msg_id="old", status="DELIVRD", channel="callback", dedupe_key="old|1|DELIVRD|-")

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert StatusReport.objects.get(msg_id="old").matched_at is not None
    StatusReport.objects.create(msg_id="new", status="DELIVRD", channel="callback")
    assert StatusReport.objects.get(msg_id="new").matched_at is None  # no default left behind


@pytest.mark.django_db(transaction=True)
def test_two_matchers_at_once_match_each_report_once_and_resume_each_case_once(
    make_case: Callable[..., Case], agent: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    cases = []
    for n in range(4):
        case = make_case(msg_ids=(f"waiting-{n}",))
        services.assign(case.pk, assignee=agent, actor=agent, claim=True)
        cases.append(walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "no")], agent))
    for n in range(120):
        store_report(f"unrelated-{n}", "DELIVRD")
        if n % 30 == 0:  # each waiting case has two reports, far apart in the queue
            store_report(f"waiting-{n // 30}", "DELIVRD")
            store_report(f"waiting-{n // 30}", "DELIVRD", sequence=2)
    total = StatusReport.objects.count()
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            counts.append(matching.match_unmatched(batch_size=7, max_batches=100))
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(counts) == total  # no report taken by both runs, none left behind
    assert not StatusReport.objects.filter(matched_at__isnull=True).exists()
    for case in cases:
        case.refresh_from_db()
        assert case.state == CaseState.IN_PROGRESS
        assert agent.notifications.filter(case=case).count() == 1
        assert case.events.filter(kind=EventKind.WAIT_ENDED).count() == 1


def test_a_case_that_fails_to_resume_does_not_hold_back_the_others(
    make_case: Callable[..., Case],
    agent: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cases = []
    for n in range(2):
        case = make_case(msg_ids=(f"waiting-{n}",))
        services.assign(case.pk, assignee=agent, actor=agent, claim=True)
        cases.append(walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "no")], agent))
        store_report(f"waiting-{n}", "DELIVRD")
    real = services.resume_with_report

    def failing_for_the_first(case_id: int, report: StatusReport | None = None) -> bool:
        if case_id == cases[0].pk:
            raise RuntimeError("a broken case")
        return real(case_id, report)

    monkeypatch.setattr(services, "resume_with_report", failing_for_the_first)

    assert matching.match_unmatched() == 2
    assert [Case.objects.get(pk=c.pk).state for c in cases] == [CaseState.WAITING, CaseState.IN_PROGRESS]
    assert f"Case {cases[0].pk} could not be resumed" in caplog.text
    assert not StatusReport.objects.filter(matched_at__isnull=True).exists()

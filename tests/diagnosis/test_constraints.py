"""Rules the database itself enforces (run on PostgreSQL in CI)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from diagnosis.models import AnswerRecord, Case, Escalation, StatusReport
from tests.diagnosis.conftest import MSG_ID, store_report


def test_a_redelivered_report_is_not_stored_twice(db: None) -> None:
    when = timezone.now().replace(microsecond=0)
    store_report(MSG_ID, "DELIVRD", updated_at=when, sequence=2, total=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        store_report(MSG_ID, "DELIVRD", updated_at=when, sequence=2, total=2)
    # Another part, another status or another time is a different report.
    store_report(MSG_ID, "DELIVRD", updated_at=when, sequence=1, total=2)
    store_report(MSG_ID, "UNDELIV", updated_at=when, sequence=2, total=2)
    assert StatusReport.objects.count() == 3


def test_reports_without_update_time_are_deduplicated_too(db: None) -> None:
    report = StatusReport(msg_id=MSG_ID, status="EXPIRED", updated_at=None, channel="callback")
    report.save()
    assert report.dedupe_key == f"{MSG_ID}|1|EXPIRED|-"
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusReport(msg_id=MSG_ID, status="EXPIRED", updated_at=None, channel="import").save()


def test_only_one_open_escalation_per_case_and_reason(make_case: Callable[..., Case]) -> None:
    case = make_case()
    first = Escalation.objects.create(case=case, reason="frequency_limit")
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(case=case, reason="frequency_limit")
    Escalation.objects.create(case=case, reason="ported_number")
    first.closed_at = timezone.now()
    first.save()
    Escalation.objects.create(case=case, reason="frequency_limit")  # allowed once the first is closed
    assert Escalation.objects.filter(case=case, reason="frequency_limit").count() == 2


def test_one_live_answer_per_step(make_case: Callable[..., Case]) -> None:
    case = make_case()
    AnswerRecord.objects.create(case=case, node="report_returned", value="no_report")
    with pytest.raises(IntegrityError), transaction.atomic():
        AnswerRecord.objects.create(case=case, node="report_returned", value="report_present")


def test_states_come_from_a_fixed_set(make_case: Callable[..., Case]) -> None:
    case = make_case()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(state="lost")


def test_a_waiting_case_has_a_deadline(make_case: Callable[..., Case]) -> None:
    case = make_case()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(state="waiting", wait_deadline=None)


def test_references_are_unique(make_case: Callable[..., Case]) -> None:
    case = make_case()
    other = make_case()
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=other.pk).update(reference=case.reference)

"""Report fetchers a deployment plugs in: asked on every poll, stored once, one failure costs nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from pytest_django import Settings

from diagnosis.cases import sweep
from diagnosis.delivery import fetchers, ingest
from diagnosis.models import Case, CaseState, ReportChannel, StatusReport
from tests.diagnosis.conftest import MSG_ID, walk_to

HERE = __name__


class Console:
    """Knows every message as delivered, as a provider with a query API would."""

    name = "console"
    asked: list[tuple[list[str], list[str]]] = []

    def fetch(
        self, msg_ids: Sequence[str], numbers: Sequence[str], since: datetime | None
    ) -> Iterable[StatusReport]:
        Console.asked.append((list(msg_ids), list(numbers)))
        for msg_id in msg_ids:
            yield ingest.build_report(
                {"smsMsgId": msg_id, "status": "DELIVRD", "updateTime": "2024-05-01T08:00:05Z"},
                ReportChannel.IMPORT,  # pulled by the portal, as an import is
            )


class Broken:
    name = "broken"

    def fetch(
        self, msg_ids: Sequence[str], numbers: Sequence[str], since: datetime | None
    ) -> Iterable[StatusReport]:
        raise ConnectionError("the provider is down")


@pytest.fixture(autouse=True)
def _fresh_log() -> None:
    Console.asked = []


def waiting_case(make_case: Callable[..., Case], agent: User) -> Case:
    return walk_to(
        make_case(sent_ago=timedelta(0)), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent
    )


def test_without_fetchers_a_poll_asks_nobody(make_case: Callable[..., Case], settings: Settings) -> None:
    settings.DIAGNOSIS_REPORT_FETCHERS = []

    assert fetchers.poll(make_case()) == 0


def test_a_failing_fetcher_does_not_stop_the_others_and_a_report_is_stored_once(
    make_case: Callable[..., Case], settings: Settings
) -> None:
    settings.DIAGNOSIS_REPORT_FETCHERS = [f"{HERE}.Broken", f"{HERE}.Console"]
    case = make_case()

    assert fetchers.poll(case) == 1
    assert fetchers.poll(case) == 0
    assert Console.asked == [([MSG_ID], ["+4915123456789"])] * 2
    assert StatusReport.objects.get().msg_id == MSG_ID


def test_the_sweep_resumes_a_case_with_what_a_fetcher_found(
    make_case: Callable[..., Case], agent: User, settings: Settings
) -> None:
    settings.DIAGNOSIS_REPORT_FETCHERS = [f"{HERE}.Console"]
    case = waiting_case(make_case, agent)

    with time_machine.travel(case.next_poll_at, tick=False):
        result = sweep.sweep()

    case.refresh_from_db()
    assert result.resumed == 1
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")


def test_the_earlier_setting_name_is_still_read(make_case: Callable[..., Case], settings: Settings) -> None:
    settings.DIAGNOSIS_STATUS_SOURCES = [f"{HERE}.Console"]

    assert [fetcher.name for fetcher in fetchers.configured()] == ["console"]

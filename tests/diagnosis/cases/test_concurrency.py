"""Two agents answering the same step at the same moment: one wins, one is told."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection

from diagnosis.cases import services
from diagnosis.delivery import numbers
from diagnosis.models import AnswerRecord, EventKind


def _race(workers: list[Callable[[], object]]) -> list[object]:
    """Run the callables in threads released together; return each result or exception."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = workers[i]()
        except Exception as exc:  # collected for the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_agents_answering_the_same_step_one_wins(
    requires_postgres: None, agent: User, other_agent: User
) -> None:
    case = services.open_case(
        services.NewCase(
            "Lee", "lee@example.com", numbers=[numbers.normalise("+4915123456789")], msg_ids=["m-1"]
        )
    )

    results = _race(
        [
            lambda: services.answer_step(case.pk, node="report_returned", value="no_report", actor=agent),
            lambda: services.answer_step(
                case.pk, node="report_returned", value="report_present", actor=other_agent
            ),
        ]
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], services.StaleCase)
    assert "already answered" in str(errors[0])
    assert AnswerRecord.objects.filter(case=case).count() == 1
    assert case.events.filter(kind=EventKind.ANSWERED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_expiring_the_same_wait_escalate_once(requires_postgres: None, agent: User) -> None:
    from datetime import timedelta

    from diagnosis.models import Escalation

    case = services.open_case(
        services.NewCase(
            "Lee", "lee@example.com", numbers=[numbers.normalise("+4915123456789")], msg_ids=["m-2"]
        )
    )
    services.answer_step(case.pk, node="report_returned", value="no_report", actor=agent)
    case = services.answer_step(case.pk, node="dial_recipient", value="yes", actor=agent)
    assert case.wait_deadline is not None
    later = case.wait_deadline + timedelta(seconds=1)

    results = _race([lambda: services.expire_wait(case.pk, now=later) for _ in range(4)])

    assert sorted(results, key=str) == [False, False, False, True]
    assert Escalation.objects.filter(case=case).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_agents_claiming_at_once_one_wins(
    requires_postgres: None, agent: User, other_agent: User
) -> None:
    case = services.open_case(
        services.NewCase(
            "Lee", "lee@example.com", numbers=[numbers.normalise("+4915123456789")], msg_ids=["m-3"]
        )
    )

    results = _race(
        [
            lambda: services.assign(case.pk, assignee=agent, actor=agent, claim=True),
            lambda: services.assign(case.pk, assignee=other_agent, actor=other_agent, claim=True),
        ]
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and "already claimed by" in str(errors[0])
    case.refresh_from_db()
    assert case.assigned_to in (agent, other_agent)
    assert case.events.filter(kind=EventKind.ASSIGNED).count() == 1

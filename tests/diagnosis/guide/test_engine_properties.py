"""Random answer sequences and revisions never break the engine's promises."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnosis.cases import services
from diagnosis.delivery import numbers
from diagnosis.guide import Kind, engine, get_guide
from diagnosis.models import AnswerRecord, Case, CaseState, Escalation
from tests.diagnosis.conftest import store_report

GUIDE = get_guide()
STATE_FOR_KIND = {Kind.CHECK: {CaseState.NEW, CaseState.IN_PROGRESS}, Kind.WAIT: {CaseState.WAITING}}
CODES = ["DELIVRD", "UNDELIV", "LIMIT", "BLACK", "E200024", "ZZ:1", "EXPIRED"]

# Each operation: ("answer", option) or ("revise", which step on the path, option) or ("end_wait", how, code).
operations = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.integers(0, 8)),
        st.tuples(st.just("revise"), st.integers(0, 20), st.integers(0, 8)),
        st.tuples(st.just("end_wait"), st.sampled_from(["report", "deadline"]), st.sampled_from(CODES)),
    ),
    max_size=25,
)


def _apply(case: Case, op: tuple, actor: User, counter: list[int]) -> None:
    case.refresh_from_db()
    node = case.node
    if op[0] == "answer" and node.kind is Kind.CHECK:
        services.answer_step(
            case.pk, node=node.id, value=node.answers[op[1] % len(node.answers)].value, actor=actor
        )
    elif op[0] == "revise":
        live = {n: a.value for n, a in services.live_answers(case).items()}
        checks = [n for n in engine.walk(GUIDE, live).node_ids if GUIDE[n].kind is Kind.CHECK]
        if checks:
            target = GUIDE[checks[op[1] % len(checks)]]
            services.revise_answer(
                case.pk, node=target.id, value=target.answers[op[2] % len(target.answers)].value, actor=actor
            )
    elif op[0] == "end_wait" and node.kind is Kind.WAIT:
        if op[1] == "report":
            counter[0] += 1
            assert case.wait_deadline is not None
            store_report(
                case.messages.get().msg_id, op[2], updated_at=case.wait_deadline - timedelta(hours=counter[0])
            )
            services.resume_with_report(case.pk)
        else:
            services.expire_wait(case.pk, now=case.wait_deadline)


def _assert_consistent(case: Case) -> None:
    case.refresh_from_db()
    live = {a.node: a.value for a in AnswerRecord.objects.filter(case=case, superseded_at__isnull=True)}
    path = engine.walk(GUIDE, live)
    # The stored position is exactly where the live answers lead, with nothing left over.
    assert path.current.id == case.current_node
    assert not path.off_path
    assert set(path.node_ids) == set(live)
    node = GUIDE[case.current_node]
    # Never a dead end: either an outcome, or a step that offers a way on.
    assert node.kind is Kind.OUTCOME or node.answers
    if node.kind is Kind.OUTCOME and node.details and case.state == CaseState.IN_PROGRESS:
        # An escalation that needs the agent's details is only reached once they are given.
        assert case.outcome == ""
        assert not Escalation.objects.filter(case=case, closed_at__isnull=True).exists()
    elif node.kind is Kind.OUTCOME:
        assert case.state in {CaseState.RESOLVED, CaseState.ESCALATED}
        assert case.outcome == node.id
    else:
        assert case.state in STATE_FOR_KIND[node.kind]
        assert case.outcome == ""
    assert (case.wait_deadline is not None) == (node.kind is Kind.WAIT)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_random_walks_keep_every_answer_and_a_consistent_path(ops: list[tuple], agent: User) -> None:
    case = services.open_case(
        services.NewCase(
            "Rae", "rae@example.com", numbers=[numbers.normalise("+14155550123")], msg_ids=[uuid.uuid4().hex]
        )
    )
    seen: set[int] = set()
    counter = [0]
    for op in ops:
        _apply(case, op, agent, counter)  # every generated operation is a legal one
        ids = set(AnswerRecord.objects.filter(case=case).values_list("pk", flat=True))
        assert seen <= ids, "an answer was lost"
        seen = ids
        _assert_consistent(case)

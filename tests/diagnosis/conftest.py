from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

from diagnosis.cases import services
from diagnosis.delivery import case_reports, numbers
from diagnosis.guide import DetailKind, Guide, Node, engine, get_guide
from diagnosis.models import Case, ReportChannel, StatusReport, TrackingLink

MSG_ID = "2ea20735-f856-4376-afbf-570bd70a46ee_11840135"


def route_to(guide: Guide, target: str) -> list[tuple[str, str]]:
    """The shortest list of (node, answer value) from the start that reaches `target`."""
    queue: deque[tuple[str, list[tuple[str, str]]]] = deque([(guide.start, [])])
    seen = {guide.start}
    while queue:
        node_id, route = queue.popleft()
        if node_id == target:
            return route
        for answer in guide[node_id].answers:
            if answer.next not in seen:
                seen.add(answer.next)
                queue.append((answer.next, [*route, (node_id, answer.value)]))
    raise AssertionError(f"{target} is unreachable")


def proposal_for(case: Case) -> engine.Proposal:
    """What the engine proposes for the current step, on the stored reports and the customer's answers."""
    proposal = engine.propose(case.node, case_reports.evidence_for(case), case.customer_answers)
    assert proposal is not None, f"no proposal at {case.current_node}"
    return proposal


def store_report(
    msg_id: str = MSG_ID, status: str = "DELIVRD", *, updated_at: datetime | None = None, **extra: Any
) -> StatusReport:
    report = StatusReport(
        msg_id=msg_id,
        status=status,
        updated_at=updated_at or timezone.now(),
        channel=ReportChannel.CALLBACK,
        raw={"smsMsgId": msg_id, "status": status},
        **extra,
    )
    report.save()
    return report


@pytest.fixture
def guide() -> Guide:
    return get_guide()


@pytest.fixture
def make_case(db: None) -> Callable[..., Case]:
    def make(
        *,
        number: str = "+4915123456789",
        msg_ids: tuple[str, ...] = (MSG_ID,),
        sent_ago: timedelta = timedelta(hours=1),
        **extra: Any,
    ) -> Case:
        data = services.NewCase(
            reporter_name="Dana Customer",
            reporter_email="dana@example.com",
            numbers=[numbers.normalise(number)],
            msg_ids=msg_ids,
            sent_at=timezone.now() - sent_ago,
            **extra,
        )
        return services.open_case(data)

    return make


def walk_to(case: Case, route: list[tuple[str, str]], actor: Any) -> Case:
    """Answer each step of `route`, ending waits the way the route says."""
    for node_id, value in route:
        case.refresh_from_db()
        assert case.current_node == node_id, (case.current_node, node_id)
        kind = case.node.kind
        if kind == "wait" and value == "report":
            message = case.messages.first()
            assert message is not None
            store_report(message.msg_id, "DELIVRD")
            assert services.resume_with_report(case.pk)
        elif kind == "wait":
            assert case.wait_deadline is not None
            assert services.expire_wait(case.pk, now=case.wait_deadline + timedelta(seconds=1))
        else:
            services.answer_step(case.pk, node=node_id, value=value, actor=actor)
    case.refresh_from_db()
    return case


def sample_details(node: Node) -> dict[str, str]:
    """A value for every detail an outcome asks for, as an agent would type them."""
    return {d.name: "2026-11-02" if d.kind is DetailKind.DATE else f"{d.label} value" for d in node.details}


def give_details(case: Case, actor: Any) -> Case:
    """Send the escalation of a case waiting at an outcome that asks for details."""
    assert case.awaits_details, case.current_node
    return services.send_escalation(case.pk, details=sample_details(case.node), actor=actor)


def rows_holding(text: str, *, except_fields: frozenset[str] = frozenset()) -> list[str]:
    """Every `app.Model.field` whose stored value contains `text` (every text and JSON column)."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            label = f"{model._meta.label}.{field.name}"
            rows = model._default_manager.all()
            if label in except_fields:
                continue
            if isinstance(field, models.CharField | models.TextField):
                held = rows.filter(**{f"{field.name}__contains": text}).exists()
            elif isinstance(field, models.JSONField):
                held = any(text in str(value) for value in rows.values_list(field.name, flat=True))
            else:
                continue
            if held:
                found.append(label)
    return found


def tracking_path(case: Case) -> str:
    """A new private link to `case`, as the customer would get one by email."""
    return f"/support/t/{TrackingLink.issue(case)}/"


def ticket(**overrides: object) -> dict[str, object]:
    """The public ticket form, filled in as a customer would; `overrides` change fields."""
    data: dict[str, object] = {
        "name": "Rosa Lima",
        "email": "rosa@example.com",
        "region": "",
        "numbers": "+49 151 23456789",
        "msg_ids": "",
        "sent_at": "2026-11-20T10:30",
        "sent_tz": "Europe/Berlin",
        "sender": "ACME",
        "template_id": "",
        "description": "The login code never came.",
        "website": "",
    }
    data.update(overrides)
    return data

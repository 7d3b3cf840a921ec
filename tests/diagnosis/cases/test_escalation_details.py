"""Escalation outcomes that need the agent's details ask for them before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from diagnosis.cases import services
from diagnosis.guide import Result, get_guide
from diagnosis.guide.details import DetailsError
from diagnosis.models import Case, CaseState, Escalation, Event, EventKind, OutboundEmail
from tests.diagnosis.conftest import route_to, walk_to

GUIDE = get_guide()


@pytest.fixture
def at_ported(make_case: Callable[..., Case], agent: User) -> Case:
    return walk_to(make_case(), route_to(GUIDE, "E_ported_number"), agent)


def test_the_guide_declares_which_outcomes_need_details() -> None:
    asking = {n.id: [d.name for d in n.details] for n in GUIDE.outcomes() if n.details}

    assert asking == {
        "E_ported_number": ["current_carrier", "previous_carrier", "ported_on"],
        "E_virtual_carrier": ["virtual_carrier", "host_network"],
    }
    assert all(n.result is Result.ESCALATED for n in GUIDE.outcomes() if n.details)
    # The automatic escalation needs nobody's input.
    assert GUIDE["E_no_report_after_72h"].details == ()


def test_reaching_an_outcome_that_needs_details_sends_nothing(at_ported: Case) -> None:
    assert at_ported.current_node == "E_ported_number"
    assert (at_ported.state, at_ported.outcome, at_ported.awaits_details) == (CaseState.IN_PROGRESS, "", True)
    assert not Escalation.objects.filter(case=at_ported).exists()
    assert not OutboundEmail.objects.filter(escalation__case=at_ported).exists()
    assert not at_ported.events.filter(kind__in=[EventKind.ESCALATED, EventKind.OUTCOME]).exists()


def test_invalid_details_are_refused_without_writing_anything(at_ported: Case, agent: User) -> None:
    events, revision = Event.objects.filter(case=at_ported).count(), at_ported.revision
    tomorrow = timezone.localdate() + timedelta(days=1)

    with pytest.raises(DetailsError) as refused:
        services.send_escalation(
            at_ported.pk,
            details={"current_carrier": "   ", "ported_on": tomorrow.isoformat()},
            actor=agent,
        )

    assert refused.value.errors == {
        "current_carrier": "Give the current carrier: customer service needs it.",
        "ported_on": "The date cannot be in the future.",
    }
    with pytest.raises(DetailsError) as unreadable:
        services.send_escalation(
            at_ported.pk, details={"current_carrier": "x" * 101, "ported_on": "2.11.2026"}, actor=agent
        )
    assert set(unreadable.value.errors) == {"current_carrier", "ported_on"}
    at_ported.refresh_from_db()
    assert (at_ported.state, at_ported.outcome, at_ported.revision) == (CaseState.IN_PROGRESS, "", revision)
    assert not Escalation.objects.filter(case=at_ported).exists()
    assert not OutboundEmail.objects.filter(case=at_ported).exists()
    assert Event.objects.filter(case=at_ported).count() == events


def test_the_details_go_into_the_package_and_the_email_once(at_ported: Case, agent: User) -> None:
    case = services.send_escalation(
        at_ported.pk,
        details={
            "current_carrier": "  Telekom   Deutschland ",
            "previous_carrier": "",
            "ported_on": "2026-11-02",
        },
        actor=agent,
    )

    assert (case.state, case.outcome, case.awaits_details) == (CaseState.ESCALATED, "E_ported_number", False)
    escalation = Escalation.objects.get(case=case)
    assert escalation.package["details"] == [
        {
            "name": "current_carrier",
            "label": "Current carrier",
            "kind": "text",
            "value": "Telekom Deutschland",
        },
        {"name": "ported_on", "label": "Porting date", "kind": "date", "value": "2026-11-02"},
    ]
    email = OutboundEmail.objects.get(escalation=escalation)
    assert (
        "Details from the agent:\n  - Current carrier: Telekom Deutschland\n  - Porting date: Nov 2, 2026\n"
        in (email.body)
    )
    assert "Previous carrier" not in email.body.split("--- machine-readable copy ---")[0]
    assert case.events.filter(kind=EventKind.ESCALATED).count() == 1

    with pytest.raises(services.StaleCase):
        services.send_escalation(
            case.pk, details={"current_carrier": "Other", "ported_on": "2026-11-01"}, actor=agent
        )
    assert OutboundEmail.objects.filter(case=case).count() == 1


def test_coming_back_to_a_sent_escalation_does_not_ask_again(at_ported: Case, agent: User) -> None:
    services.send_escalation(
        at_ported.pk, details={"current_carrier": "Telekom", "ported_on": "2026-11-02"}, actor=agent
    )
    services.revise_answer(at_ported.pk, node="ported_in", value="no", actor=agent)

    case = services.revise_answer(at_ported.pk, node="ported_in", value="yes", actor=agent)

    assert (case.state, case.outcome, case.awaits_details) == (CaseState.ESCALATED, "E_ported_number", False)
    assert Escalation.objects.filter(case=case).count() == 1
    assert OutboundEmail.objects.filter(case=case).count() == 1


def test_the_automatic_escalation_still_goes_once_without_details(
    make_case: Callable[..., Case], agent: User
) -> None:
    case = walk_to(make_case(), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)
    assert case.wait_deadline is not None
    later = case.wait_deadline + timedelta(seconds=1)

    assert services.expire_wait(case.pk, now=later) is True
    assert services.expire_wait(case.pk, now=later) is False

    case.refresh_from_db()
    assert (case.state, case.outcome) == (CaseState.ESCALATED, "E_no_report_after_72h")
    assert OutboundEmail.objects.filter(escalation__case=case).count() == 1

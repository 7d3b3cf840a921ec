"""The outcome step that asks for details before escalating, and what the package reads like."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from diagnosis.cases import readable, services
from diagnosis.models import Case, CaseState, Escalation, EventKind, OutboundEmail
from tests.diagnosis.conftest import MSG_ID, route_to, store_report, walk_to

HTMX = {"HX-Request": "true"}
# An ISO 8601 time as stored: fine in a datetime="" attribute, never in text people read.
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.fixture
def at_ported(make_case: Callable[..., Case], agent: User) -> Case:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    store_report(MSG_ID, "UNDELIV", origin="2")
    return walk_to(case, route_to(case.guide, "E_ported_number"), agent)


def _readable(html: str) -> str:
    """The page without the attributes that carry machine-readable times."""
    return re.sub(r'datetime="[^"]*"', "", html)


def test_the_outcome_step_asks_for_the_details_then_sends_them(at_ported: Case, agent_client: Client) -> None:
    url = f"/cases/{at_ported.reference}/escalate/"
    page = agent_client.get(f"/cases/{at_ported.reference}/").content.decode()
    assert "Send to customer service" in page and 'name="current_carrier"' in page and 'type="date"' in page
    assert "Package for customer service" not in page

    refused = agent_client.post(url, {"node": "E_ported_number", "ported_on": "2999-01-01"}, headers=HTMX)

    body = refused.content.decode()
    assert refused.status_code == 200 and body.lstrip().startswith('<section class="card step-panel"')
    assert "Give the current carrier: customer service needs it." in body
    assert "The date cannot be in the future." in body
    assert 'value="2999-01-01"' in body  # what was typed stays in the form
    assert not Escalation.objects.filter(case=at_ported).exists()

    sent = agent_client.post(
        url,
        {"node": "E_ported_number", "current_carrier": "Telekom", "ported_on": "2026-11-02"},
        headers=HTMX,
    )

    assert sent.status_code == 200 and "case-changed" in sent["HX-Trigger"]
    at_ported.refresh_from_db()
    assert at_ported.state == CaseState.ESCALATED
    panel = sent.content.decode()
    assert "Package for customer service" in panel
    assert "Details from the agent:\n  - Current carrier: Telekom\n  - Porting date: Nov 2, 2026\n" in panel
    assert OutboundEmail.objects.filter(escalation__case=at_ported).count() == 1


def test_details_for_a_case_that_moved_on_are_not_sent(
    at_ported: Case, agent_client: Client, agent: User
) -> None:
    services.revise_answer(at_ported.pk, node="ported_in", value="no", actor=agent)

    response = agent_client.post(
        f"/cases/{at_ported.reference}/escalate/",
        {"node": "E_ported_number", "current_carrier": "Telekom", "ported_on": "2026-11-02"},
        headers=HTMX,
    )

    assert response.status_code == 200 and "The case moved on" in response.content.decode()
    assert not Escalation.objects.filter(case=at_ported).exists()


def test_only_who_works_the_case_sends_its_escalation(
    at_ported: Case, client: Client, other_agent: User
) -> None:
    client.force_login(other_agent)
    response = client.post(
        f"/cases/{at_ported.reference}/escalate/",
        {"node": "E_ported_number", "current_carrier": "Telekom", "ported_on": "2026-11-02"},
    )

    assert response.status_code == 403
    assert not Escalation.objects.filter(case=at_ported).exists()


def test_no_raw_times_slugs_or_usernames_in_the_package_page_or_email(
    at_ported: Case, agent_client: Client, agent: User
) -> None:
    services.send_escalation(
        at_ported.pk, details={"current_carrier": "Telekom", "ported_on": "2026-11-02"}, actor=agent
    )

    page = _readable(agent_client.get(f"/cases/{at_ported.reference}/?panels=all").content.decode())
    email = OutboundEmail.objects.get(escalation__case=at_ported).body
    text, machine = email.split("--- machine-readable copy ---")

    for shown in (page, text):
        assert ISO_TIME.search(shown) is None, ISO_TIME.findall(shown)
        assert "ported_number" not in shown and "callback (" not in shown and "via callback" not in shown
        assert "(by avery " not in shown and "(by Avery at " in shown
        assert "via Status-report callback, from the SMS center (carrier)" in shown
    assert "Ported number</strong> · opened" in page  # the escalation by its outcome's name
    assert ISO_TIME.search(machine) is not None  # the copy for tools keeps ISO times


def test_the_wait_s_history_entry_gives_its_deadline_as_the_portal_shows_times(
    make_case: Callable[..., Case], agent: User
) -> None:
    case = walk_to(make_case(), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)

    entry = case.events.get(kind=EventKind.WAIT_STARTED)

    assert case.wait_deadline is not None
    assert entry.summary == f"Waiting for a status report until {readable.time(case.wait_deadline)}"
    assert ISO_TIME.search(entry.summary) is None and not re.search(
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", entry.summary
    )


def test_the_escalation_list_in_the_admin_names_the_outcome(
    at_ported: Case, agent: User, admin_client: Client
) -> None:
    services.send_escalation(
        at_ported.pk, details={"current_carrier": "Telekom", "ported_on": "2026-11-02"}, actor=agent
    )

    listing = admin_client.get("/admin/diagnosis/escalation/").content.decode()

    assert "Ported number" in listing and ">ported_number<" not in listing

"""The polls of open pages: the case's "changed since?" check and the home page's notifications."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from diagnosis.cases import live, matching, outbox, reschedule, services
from diagnosis.models import Case, CaseState, StaffNotification
from diagnosis.support import tickets
from tests.diagnosis.conftest import MSG_ID, route_to, store_report, tracking_path, walk_to

POLL = {"HX-Request": "true", "X-Background-Poll": "1"}


def token_on_page(client: Client, case: Case) -> str:
    content = client.get(f"/cases/{case.reference}/").content.decode()
    match = re.search(r'id="case-live-since" name="since" value="([^"]*)"', content)
    assert match, "the case page carries no poll token"
    return match.group(1)


def poll(client: Client, case: Case, since: str, **extra: str):
    return client.get(f"/cases/{case.reference}/changes/", {"since": since, **extra}, headers=POLL)


def test_nothing_changed_is_204_and_a_change_refreshes_the_page(agent_client: Client, claimed: Case) -> None:
    since = token_on_page(agent_client, claimed)
    assert poll(agent_client, claimed, since).status_code == 204

    tickets.add_customer_message(claimed.pk, "Still nothing arrived")
    response = poll(agent_client, claimed, since)

    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"]) == {
        "case-changed": {"region": "case-live", "live": True}
    }
    content = response.content.decode()
    assert "the customer wrote" in content
    new = re.search(r'name="since" value="([^"]*)"', content)
    assert new and new.group(1) != since
    assert poll(agent_client, claimed, new.group(1)).status_code == 204


def test_a_quiet_ask_renews_the_token_without_refreshing(
    agent_client: Client, claimed: Case, agent: User
) -> None:
    since = token_on_page(agent_client, claimed)
    services.add_note(claimed.pk, text="checked the console", actor=agent)

    response = poll(agent_client, claimed, since, quiet="1")

    assert response.status_code == 200
    assert "HX-Trigger" not in response.headers
    assert "Updated at" not in response.content.decode()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("note", "a note was added"),
        ("reply", "a reply went to the customer"),
        ("assign", "the case was assigned"),
        ("report", "a status report arrived"),
    ],
)
def test_every_kind_of_change_is_seen(
    agent_client: Client, claimed: Case, agent: User, other_agent: User, change: str, said: str
) -> None:
    since = token_on_page(agent_client, claimed)
    if change == "note":
        services.add_note(claimed.pk, text="n", actor=agent)
    elif change == "reply":
        services.send_reply(claimed.pk, text="Hello", actor=agent)
    elif change == "assign":
        services.assign(claimed.pk, assignee=other_agent, actor=agent)
    else:
        store_report(MSG_ID, "ACCEPTD")  # not final: the case itself does not change

    response = poll(agent_client, claimed, since)

    assert response.status_code == 200, change
    assert said in response.content.decode()


def test_a_report_to_the_number_and_a_set_based_reschedule_are_seen(
    agent_client: Client, claimed: Case, agent: User
) -> None:
    waiting = walk_to(claimed, [("report_returned", "no_report"), ("dial_recipient", "no")], agent)
    assert waiting.state == CaseState.WAITING
    since = token_on_page(agent_client, waiting)

    store_report("someone-else", "ACCEPTD", to_number="+4915123456789")
    response = poll(agent_client, waiting, since)
    assert response.status_code == 200 and "a status report arrived" in response.content.decode()
    since = live.case_stamp(waiting.reference).token  # type: ignore[union-attr]

    # The sweep reschedules in one UPDATE, which bypasses save() and updated_at.
    reschedule.next_polls({waiting.pk: timezone.now() + timedelta(hours=5)})
    assert poll(agent_client, waiting, since).status_code == 200


def test_a_report_resuming_a_waiting_case_is_seen(agent_client: Client, claimed: Case, agent: User) -> None:
    waiting = walk_to(claimed, [("report_returned", "no_report"), ("dial_recipient", "no")], agent)
    since = token_on_page(agent_client, waiting)

    store_report(MSG_ID, "DELIVRD")
    matching.match_unmatched()

    response = poll(agent_client, waiting, since)
    assert response.status_code == 200
    assert "a status report arrived" in response.content.decode()


def test_a_closed_case_answers_286_so_the_page_stops_polling(
    agent_client: Client, claimed: Case, agent: User, lead: User
) -> None:
    since = token_on_page(agent_client, claimed)
    walk_to(claimed, route_to(claimed.guide, "R_inbox_full"), agent)
    assert Case.objects.get(pk=claimed.pk).state == CaseState.RESOLVED

    changed = poll(agent_client, claimed, since)
    assert changed.status_code == 286  # the last change still swaps in, then polling stops
    assert "case-changed" in changed.headers["HX-Trigger"]
    assert "no longer updates by itself" in changed.content.decode()

    resolved_token = live.case_stamp(claimed.reference).token  # type: ignore[union-attr]
    assert poll(agent_client, claimed, resolved_token).status_code == 286
    services.close_case(claimed.pk, actor=lead)
    assert poll(agent_client, claimed, resolved_token).status_code == 286
    # Its page does not poll at all.
    content = agent_client.get(f"/cases/{claimed.reference}/").content.decode()
    assert "case-changes" not in content and "/changes/" not in content


def test_bad_or_missing_tokens_count_as_changed(agent_client: Client, claimed: Case) -> None:
    for since in ("", "garbage", "a.b.c.d", "x" * 500):
        response = poll(agent_client, claimed, since)
        assert response.status_code == 200, since
        assert "the case changed" in response.content.decode()
    assert agent_client.get("/cases/SMS-ZZZZZZ/changes/", headers=POLL).status_code == 404
    assert agent_client.post(f"/cases/{claimed.reference}/changes/").status_code == 405


def test_only_staff_who_work_cases_can_poll(client: Client, claimed: Case, outsider: User) -> None:
    # A customer holds their ticket's private link, which opens nothing but the ticket.
    assert client.get(tracking_path(claimed)).status_code == 200
    anonymous = poll(client, claimed, "")
    assert anonymous.status_code in (302, 401, 403)
    assert anonymous.status_code != 302 or "/accounts/login/" in anonymous["Location"]
    assert "HX-Trigger" not in anonymous.headers
    assert client.get("/notifications/changes/", headers=POLL).status_code == 302

    client.force_login(outsider)  # signed in, but not an agent or a lead
    assert poll(client, claimed, "").status_code == 403
    assert client.get("/notifications/changes/", headers=POLL).status_code == 403


def test_the_case_poll_costs_the_same_few_queries_however_big_the_case(
    agent_client: Client, claimed: Case, agent: User, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    since = token_on_page(agent_client, claimed)
    with CaptureQueriesContext(connection) as small:
        assert poll(agent_client, claimed, since).status_code == 204
    for i in range(30):
        services.add_note(claimed.pk, text=f"note {i}", actor=agent)
        store_report(MSG_ID, f"MK:{i:04d}")
    since = live.case_stamp(claimed.reference).token  # type: ignore[union-attr]
    # Session, user, two permission reads and the stamp: one statement for the case.
    with django_assert_max_num_queries(5), CaptureQueriesContext(connection) as large:
        assert poll(agent_client, claimed, since).status_code == 204
    assert len(small) == len(large)
    stamp_queries = [q["sql"] for q in large.captured_queries if "diagnosis_case" in q["sql"]]
    assert len(stamp_queries) == 1


def test_the_notifications_poll(
    agent_client: Client, claimed: Case, agent: User, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    home = agent_client.get("/").content.decode()
    match = re.search(r'id="notifications-since" name="since" value="([^"]*)"', home)
    assert match
    since = match.group(1)
    with django_assert_max_num_queries(5):  # session, user, two permission reads, the count
        assert agent_client.get("/notifications/changes/", {"since": since}, headers=POLL).status_code == 204

    StaffNotification.objects.create(
        user=agent, case=claimed, text=f"{claimed.reference} resumed: a status report arrived."
    )
    response = agent_client.get("/notifications/changes/", {"since": since}, headers=POLL)

    assert response.status_code == 200
    content = response.content.decode()
    assert f"{claimed.reference} resumed" in content
    assert 'hx-swap-oob="innerHTML"' in content and "1 unread update on your cases" in content
    assert "email_when_case_resumes" not in content  # the preference form is never swapped

    shown = re.search(r'name="since" value="([^"]*)"', content)
    assert shown and shown.group(1) != since
    agent_client.post("/notifications/read/")  # in another tab, say
    read = agent_client.get("/notifications/changes/", {"since": shown.group(1)}, headers=POLL)
    assert read.status_code == 200 and "Nothing new" in read.content.decode()


def test_a_reply_email_going_out_is_seen(agent_client: Client, claimed: Case, agent: User) -> None:
    services.send_reply(claimed.pk, text="We are looking into it", actor=agent)
    since = token_on_page(agent_client, claimed)
    assert poll(agent_client, claimed, since).status_code == 204

    assert outbox.deliver_pending() >= 1  # what the worker does: the thread's badge says "sent" now

    response = poll(agent_client, claimed, since)
    assert response.status_code == 200
    assert "an email to the customer was sent or retried" in response.content.decode()

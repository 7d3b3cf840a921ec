"""The case page's conversation, the reply and note confirmations, and the "customer replied" marker."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from diagnosis.cases import services
from diagnosis.models import Case, EventKind, OutboundEmail
from diagnosis.support import tickets
from tests.diagnosis.conftest import ticket, tracking_path

HTMX = {"HX-Request": "true"}


@pytest.fixture
def claimed(make_case: Callable[..., Case], agent: User) -> Case:
    case = make_case(description="Codes never arrive.")
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    return case


def _reply_token(content: str) -> str:
    match = re.search(r'<input type="hidden" name="token" value="([^"]+)"', content)
    assert match, "the reply form carries no token"
    return match.group(1)


def _textarea(content: str, name_id: str) -> str:
    match = re.search(rf'<textarea[^>]*id="{name_id}"[^>]*>(.*?)</textarea>', content, re.S)
    assert match, content[:300]
    return match.group(1).strip()


def _reply_emails(case: Case) -> int:
    return OutboundEmail.objects.filter(case=case, subject__startswith="Update on").count()


# --- reply ---------------------------------------------------------------------------------


def test_a_sent_reply_comes_back_as_an_empty_form_with_a_confirmation(
    agent_client: Client, claimed: Case
) -> None:
    page = agent_client.get(f"/cases/{claimed.reference}/").content.decode()
    token = _reply_token(page)

    response = agent_client.post(
        f"/cases/{claimed.reference}/reply/",
        {"text": "Please restart the phone.", "token": token},
        headers=HTMX,
    )

    content = response.content.decode()
    assert 'role="status">Reply sent to Dana Customer (dana@example.com).</p>' in content
    assert _textarea(content, "id_reply_text") == ""
    assert _reply_token(content) != token  # a new form, a new token
    assert json.loads(response["HX-Trigger"]) == {"case-changed": {"region": "reply-form"}}
    assert claimed.events.get(kind=EventKind.REPLY).data["token"] == token


def test_the_same_reply_form_posted_twice_sends_once(agent_client: Client, claimed: Case) -> None:
    token = _reply_token(agent_client.get(f"/cases/{claimed.reference}/").content.decode())
    form = {"text": "Please restart the phone.", "token": token}

    agent_client.post(f"/cases/{claimed.reference}/reply/", form, headers=HTMX)
    again = agent_client.post(f"/cases/{claimed.reference}/reply/", form, headers=HTMX)

    content = again.content.decode()
    assert again.status_code == 200
    assert 'role="status">This reply was already sent; it was not sent again.</p>' in content
    assert _textarea(content, "id_reply_text") == ""
    assert "HX-Trigger" not in again  # nothing changed
    assert claimed.events.filter(kind=EventKind.REPLY).count() == 1
    assert _reply_emails(claimed) == 1


def test_a_plain_resubmission_redirects_with_a_message_and_sends_once(
    agent_client: Client, claimed: Case
) -> None:
    form = {"text": "Please restart the phone.", "token": "plain-form-token"}

    first = agent_client.post(f"/cases/{claimed.reference}/reply/", form)
    second = agent_client.post(f"/cases/{claimed.reference}/reply/", form, follow=True)

    assert first.status_code == 302 and first["Location"] == f"/cases/{claimed.reference}/#reply-form"
    assert "This reply was already sent; it was not sent again." in second.content.decode()
    assert claimed.events.filter(kind=EventKind.REPLY).count() == 1 and _reply_emails(claimed) == 1


def test_the_same_words_from_a_new_form_are_refused_next_to_the_field(
    agent_client: Client, claimed: Case
) -> None:
    agent_client.post(
        f"/cases/{claimed.reference}/reply/", {"text": "Restart it.", "token": "a"}, headers=HTMX
    )

    response = agent_client.post(
        f"/cases/{claimed.reference}/reply/", {"text": "Restart it.", "token": "b"}, headers=HTMX
    )

    content = response.content.decode()
    assert "The customer got this same reply 1 minute ago." in content
    assert _textarea(content, "id_reply_text") == "Restart it."  # kept, to change
    assert claimed.events.filter(kind=EventKind.REPLY).count() == 1


# --- note ----------------------------------------------------------------------------------


def test_a_saved_note_is_confirmed_and_shown_in_the_timeline(agent_client: Client, claimed: Case) -> None:
    response = agent_client.post(
        f"/cases/{claimed.reference}/note/", {"text": "Carrier checked."}, headers=HTMX
    )

    content = response.content.decode()
    assert '<p class="notice notice-done" role="status">Note added. It is in the timeline.</p>' in content
    assert _textarea(content, "id_note_text") == ""
    timeline = agent_client.get(f"/cases/{claimed.reference}/part/timeline/", headers=HTMX).content.decode()
    assert "Carrier checked." in timeline
    plain = agent_client.post(f"/cases/{claimed.reference}/note/", {"text": "Again."}, follow=True)
    assert "Note added. It is in the timeline." in plain.content.decode()


# --- the thread ----------------------------------------------------------------------------


def test_the_conversation_panel_shows_the_thread_and_the_timeline_does_not(
    agent_client: Client, claimed: Case, agent: User
) -> None:
    agent.last_name = "Quinn"
    agent.save()
    tickets.add_customer_message(claimed.pk, "Any news?")
    services.send_reply(claimed.pk, text="Checking the reports.", actor=agent)

    part = agent_client.get(f"/cases/{claimed.reference}/part/conversation/", headers=HTMX).content.decode()
    timeline = agent_client.get(f"/cases/{claimed.reference}/part/timeline/", headers=HTMX).content.decode()

    texts = ["Codes never arrive.", "Any news?", "Checking the reports."]
    assert [part.index(t) for t in texts] == sorted(part.index(t) for t in texts)  # oldest first
    assert "<strong>Avery Quinn</strong>" in part and "<strong>Dana Customer</strong>" in part
    assert "email queued" in part
    assert not any(t in timeline for t in texts[1:])


def test_the_conversation_costs_the_same_queries_however_long(
    agent_client: Client, claimed: Case, agent: User, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    url = f"/cases/{claimed.reference}/part/conversation/"
    with CaptureQueriesContext(connection) as small:
        agent_client.get(url, headers=HTMX)
    for i in range(20):
        tickets.add_customer_message(claimed.pk, f"message {i}")
        services.send_reply(claimed.pk, text=f"reply {i}", actor=agent)
    agent_client.get(f"/cases/{claimed.reference}/")  # seen: the part below has nothing to clear
    # Session, user, two permission reads, the case, the messages, the emails.
    with django_assert_max_num_queries(7), CaptureQueriesContext(connection) as large:
        response = agent_client.get(url, headers=HTMX)

    assert response.content.decode().count('class="thread-entry') == 41
    assert len(small) == len(large), [q["sql"] for q in large.captured_queries]


# --- the marker ----------------------------------------------------------------------------


def _queue(client: Client) -> str:
    return client.get("/cases/?tab=all").content.decode()


def _row(content: str, case: Case) -> str:
    start = content.index(f">{case.reference}</a>")
    return content[start : content.index("</tr>", start)]


def test_a_customer_message_marks_the_queue_and_the_navigation_until_the_assignee_opens_the_case(
    client: Client, agent: User, lead: User
) -> None:
    client.post("/support/new/", ticket())
    case = Case.objects.get()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    staff = Client()
    staff.force_login(agent)
    assert "Customer replied" not in _queue(staff) and "nav-badge" not in _queue(staff)

    client.post(tracking_path(case) + "message/", {"text": "Still nothing."})

    queue = _queue(staff)
    assert "Customer replied" in _row(queue, case)
    assert '<span class="nav-badge">1<span class="visually-hidden"> new customer reply</span></span>' in queue
    # A lead looking at the case does not clear the agent's marker.
    lead_client = Client()
    lead_client.force_login(lead)
    lead_client.get(f"/cases/{case.reference}/")
    assert "Customer replied" in _row(_queue(staff), case)
    assert "nav-badge" not in _queue(lead_client)  # nothing of the lead's own

    page = staff.get(f"/cases/{case.reference}/").content.decode()

    assert "nav-badge" not in page  # already cleared on the page that opened it
    queue = _queue(staff)
    assert "Customer replied" not in queue and "nav-badge" not in queue


def test_the_navigation_count_is_read_once_then_cached(
    agent_client: Client, claimed: Case, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    tickets.add_customer_message(claimed.pk, "Hello?")
    first = agent_client.get("/cases/?tab=all")
    assert "nav-badge" in first.content.decode()

    # Session, user, the user's two permission sets, and the page's rows: the count is cached.
    with django_assert_max_num_queries(5):
        again = agent_client.get("/cases/?tab=all")

    assert '<span class="nav-badge">1<' in again.content.decode()


def test_htmx_fragments_do_not_count_replies(agent_client: Client, claimed: Case) -> None:
    tickets.add_customer_message(claimed.pk, "Hello?")
    with CaptureQueriesContext(connection) as queries:
        agent_client.get(f"/cases/{claimed.reference}/part/timeline/", headers=HTMX)

    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)

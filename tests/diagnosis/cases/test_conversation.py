"""The conversation thread, the "customer replied" marker and the one-reply-per-form guard."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from diagnosis.cases import conversation, outbox, services, unseen_replies
from diagnosis.cases.casefile import load
from diagnosis.cases.conversation import Delivery, Said
from diagnosis.models import Case, Event, EventKind, OutboundEmail
from diagnosis.support import tickets


@pytest.fixture
def claimed(make_case: Callable[..., Case], agent: User) -> Case:
    case = make_case(description="Codes never arrive.")
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    return case


def _fresh(case: Case) -> Case:
    return Case.objects.select_related("assigned_to").get(pk=case.pk)


# --- the marker ---------------------------------------------------------------------------


def test_a_customer_message_marks_the_case_until_the_assignee_opens_it(
    claimed: Case, agent: User, other_agent: User, lead: User
) -> None:
    assert unseen_replies.count_for(agent) == 0

    event = tickets.add_customer_message(claimed.pk, "Still nothing.")

    case = _fresh(claimed)
    assert case.unseen_message_at == event.at
    assert unseen_replies.count_for(agent) == 1  # the cached 0 was dropped
    # Anyone else opening the case leaves it marked.
    assert not unseen_replies.seen(case, lead) and not unseen_replies.seen(case, other_agent)
    assert _fresh(claimed).unseen_message_at is not None

    assert unseen_replies.seen(case, agent)

    assert _fresh(claimed).unseen_message_at is None
    assert unseen_replies.count_for(agent) == 0
    assert not unseen_replies.seen(_fresh(claimed), agent)  # nothing left to clear


def test_a_message_written_while_the_page_opens_stays_new(claimed: Case, agent: User) -> None:
    tickets.add_customer_message(claimed.pk, "First.")
    opened = _fresh(claimed)  # the page loaded the case ...
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        tickets.add_customer_message(claimed.pk, "Second.")  # ... the customer wrote again ...

    unseen_replies.seen(opened, agent)  # ... then the page cleared what it had loaded

    assert _fresh(claimed).unseen_message_at is not None
    assert unseen_replies.count_for(agent) == 1


def test_the_unseen_message_follows_the_case_to_its_new_assignee(
    claimed: Case, agent: User, other_agent: User, lead: User
) -> None:
    tickets.add_customer_message(claimed.pk, "Hello?")
    assert (unseen_replies.count_for(agent), unseen_replies.count_for(other_agent)) == (1, 0)

    services.assign(claimed.pk, assignee=other_agent, actor=lead)

    assert (unseen_replies.count_for(agent), unseen_replies.count_for(other_agent)) == (0, 1)


def test_agent_replies_and_notes_do_not_mark_the_case(claimed: Case, agent: User) -> None:
    services.send_reply(claimed.pk, text="We are on it.", actor=agent)
    services.add_note(claimed.pk, text="Internal.", actor=agent)

    assert _fresh(claimed).unseen_message_at is None and unseen_replies.count_for(agent) == 0


# --- the duplicate guard ------------------------------------------------------------------


def test_the_same_form_sends_one_reply(claimed: Case, agent: User) -> None:
    services.send_reply(claimed.pk, text="Please restart the phone.", actor=agent, token="t-1")

    with pytest.raises(services.ReplyAlreadySent, match="already sent"):
        services.send_reply(claimed.pk, text="Please restart the phone.", actor=agent, token="t-1")

    assert claimed.events.filter(kind=EventKind.REPLY).count() == 1
    assert OutboundEmail.objects.filter(case=claimed).exclude(subject__contains="received").count() == 1


def test_the_same_words_again_within_minutes_are_refused_then_allowed(claimed: Case, agent: User) -> None:
    services.send_reply(claimed.pk, text="Please restart the phone.", actor=agent, token="t-1")

    with pytest.raises(services.RepeatedReply, match="same reply 1 minute ago"):
        services.send_reply(claimed.pk, text="Please restart the phone.", actor=agent, token="t-2")
    services.send_reply(claimed.pk, text="Please restart the phone now.", actor=agent, token="t-3")
    with time_machine.travel(timezone.now() + services.REPEAT_WINDOW + timedelta(minutes=1)):
        services.send_reply(claimed.pk, text="Please restart the phone.", actor=agent, token="t-4")

    assert claimed.events.filter(kind=EventKind.REPLY).count() == 3


def test_the_database_refuses_a_second_reply_with_one_token(claimed: Case, agent: User) -> None:
    Event.objects.create(case=claimed, kind=EventKind.REPLY, summary="a", data={"text": "a", "token": "x"})
    Event.objects.create(case=claimed, kind=EventKind.NOTE, summary="n", data={"text": "n", "token": "x"})
    Event.objects.create(case=claimed, kind=EventKind.REPLY, summary="b", data={"text": "b"})
    Event.objects.create(case=claimed, kind=EventKind.REPLY, summary="c", data={"text": "c"})

    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(
            case=claimed, kind=EventKind.REPLY, summary="d", data={"text": "d", "token": "x"}
        )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sends_of_one_form_make_one_reply(
    requires_postgres: None, make_case: Callable[..., Case], agent: User
) -> None:
    case = make_case()
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def send() -> None:
        barrier.wait()
        try:
            services.send_reply(case.pk, text="Once only.", actor=agent, token="same")
            outcomes.append("sent")
        except services.ReplyAlreadySent:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused", "sent"]
    assert case.events.filter(kind=EventKind.REPLY).count() == 1


# --- the thread ---------------------------------------------------------------------------


def test_the_thread_holds_ticket_messages_replies_and_emails_in_order(claimed: Case, agent: User) -> None:
    agent.last_name = "Quinn"
    agent.save()
    tickets.add_customer_message(claimed.pk, "Any news?")
    services.send_reply(claimed.pk, text="Checking.", actor=agent)
    services.add_note(claimed.pk, text="Internal only.", actor=agent)
    outbox.queue_email(
        case=claimed, to=claimed.reporter_email, subject="Your case resumed", body="It resumed."
    )

    entries = conversation.thread(_fresh(claimed))

    assert [(e.said, e.text) for e in entries] == [
        (Said.TICKET, "Codes never arrive."),
        (Said.CUSTOMER, "Any news?"),
        (Said.REPLY, "Checking."),
        (Said.EMAIL, ""),  # the subject only: bodies can hold the private tracking link
    ]
    assert entries[3].subject == "Your case resumed"
    assert entries[2].who == "Avery Quinn" and entries[1].who == "Dana Customer"
    assert entries[2].delivery is Delivery.QUEUED and entries[2].email is not None
    assert outbox.deliver_pending() == 2
    assert [e.delivery for e in conversation.thread(_fresh(claimed))][2:] == [Delivery.SENT, Delivery.SENT]
    # The timeline keeps the steps and notes; the conversation is not repeated there.
    kinds = {e.kind for e in load(_fresh(claimed)).events}
    assert EventKind.NOTE in kinds and not kinds & {EventKind.REPLY, EventKind.CUSTOMER_MESSAGE}


def test_the_thread_costs_two_queries_however_long(
    claimed: Case, agent: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    for i in range(15):
        tickets.add_customer_message(claimed.pk, f"message {i}")
        services.send_reply(claimed.pk, text=f"reply {i}", actor=agent)
    case = _fresh(claimed)

    with django_assert_num_queries(2):
        entries = conversation.thread(case)

    assert len(entries) == 31


def test_delivery_states() -> None:
    email = OutboundEmail(to="a@example.com", subject="s", body="b")
    assert conversation.delivery(email) is Delivery.QUEUED
    email.last_error, email.attempts = "connection refused", 1
    assert conversation.delivery(email) is Delivery.RETRYING
    email.attempts = outbox.MAX_ATTEMPTS
    assert conversation.delivery(email) is Delivery.FAILED
    email.sent_at = timezone.now()
    assert conversation.delivery(email) is Delivery.SENT

"""The conversation with the customer, as the case page's thread shows it.

The customer's ticket, their later messages, the agents' replies and the other emails sent
to the customer, oldest first, in two queries whatever the length of the thread. Kept
apart from the timeline, which is the audit of the case's steps and notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from diagnosis.cases import outbox
from diagnosis.models import Case, Event, EventKind, OutboundEmail

# Event kinds that belong to the conversation rather than to the timeline.
KINDS = (EventKind.CUSTOMER_MESSAGE, EventKind.REPLY)


class Said(StrEnum):
    TICKET = "ticket"
    CUSTOMER = "customer"
    REPLY = "reply"
    EMAIL = "email"


class Delivery(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"


DELIVERY_WORDS: dict[Delivery, Promise] = {
    Delivery.QUEUED: gettext_lazy("email queued"),
    Delivery.SENT: gettext_lazy("email sent"),
    Delivery.RETRYING: gettext_lazy("email not sent yet, retrying"),
    Delivery.FAILED: gettext_lazy("email could not be sent"),
}


def delivery(email: OutboundEmail) -> Delivery:
    """Where an email stands: sent, waiting for its first try, failing but retried, or given up."""
    if email.sent_at is not None:
        return Delivery.SENT
    if email.attempts >= outbox.MAX_ATTEMPTS:
        return Delivery.FAILED
    return Delivery.RETRYING if email.last_error else Delivery.QUEUED


@dataclass(frozen=True)
class Entry:
    said: Said
    at: datetime
    who: str
    text: str
    subject: str = ""
    email: OutboundEmail | None = None

    @property
    def delivery(self) -> Delivery | None:
        return delivery(self.email) if self.email else None

    @property
    def delivery_words(self) -> str:
        state = self.delivery
        return str(DELIVERY_WORDS[state]) if state else ""

    @property
    def from_customer(self) -> bool:
        return self.said in (Said.TICKET, Said.CUSTOMER)


def _name(event: Event) -> str:
    user = event.actor
    # Translators: who wrote a reply when the agent's account is gone.
    return (user.get_full_name() or user.get_username()) if user else _("Support")


def thread(case: Case) -> list[Entry]:
    """The conversation, oldest first; each reply carries the email that took it to the customer."""
    events = list(case.events.filter(kind__in=KINDS).select_related("actor").order_by("at", "pk"))
    # Emails to the customer only: an escalation's email goes to the provider.
    emails = {
        e.pk: e for e in OutboundEmail.objects.filter(case=case, escalation__isnull=True).order_by("pk")
    }
    entries = [Entry(Said.TICKET, case.created_at, case.reporter_name, case.description)]
    for event in events:
        text = event.data.get("text", event.summary)
        if event.kind == EventKind.CUSTOMER_MESSAGE:
            entries.append(Entry(Said.CUSTOMER, event.at, case.reporter_name, text))
        else:
            email = emails.pop(event.data.get("email"), None)
            entries.append(Entry(Said.REPLY, event.at, _name(event), text, email=email))
    # What is left went out on its own: the receipt, tracking links, news that the case resumed.
    # Their subjects only: a body can hold the customer's private tracking link.
    entries += [
        Entry(Said.EMAIL, e.created_at, _("Sent automatically"), "", e.subject, e) for e in emails.values()
    ]
    return sorted(entries, key=lambda entry: entry.at)

"""The agents' queue: tabs, search and ordering, as querysets with a fixed number of queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, Q, QuerySet

from diagnosis import numbers
from diagnosis.models import OPEN_STATES, Case, CaseState, Message, Recipient

REFERENCE_RE = re.compile(r"^(?:SMS-?)?([23456789ABCDEFGHJKMNPQRSTVWXYZ]{6})$", re.IGNORECASE)
PAGE_SIZE = 25


class Tab(StrEnum):
    UNASSIGNED = "unassigned"
    MINE = "mine"
    WAITING = "waiting"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    ALL = "all"


TAB_LABELS = {
    Tab.UNASSIGNED: "Unassigned",
    Tab.MINE: "Mine",
    Tab.WAITING: "Waiting for report",
    Tab.ESCALATED: "Escalated",
    Tab.RESOLVED: "Resolved",
    Tab.ALL: "All",
}


class Sort(StrEnum):
    OLDEST = "oldest"
    NEWEST = "newest"
    DEADLINE = "deadline"


def _tab_filter(tab: Tab, user: AbstractBaseUser) -> Q:
    return {
        Tab.UNASSIGNED: Q(assigned_to__isnull=True, state__in=OPEN_STATES),
        Tab.MINE: Q(assigned_to=user.pk, state__in=OPEN_STATES),
        Tab.WAITING: Q(state=CaseState.WAITING),
        Tab.ESCALATED: Q(state=CaseState.ESCALATED),
        Tab.RESOLVED: Q(state__in=[CaseState.RESOLVED, CaseState.CLOSED]),
        Tab.ALL: Q(),
    }[tab]


@dataclass(frozen=True)
class Search:
    """What a search box entry was understood as, and the filter it becomes."""

    text: str
    kind: str  # "reference", "number", "message" or "" for no search
    value: str
    problem: str = ""

    @property
    def filter(self) -> Q:
        if self.kind == "reference":
            return Q(reference=self.value)
        if self.kind == "number":
            return Q(pk__in=Recipient.objects.filter(e164=self.value).values("case_id"))
        if self.kind == "message":
            return Q(pk__in=Message.objects.filter(msg_id=self.value).values("case_id"))
        return Q()


def parse_search(text: str, default_region: str | None = None) -> Search:
    text = (text or "").strip()
    if not text:
        return Search("", "", "")
    match = REFERENCE_RE.match(text)
    if match:
        return Search(text, "reference", "SMS-" + match.group(1).upper())
    if numbers.looks_like_number(text):
        try:
            return Search(text, "number", numbers.normalise(text, default_region).e164)
        except numbers.InvalidNumber as exc:
            return Search(text, "number", "", problem=f"“{text}” could not be read as a phone number: {exc}")
    return Search(text, "message", text)


def cases(tab: Tab, user: AbstractBaseUser, search: Search, sort: Sort) -> QuerySet[Case]:
    """The queue's rows: one query for the page plus one for the numbers shown on it."""
    queryset = Case.objects.filter(_tab_filter(tab, user)).select_related("assigned_to")
    if search.kind:
        # An unreadable number matches nothing rather than everything.
        queryset = queryset.filter(search.filter) if search.value else queryset.none()
    ordering = {
        Sort.OLDEST: ["created_at", "pk"],
        Sort.NEWEST: ["-created_at", "-pk"],
        Sort.DEADLINE: ["wait_deadline", "created_at", "pk"],
    }[sort]
    return queryset.order_by(*ordering).prefetch_related(
        Prefetch("recipients", queryset=Recipient.objects.order_by("pk"))
    )


def tab_counts(user: AbstractBaseUser) -> dict[Tab, int]:
    """How many cases each tab holds, in one query."""
    totals = Case.objects.aggregate(**{tab.value: Count("pk", filter=_tab_filter(tab, user)) for tab in Tab})
    return {tab: totals[tab.value] for tab in Tab}

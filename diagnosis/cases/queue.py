"""The agents' queue: tabs, search, filters and ordering, as querysets with a fixed number of queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from diagnosis.delivery import numbers
from diagnosis.models import (
    OPEN_STATES,
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    REFERENCE_PREFIX,
    Case,
    CaseState,
    Escalation,
    Message,
    Recipient,
)

# A reference as people type it: "SMS-" optional, its dash too, any case.
REFERENCE_RE = re.compile(rf"^(?:SMS-?)?([{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}})$", re.IGNORECASE)
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


def _tab_filter(tab: Tab, user: User) -> Q:
    return {
        Tab.UNASSIGNED: Q(assigned_to__isnull=True, state__in=OPEN_STATES),
        Tab.MINE: Q(assigned_to=user.pk, state__in=OPEN_STATES),
        Tab.WAITING: Q(state=CaseState.WAITING),
        Tab.ESCALATED: Q(state=CaseState.ESCALATED),
        Tab.RESOLVED: Q(state__in=[CaseState.RESOLVED, CaseState.CLOSED]),
        Tab.ALL: Q(),
    }[tab]


# Filter words a search can be made of, so a number on the team overview can link to
# exactly the cases it counts: "state:new,in_progress assignee:avery untouched:24h".
FILTER_WORD_RE = re.compile(r"^(state|assignee|untouched|escalation):(\S+)$", re.IGNORECASE)
OPEN_ALIAS = "open"


@dataclass(frozen=True)
class Filters:
    """Conditions from filter words; every one given must hold."""

    states: tuple[str, ...] = ()
    assignee: str = ""  # a username
    untouched_hours: int | None = None  # no change for at least this long
    open_escalation: bool = False

    def text(self) -> str:
        """The filter words for these conditions, as typed in the search box."""
        words = []
        if set(self.states) == set(OPEN_STATES):
            words.append(f"state:{OPEN_ALIAS}")
        elif self.states:
            words.append("state:" + ",".join(self.states))
        if self.assignee:
            words.append(f"assignee:{self.assignee}")
        if self.untouched_hours is not None:
            words.append(f"untouched:{self.untouched_hours}h")
        if self.open_escalation:
            words.append("escalation:open")
        return " ".join(words)

    def q(self) -> Q:
        condition = Q()
        if self.states:
            condition &= Q(state__in=self.states)
        if self.assignee:
            condition &= Q(assigned_to__username=self.assignee)
        if self.untouched_hours is not None:
            condition &= Q(updated_at__lt=timezone.now() - timedelta(hours=self.untouched_hours))
        if self.open_escalation:
            condition &= Q(pk__in=Escalation.objects.filter(closed_at__isnull=True).values("case_id"))
        return condition


class FilterError(ValueError):
    """A filter word with a value it cannot take; the message is shown under the search box."""


def parse_filters(text: str) -> Filters | None:
    """The filters in `text`, or None when it is not made only of filter words (a plain search)."""
    matches = [FILTER_WORD_RE.match(word) for word in text.split()]
    if not matches or None in matches:
        return None
    states: tuple[str, ...] = ()
    assignee = ""
    untouched_hours: int | None = None
    open_escalation = False
    for match in filter(None, matches):
        key, value = match.group(1).lower(), match.group(2)
        if key == "state":
            states = _states(value)
        elif key == "assignee":
            assignee = value
        elif key == "untouched":
            hours = value.lower().removesuffix("h")
            if not hours.isdigit():
                raise FilterError(f"“untouched:{value}” needs a number of hours, such as untouched:24h.")
            untouched_hours = int(hours)
        elif value.lower() == OPEN_ALIAS:  # escalation:open
            open_escalation = True
        else:
            raise FilterError(f"“escalation:{value}” is not understood; use escalation:open.")
    return Filters(states, assignee, untouched_hours, open_escalation)


def _states(value: str) -> tuple[str, ...]:
    states: list[str] = []
    for name in value.lower().split(","):
        if name == OPEN_ALIAS:
            states.extend(OPEN_STATES)
        elif name in CaseState.values:
            states.append(name)
        else:
            known = ", ".join([*CaseState.values, OPEN_ALIAS])
            raise FilterError(f"“{name}” is not a case state; use one of {known}.")
    return tuple(dict.fromkeys(states))


@dataclass(frozen=True)
class Search:
    """What a search box entry was understood as, and the filter it becomes."""

    text: str
    kind: str  # "reference", "number", "message", "filter" or "" for no search
    value: str
    problem: str = ""

    @property
    def filter(self) -> Q:
        if self.kind == "filter":
            filters = parse_filters(self.value)
            return filters.q() if filters else Q()
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
    try:
        filters = parse_filters(text)
    except FilterError as exc:
        return Search(text, "filter", "", problem=str(exc))
    if filters is not None:
        return Search(text, "filter", filters.text())
    match = REFERENCE_RE.match(text)
    if match:
        return Search(text, "reference", REFERENCE_PREFIX + match.group(1).upper())
    if numbers.looks_like_number(text):
        try:
            return Search(text, "number", numbers.normalise(text, default_region).e164)
        except numbers.InvalidNumber as exc:
            return Search(text, "number", "", problem=f"“{text}” could not be read as a phone number: {exc}")
    return Search(text, "message", text)


def cases(tab: Tab, user: User, search: Search, sort: Sort) -> QuerySet[Case]:
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


# Only the two tabs agents pick work from get a count, each an index-only scan of its
# own index; the others can hold hundreds of thousands of cases, and counting them on
# every queue view is what made the queue slow at scale.
COUNTED_TABS = (Tab.UNASSIGNED, Tab.MINE)


def tab_counts(user: User) -> dict[Tab, int | None]:
    """How many open cases each work tab holds.

    One COUNT per tab rather than one aggregate with filters: each count is an
    index-only scan of that tab's own (partial) index, where a combined aggregate
    would read every open case.
    """
    counts: dict[Tab, int | None] = dict.fromkeys(Tab)
    for tab in COUNTED_TABS:
        counts[tab] = Case.objects.filter(_tab_filter(tab, user)).count()
    return counts


@dataclass(frozen=True)
class Page:
    """One page of the queue, found without counting every matching case.

    Fetching one row more than the page shows tells whether a next page exists.
    """

    object_list: list[Case]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def page_of(queryset: QuerySet[Case], number: object, size: int = PAGE_SIZE) -> Page:
    try:
        page = max(int(str(number)), 1)
    except (TypeError, ValueError):
        page = 1
    start = (page - 1) * size
    rows = list(queryset[start : start + size + 1])
    return Page(rows[:size], page, len(rows) > size)

"""The agents' queue: tabs, search, filters, ordering, keyset pages and cached tab counts."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Count,
    DateTimeField,
    F,
    Func,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.lookups import GreaterThan, LessThan, Lookup
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from diagnosis.delivery import numbers
from diagnosis.models import (
    NO_DEADLINE,
    OPEN_STATES,
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    REFERENCE_PREFIX,
    Case,
    CaseState,
    Escalation,
    Message,
    Recipient,
    deadline_order,
)

# A reference or its start as people type it: "SMS-" optional, its dash too, any case.
REFERENCE_RE = re.compile(rf"^(SMS-?)?([{REFERENCE_ALPHABET}]{{1,{REFERENCE_LENGTH}}})$", re.IGNORECASE)
PAGE_SIZE = 25
# The shortest starts searched as prefixes: a shorter one matches a large share of all
# cases (one reference character in 30), whose ids the search would have to gather and sort.
MIN_REFERENCE_PART = 2
MIN_MESSAGE_PREFIX = 3


class Tab(StrEnum):
    UNASSIGNED = "unassigned"
    MINE = "mine"
    WAITING = "waiting"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    ALL = "all"


TAB_LABELS = {
    Tab.UNASSIGNED: gettext_lazy("Unassigned"),
    # Translators: the queue tab of the cases assigned to the signed-in agent.
    Tab.MINE: gettext_lazy("Mine"),
    Tab.WAITING: gettext_lazy("Waiting for report"),
    Tab.ESCALATED: gettext_lazy("Escalated"),
    Tab.RESOLVED: gettext_lazy("Resolved"),
    # Translators: the queue tab of every case.
    Tab.ALL: gettext_lazy("All"),
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
                raise FilterError(
                    _("“untouched:%(value)s” needs a number of hours, such as untouched:24h.")
                    % {"value": value}
                )
            untouched_hours = int(hours)
        elif value.lower() == OPEN_ALIAS:  # escalation:open
            open_escalation = True
        else:
            raise FilterError(
                _("“escalation:%(value)s” is not understood; use escalation:open.") % {"value": value}
            )
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
            raise FilterError(
                _("“%(name)s” is not a case state; use one of %(known)s.") % {"name": name, "known": known}
            )
    return tuple(dict.fromkeys(states))


@dataclass(frozen=True)
class Term:
    """One reading of a plain search: the cases whose reference starts with, whose number
    is, or whose message id starts with (or, when shorter than a useful prefix, is) `value`."""

    kind: str  # "reference", "number" or "message"
    value: str

    @property
    def whole(self) -> bool:
        """Matched exactly rather than as the start of a longer value."""
        if self.kind == "reference":
            return len(self.value) == len(REFERENCE_PREFIX) + REFERENCE_LENGTH
        return self.kind == "number" or len(self.value) < MIN_MESSAGE_PREFIX

    def case_ids(self) -> QuerySet[Any]:
        """The ids of the cases this reading finds, each by an index (prefixes: LIKE 'x%')."""
        if self.kind == "reference":
            return Case.objects.filter(reference__startswith=self.value).order_by().values("pk")
        if self.kind == "number":
            return Recipient.objects.filter(e164=self.value).values("case_id")
        lookup = "msg_id" if self.whole else "msg_id__startswith"
        return Message.objects.filter(**{lookup: self.value}).values("case_id")

    @property
    def description(self) -> str:
        if self.kind == "reference":
            text = _("reference is %(value)s") if self.whole else _("reference starts with %(value)s")
        elif self.kind == "number":
            text = _("number is %(value)s") if self.whole else _("number starts with %(value)s")
        else:
            text = _("message id is %(value)s") if self.whole else _("message id starts with %(value)s")
        return text % {"value": self.value}


@dataclass(frozen=True)
class Search:
    """What a search box entry was understood as, and the filter it becomes."""

    text: str
    kind: str  # "filter", "terms" (references, numbers, message ids) or "" for no search
    value: str = ""  # the filter words, for a filter
    terms: tuple[Term, ...] = ()
    problem: str = ""

    @property
    def filter(self) -> Q:
        if self.kind == "filter":
            filters = parse_filters(self.value)
            return filters.q() if filters else Q()
        if self.terms:
            # One IN over a UNION, so each reading is found by its own index and the
            # planner joins the few ids found rather than testing every case.
            first, *rest = (term.case_ids() for term in self.terms)
            return Q(pk__in=first.union(*rest) if rest else first)
        return Q()

    @property
    def description(self) -> str:
        """The readings in words: "whose reference starts with SMS-Y2 or whose message id …"."""
        # Translators: one reading of a search, e.g. "whose reference is SMS-Y2K4MN".
        readings = [_("whose %(reading)s") % {"reading": term.description} for term in self.terms]
        # Translators: between two readings of a search: "whose … or whose …".
        return pgettext("search readings", " or ").join(readings)


def parse_search(text: str, default_region: str | None = None) -> Search:
    """Read a search box entry as filter words, or as every plausible reference, number and
    message id it can be (a case matching any of them is found)."""
    text = (text or "").strip()
    if not text:
        return Search("", "")
    try:
        filters = parse_filters(text)
    except FilterError as exc:
        return Search(text, "filter", problem=str(exc))
    if filters is not None:
        return Search(text, "filter", filters.text())
    terms: list[Term] = []
    problem = ""
    reference = REFERENCE_RE.match(text)
    has_prefix = bool(reference and reference.group(1))
    if reference and len(reference.group(2)) >= MIN_REFERENCE_PART:
        terms.append(Term("reference", REFERENCE_PREFIX + reference.group(2).upper()))
    elif has_prefix:
        problem = _("Type at least %(n)d characters after “%(prefix)s” to find a reference.") % {
            "n": MIN_REFERENCE_PART,
            "prefix": REFERENCE_PREFIX,
        }
    numbers_found, number_problem = _numbers(text, default_region)
    terms += [Term("number", e164) for e164 in numbers_found]
    # A message id is one word; "+" only ever starts a number, "SMS-" only a reference.
    if not text.startswith("+") and not has_prefix and not any(ch.isspace() for ch in text):
        terms.append(Term("message", text))
    if not terms:
        problem = (
            problem
            or number_problem
            or _("“%(text)s” is not a case reference, phone number or message id.") % {"text": text}
        )
        return Search(text, "terms", problem=problem)
    return Search(text, "terms", terms=tuple(terms))


def _numbers(text: str, default_region: str | None) -> tuple[list[str], str]:
    """The E.164 numbers `text` can be, and why it is none when it looks like one.

    Written with "+" or "00" it is international; bare digits are read both as an
    international number that lacks its "+" and, with a configured region, as a national
    one (one starting with a single 0 only as national).
    """
    if not numbers.looks_like_number(text):
        return [], ""
    if text.startswith(("+", "00")):
        readings = [text]
    else:
        # A lone leading 0 is a trunk prefix, never the start of a country code.
        readings = [] if text.startswith("0") else ["+" + "".join(ch for ch in text if ch.isdigit())]
        if default_region or not readings:
            readings.append(text)
    found: list[str] = []
    problem = ""
    for reading in readings:
        try:
            e164 = numbers.normalise(reading, default_region).e164
        except numbers.InvalidNumber as exc:
            problem = problem or _("“%(text)s” could not be read as a phone number: %(problem)s") % {
                "text": text,
                "problem": exc,
            }
        else:
            if e164 not in found:
                found.append(e164)
    return found, problem


def scope(chosen: Tab | None, search: Search) -> Tab:
    """The tab a request lists: the one chosen; with none, every case for a search, else Unassigned."""
    if chosen is not None:
        return chosen
    return Tab.ALL if search.kind else Tab.UNASSIGNED


def matching(tab: Tab, user: User, search: Search) -> QuerySet[Case]:
    """The cases of a tab that a search keeps, unordered; a search that cannot be read keeps none."""
    queryset = Case.objects.filter(_tab_filter(tab, user))
    if search.kind:
        queryset = queryset.filter(search.filter) if not search.problem else queryset.none()
    return queryset


# Where a search's matches are, by tab. Counted over at most this many matches: past it
# the page says only "more than", and the count stops growing with the queue.
SUMMARY_LIMIT = 1000
SUMMARY_TABS = (Tab.UNASSIGNED, Tab.MINE, Tab.WAITING, Tab.ESCALATED, Tab.RESOLVED)


@dataclass(frozen=True)
class TabMatches:
    tab: Tab  # the tab to link to
    count: int
    text: str  # "2 in Waiting for report"


@dataclass(frozen=True)
class Summary:
    """How many cases a search matches in every tab, and which tabs hold them."""

    total: int  # or, when capped, the limit it passed
    capped: bool  # more matches than were counted: no count per tab
    tabs: tuple[TabMatches, ...]  # only tabs holding at least one match, in tab order

    @property
    def headline(self) -> str:
        if self.capped:
            return _("more than %(n)s cases match") % {"n": f"{self.total:,}"}
        return ngettext("%(n)d case matches", "%(n)d cases match", self.total) % {"n": self.total}


def summary(user: User, search: Search, *, limit: int = SUMMARY_LIMIT) -> Summary | None:
    """Where the matches of a search are, in one query; None without a readable search.

    Tabs overlap (a waiting case nobody holds is in Unassigned and in Waiting), so the
    counts can add up to more than the total. Open cases a colleague holds, in no tab but
    All, are counted under All.
    """
    if not search.kind or search.problem:
        return None
    ids = matching(Tab.ALL, user, search).order_by().values("pk")[: limit + 1]
    in_a_tab = Q()
    for tab in SUMMARY_TABS:
        in_a_tab |= _tab_filter(tab, user)
    counts = Case.objects.filter(pk__in=ids).aggregate(
        total=Count("pk"),
        listed=Count("pk", filter=in_a_tab),
        **{tab.value: Count("pk", filter=_tab_filter(tab, user)) for tab in SUMMARY_TABS},
    )
    total = counts["total"]
    if total > limit:
        return Summary(limit, capped=True, tabs=())
    tabs = [
        TabMatches(
            tab, n, ngettext("%(n)d in %(tab)s", "%(n)d in %(tab)s", n) % {"n": n, "tab": TAB_LABELS[tab]}
        )
        for tab in SUMMARY_TABS
        if (n := counts[tab.value])
    ]
    elsewhere = total - counts["listed"]
    if elsewhere:
        held = ngettext(
            "%(n)d held by a colleague (in %(tab)s)", "%(n)d held by colleagues (in %(tab)s)", elsewhere
        ) % {"n": elsewhere, "tab": TAB_LABELS[Tab.ALL]}
        tabs.append(TabMatches(Tab.ALL, elsewhere, held))
    return Summary(total, capped=False, tabs=tuple(tabs))


def _ordering(sort: Sort, *, reverse: bool = False) -> list[OrderBy]:
    """The sort's order on `_sorted` rows, `id` last so every row has one place."""
    ascending = (sort != Sort.NEWEST) != reverse
    return [F(name).asc() if ascending else F(name).desc() for name in _sort_keys(sort)]


def _sort_keys(sort: Sort) -> list[str]:
    return ["deadline_key", "created_at", "pk"] if sort == Sort.DEADLINE else ["created_at", "pk"]


def _sorted(queryset: QuerySet[Case], sort: Sort, *, reverse: bool = False) -> QuerySet[Case]:
    """The rows in the sort's order (or its reverse); by deadline, cases without one come last."""
    if sort == Sort.DEADLINE:
        queryset = queryset.alias(deadline_key=deadline_order())
    return queryset.order_by(*_ordering(sort, reverse=reverse))


def cases(tab: Tab, user: User, search: Search, sort: Sort) -> QuerySet[Case]:
    """Every row of the filtered queue in order, with all its numbers (the CSV export)."""
    return _sorted(matching(tab, user, search).select_related("assigned_to"), sort).prefetch_related(
        Prefetch("recipients", queryset=Recipient.objects.order_by("pk"))
    )


# Only the two tabs agents pick work from get a count; the others can hold hundreds of
# thousands of cases.
COUNTED_TABS = (Tab.UNASSIGNED, Tab.MINE)
COUNTS_TIMEOUT = 15  # seconds; the backstop for changes that bypass Case.save()
_GENERATION_KEY = "queue:counts:generation"


def tab_counts(user: User) -> dict[Tab, int | None]:
    """How many open cases each work tab holds, from the cache; no COUNT on most requests.

    Counts are cached under a generation token that every saved or deleted case replaces
    (`forget_counts`, at once and again when its transaction commits, so a count taken
    before the commit cannot outlive it). Claims, assignments and state changes all go
    through `Case.save()`, so the queue shows them on the next request. Writes that bypass
    it (bulk updates, another process's locmem cache in the embedded setup) show within
    `COUNTS_TIMEOUT` seconds. A miss costs one COUNT per tab, each an index-only scan of
    its partial index. Mine is cached per user.
    """
    generation = cache.get(_GENERATION_KEY) or _new_generation()
    keys = {
        Tab.UNASSIGNED: f"queue:counts:{generation}:unassigned",
        Tab.MINE: f"queue:counts:{generation}:mine:{user.pk}",
    }
    cached = cache.get_many(keys.values())
    counts: dict[Tab, int | None] = dict.fromkeys(Tab)
    missing = {}
    for tab, key in keys.items():
        if key in cached:
            counts[tab] = cached[key]
        else:
            counts[tab] = missing[key] = Case.objects.filter(_tab_filter(tab, user)).count()
    if missing:
        cache.set_many(missing, COUNTS_TIMEOUT)
    return counts


def _new_generation() -> str:
    generation = uuid.uuid4().hex
    cache.set(_GENERATION_KEY, generation, None)
    return generation


def forget_counts() -> None:
    """Make every cached tab count stale (a new generation); the next queue view counts again."""
    _new_generation()


@receiver(post_save, sender=Case, dispatch_uid="queue-counts-save")
@receiver(post_delete, sender=Case, dispatch_uid="queue-counts-delete")
def _case_changed(**kwargs: object) -> None:
    forget_counts()
    transaction.on_commit(forget_counts, robust=True)


# Keyset paging: a page is the rows after (or before) one row in the sort's order, found
# by a range condition on (sort key, id) that an index answers directly, so page 200 costs
# what page 1 does. The cursor names that row by its sort values, not by its position.
_SORT_TAGS = {Sort.OLDEST: "o", Sort.NEWEST: "n", Sort.DEADLINE: "d"}


def encode_cursor(case: Case, sort: Sort) -> str:
    """The cursor of the page that starts right after `case` in `sort`'s order (opaque in URLs)."""
    parts = [_SORT_TAGS[sort]]
    if sort == Sort.DEADLINE:
        parts.append(case.wait_deadline.isoformat() if case.wait_deadline else "")
    parts += [case.created_at.isoformat(), str(case.pk)]
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: Sort) -> list[object] | None:
    """The sort values of the row a cursor names, or None for anything malformed or made for another sort."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, *values = text.split("|")
        if tag != _SORT_TAGS[sort] or len(values) != len(_sort_keys(sort)):
            return None
        *times, pk = values
        key: list[object] = [_aware(moment) if moment else NO_DEADLINE for moment in times]
        if not times[-1] or not 0 < int(pk) < 2**63:  # beyond a bigint the database would refuse it
            return None
        return [*key, int(pk)]
    except (ValueError, UnicodeDecodeError):
        return None


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if timezone.is_naive(moment):
        raise ValueError("a cursor's time carries its offset")
    return moment


class _Row(Func):
    """A row value, `(a, b, c)`: compared as a tuple by PostgreSQL and SQLite alike."""

    template = "(%(expressions)s)"
    output_field = DateTimeField()  # only compared, never read; the first key is a time


def _beyond(keys: list[tuple[str, object]], *, later: bool) -> Lookup[Any]:
    """Rows after (`later`) or before the given sort values, compared as one row value.

    `(a, b, c) > (x, y, z)` rather than its expansion into ORs: PostgreSQL reads the
    whole comparison as a range of the matching index, wherever the cursor's row lies
    (the expansion ranges only over the first column, slow among many equal deadlines).
    """
    names = _Row(*(F(name) for name, _ in keys))
    values = _Row(*(Value(value) for _, value in keys))
    return GreaterThan(names, values) if later else LessThan(names, values)


@dataclass(frozen=True)
class Page:
    """One page of the queue, found without counting or skipping rows.

    Fetching one row more than the page shows tells whether there is another page in
    the direction of travel; a page reached by a cursor always has one the other way.
    """

    object_list: list[Case]
    sort: Sort
    has_previous: bool
    has_next: bool

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_cursor(self) -> str:
        return encode_cursor(self.object_list[-1], self.sort) if self.object_list else ""

    @property
    def previous_cursor(self) -> str:
        return encode_cursor(self.object_list[0], self.sort) if self.object_list else ""


def page(
    tab: Tab,
    user: User,
    search: Search,
    sort: Sort,
    *,
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the queue in one query: the rows after `after`, before `before`, or the first.

    Each row carries its first number (`first_number`) and how many numbers the case has
    (`number_count`) instead of every recipient, and its assignee. A cursor that cannot be
    read, or that leads to no rows, gives the first page.
    """
    first_numbers = Recipient.objects.filter(case=OuterRef("pk")).order_by("pk").values("e164")
    number_counts = (
        Recipient.objects.filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        matching(tab, user, search)
        .select_related("assigned_to")
        .annotate(first_number=Subquery(first_numbers[:1]), number_count=Subquery(number_counts))
    )
    forward = bool(after)
    key = _decode_cursor(after or before, sort) if (after or before) else None
    if key is not None:
        later = forward == (sort != Sort.NEWEST)
        beyond = _beyond(list(zip(_sort_keys(sort), key, strict=True)), later=later)
        found = list(_sorted(rows, sort, reverse=not forward).filter(beyond)[: size + 1])
        more = len(found) > size
        found = found[:size]
        if forward and found:
            return Page(found, sort, has_previous=True, has_next=more)
        if not forward and len(found) == size:
            return Page(found[::-1], sort, has_previous=more, has_next=True)
    found = list(_sorted(rows, sort)[: size + 1])
    return Page(found[:size], sort, has_previous=False, has_next=len(found) > size)

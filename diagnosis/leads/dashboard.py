"""The team lead's live picture of open work, and the lead's bulk reassignment.

The overview answers four questions: what is open, what is about to hit its wait
deadline, what is stuck at customer service, and who carries how much. The figures are
counted from partial indexes that hold only open work, and polls a few seconds apart
share one count; the lists are short index scans. Every number comes with the queue
link that lists exactly the cases it counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, pgettext_lazy

from diagnosis.cases import access, services
from diagnosis.cases.queue import Filters, Sort, Tab
from diagnosis.guide import Kind, get_guide
from diagnosis.leads import charts
from diagnosis.models import OPEN_STATES, Case, CaseState, Escalation

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PANEL_ROWS = 10
# A waiting case this close to its deadline is marked as due soon.
DEADLINE_SOON = timedelta(hours=12)
# "Untouched" is only a problem where the next move is ours: waiting cases have their
# own deadline panel and escalations their own age panel.
STALE_STATES = (CaseState.NEW, CaseState.IN_PROGRESS)
# Where the shared tally waits for the next poll (per stale limit, which settings may change).
TALLY_CACHE_KEY = "lead-tally:{hours}"
# A due tally stands in while one request recounts: at most this many times its age...
TALLY_KEEP_FACTOR = 4
# ...and a count that crashed without letting go blocks others no longer than this.
TALLY_COUNTING_SECONDS = 30
# What the rows show of the person holding a case.
HOLDER_FIELDS = ("assigned_to__username", "assigned_to__first_name", "assigned_to__last_name")
# Labels are lazy: the tally is cached and shown to leads reading different languages.
OPEN_LABEL = pgettext_lazy("cases", "Open")
WAITING_LABEL = pgettext_lazy("cases", "Waiting")


def queue_url(tab: Tab = Tab.ALL, filters: Filters | None = None, sort: Sort | None = None) -> str:
    """The address of the queue showing exactly the cases a figure counts."""
    params = {"tab": tab.value}
    if filters is not None:
        params["q"] = filters.text()
    if sort is not None:
        params["sort"] = sort.value
    return reverse("diagnosis:case-list") + "?" + urlencode(params)


@dataclass(frozen=True)
class Figure:
    label: StrOrPromise  # lazy, translated when shown
    count: int
    url: str


@dataclass(frozen=True)
class WaitingRow:
    case: Case
    time_left: timedelta

    @property
    def overdue(self) -> bool:
        """Past the deadline; the next sweep escalates it."""
        return self.time_left <= timedelta(0)

    @property
    def soon(self) -> bool:
        return self.time_left < DEADLINE_SOON

    @property
    def time_left_text(self) -> str:
        return charts.duration_text(self.time_left)


@dataclass(frozen=True)
class EscalationRow:
    escalation: Escalation
    title: str
    age: timedelta

    @property
    def age_text(self) -> str:
        return charts.duration_text(self.age)


@dataclass(frozen=True)
class StaleRow:
    case: Case
    idle: timedelta

    @property
    def idle_text(self) -> str:
        return charts.duration_text(self.idle)


@dataclass(frozen=True)
class Load:
    name: str
    open: Figure
    waiting: Figure


@dataclass(frozen=True)
class Snapshot:
    now: datetime
    stale_hours: int
    states: tuple[Figure, ...]
    open_total: Figure
    unassigned: Figure
    waiting_total: Figure
    escalations_total: Figure
    stale_total: Figure
    waiting: tuple[WaitingRow, ...]
    escalations: tuple[EscalationRow, ...]
    stale: tuple[StaleRow, ...]
    loads: tuple[Load, ...]


@dataclass(frozen=True)
class Tally:
    """The counted part of the live panels: every figure with its queue link, and who holds what."""

    counted_at: datetime
    states: tuple[Figure, ...]
    open_total: Figure
    unassigned: Figure
    waiting_total: Figure
    escalations_total: Figure
    stale_total: Figure
    loads: tuple[Load, ...]


def tally(stale_hours: int, now: datetime) -> Tally:
    """Count open work in three small queries, index-only scans of partial indexes made for them.

    Open cases by state and holder, and how many of them are untouched, come from
    `diagnosis_case_open_holder` (open cases only, with their last change); open
    escalations from `diagnosis_escalation_open`. Neither reads a closed case.
    """
    by_state: dict[str, int] = dict.fromkeys((s.value for s in OPEN_STATES), 0)
    unassigned = stale = 0
    held: dict[int, list[int]] = {}  # user id -> [open, waiting]
    rows = (
        Case.objects.filter(state__in=OPEN_STATES)
        .values_list("state", "assigned_to_id")
        .annotate(n=Count("*"), stale=Count("state", filter=_stale(stale_hours, now)))
        .order_by()
    )
    for state, holder, n, untouched in rows:
        by_state[state] += n
        stale += untouched
        if holder is None:
            unassigned += n
            continue
        counts = held.setdefault(holder, [0, 0])
        counts[0] += n
        if state == CaseState.WAITING:
            counts[1] += n
    # One open escalation per case (diagnosis_escalation_one_open), so this counts cases.
    escalations = Escalation.objects.filter(closed_at__isnull=True).count()
    people = (
        get_user_model()
        .objects.filter((access.works_cases() & Q(is_active=True)) | Q(pk__in=list(held)))
        .only("pk", "username", "first_name", "last_name")
    )
    ranked = sorted(people, key=lambda p: (-held.get(p.pk, [0])[0], p.first_name, p.get_username()))
    return Tally(
        counted_at=now,
        states=tuple(Figure(state.label, by_state[state.value], _state_url(state)) for state in OPEN_STATES),
        open_total=Figure(OPEN_LABEL, sum(by_state.values()), queue_url(filters=Filters(states=OPEN_STATES))),
        unassigned=Figure(gettext_lazy("Unassigned"), unassigned, queue_url(Tab.UNASSIGNED)),
        waiting_total=Figure(WAITING_LABEL, by_state[CaseState.WAITING.value], _state_url(CaseState.WAITING)),
        escalations_total=Figure(
            gettext_lazy("With an open escalation"),
            escalations,
            queue_url(filters=Filters(open_escalation=True)),
        ),
        stale_total=Figure(
            format_lazy(gettext_lazy("Untouched for {hours} h or more"), hours=stale_hours),
            stale,
            queue_url(filters=Filters(states=STALE_STATES, untouched_hours=stale_hours)),
        ),
        loads=tuple(
            _load(p.get_username(), p.get_full_name() or p.get_username(), *held.get(p.pk, (0, 0)))
            for p in ranked
        ),
    )


def cached_tally(stale_hours: int, now: datetime) -> Tally:
    """The tally, shared by every lead's poll for `LEAD_COUNTS_CACHE_SECONDS`.

    Counting reads every open case (hundreds of thousands at production size), so
    polls within a few seconds of each other share one count; the lists beside the
    figures are read fresh on every request, each a short index scan. When the tally
    is due, one request counts while the others show the previous one a moment longer.
    """
    seconds = settings.LEAD_COUNTS_CACHE_SECONDS
    if seconds <= 0:
        return tally(stale_hours, now)
    key = TALLY_CACHE_KEY.format(hours=stale_hours)
    cached: Tally | None = cache.get(key)
    if cached is not None and now - cached.counted_at < timedelta(seconds=seconds):
        return cached
    lock = key + ":counting"
    if cached is not None and not cache.add(lock, True, TALLY_COUNTING_SECONDS):
        return cached  # another request is counting
    try:
        fresh = tally(stale_hours, now)
        cache.set(key, fresh, seconds * TALLY_KEEP_FACTOR)
    finally:
        cache.delete(lock)
    return fresh


def snapshot(stale_hours: int, now: datetime | None = None, rows: int = PANEL_ROWS) -> Snapshot:
    """Every figure of the live panels: the (cached) tally, and three short lists."""
    now = now or timezone.now()
    counts = cached_tally(stale_hours, now)
    # Only the columns the rows show: a case's description and answers are not read here.
    shown = ("reference", "state", "wait_deadline", "updated_at", "assigned_to", *HOLDER_FIELDS)
    waiting = Case.objects.filter(state=CaseState.WAITING).select_related("assigned_to").only(*shown)
    escalations = (
        Escalation.objects.filter(closed_at__isnull=True)
        .select_related("case")
        .only(
            "reason",
            "opened_at",
            "sent_at",
            "provider_reference",
            "case",
            "case__reference",
            "case__guide_version",
        )
    )
    stale_cases = Case.objects.filter(_stale(stale_hours, now)).select_related("assigned_to").only(*shown)
    return Snapshot(
        now=counts.counted_at,
        stale_hours=stale_hours,
        states=counts.states,
        open_total=counts.open_total,
        unassigned=counts.unassigned,
        waiting_total=counts.waiting_total,
        escalations_total=counts.escalations_total,
        stale_total=counts.stale_total,
        waiting=tuple(
            WaitingRow(case, case.wait_deadline - now)
            for case in waiting.order_by("wait_deadline", "pk")[:rows]
            if case.wait_deadline is not None
        ),
        escalations=tuple(
            EscalationRow(e, _reason_title(e.case, e.reason), now - e.opened_at)
            for e in escalations.order_by("opened_at", "pk")[:rows]
        ),
        stale=tuple(
            StaleRow(case, now - case.updated_at) for case in stale_cases.order_by("updated_at", "pk")[:rows]
        ),
        loads=counts.loads,
    )


def _stale(stale_hours: int, now: datetime) -> Q:
    return Q(state__in=STALE_STATES, updated_at__lt=now - timedelta(hours=stale_hours))


def _state_url(state: CaseState) -> str:
    if state == CaseState.WAITING:
        return queue_url(Tab.WAITING, sort=Sort.DEADLINE)
    if state == CaseState.ESCALATED:
        return queue_url(Tab.ESCALATED)
    return queue_url(filters=Filters(states=(state,)))


def _reason_title(case: Case, reason: str) -> str:
    """An escalation's reason is an outcome's cause; show that outcome's title."""
    try:
        guide = get_guide(case.guide_version)
    except LookupError:
        return reason
    return next((n.title for n in guide.nodes if n.kind is Kind.OUTCOME and n.cause == reason), reason)


def _load(username: str, name: str, open_count: int, waiting_count: int) -> Load:
    """One person's row: open and waiting cases, each linking to the queue filtered to them."""
    return Load(
        name,
        Figure(OPEN_LABEL, open_count, queue_url(filters=Filters(states=OPEN_STATES, assignee=username))),
        Figure(
            WAITING_LABEL,
            waiting_count,
            queue_url(filters=Filters(states=(CaseState.WAITING,), assignee=username)),
        ),
    )


def reassign(case_ids: Iterable[int], *, assignee: User | None, actor: User) -> list[Case]:
    """Give several cases to one person (or to nobody): all of them or, on any refusal, none.

    Each case goes through `services.assign`, so it gets its row lock, its history event
    and its revision bump exactly as a single reassignment would; the outer transaction
    makes a refusal (a closed case) leave every other case untouched. Cases are locked in
    id order so two leads moving overlapping sets cannot deadlock.
    """
    with transaction.atomic():
        return [services.assign(pk, assignee=assignee, actor=actor) for pk in sorted(set(case_ids))]

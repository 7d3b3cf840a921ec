"""The team lead's live picture of open work, and the lead's bulk reassignment.

The overview answers four questions: what is open, what is about to hit its wait
deadline, what is stuck at customer service, and who carries how much. Each panel is
one query however many cases there are, so polling it every 30 seconds stays cheap,
and every number comes with the queue link that lists exactly the cases it counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from diagnosis.cases import access, services
from diagnosis.cases.queue import Filters, Sort, Tab
from diagnosis.guide import Kind, get_guide
from diagnosis.leads import charts
from diagnosis.models import OPEN_STATES, Case, CaseState, Escalation

PANEL_ROWS = 10
# A waiting case this close to its deadline is marked as due soon.
DEADLINE_SOON = timedelta(hours=12)
# "Untouched" is only a problem where the next move is ours: waiting cases have their
# own deadline panel and escalations their own age panel.
STALE_STATES = (CaseState.NEW, CaseState.IN_PROGRESS)


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
    label: str
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


def snapshot(stale_hours: int, now: datetime | None = None, rows: int = PANEL_ROWS) -> Snapshot:
    """Every figure of the live panels, in five queries."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=stale_hours)
    has_open_escalation = Q(pk__in=Escalation.objects.filter(closed_at__isnull=True).values("case_id"))
    stale = Q(state__in=STALE_STATES, updated_at__lt=cutoff)
    totals = Case.objects.filter(Q(state__in=OPEN_STATES) | has_open_escalation).aggregate(
        **{state.value: Count("pk", filter=Q(state=state)) for state in OPEN_STATES},
        open=Count("pk", filter=Q(state__in=OPEN_STATES)),
        unassigned=Count("pk", filter=Q(state__in=OPEN_STATES, assigned_to__isnull=True)),
        stale=Count("pk", filter=stale),
        escalations=Count("pk", filter=has_open_escalation),
    )
    waiting = Case.objects.filter(state=CaseState.WAITING).select_related("assigned_to")
    escalations = Escalation.objects.filter(closed_at__isnull=True).select_related("case__assigned_to")
    stale_cases = Case.objects.filter(stale).select_related("assigned_to").order_by("updated_at", "pk")
    return Snapshot(
        now=now,
        stale_hours=stale_hours,
        states=tuple(Figure(state.label, totals[state.value], _state_url(state)) for state in OPEN_STATES),
        open_total=Figure("Open", totals["open"], queue_url(filters=Filters(states=OPEN_STATES))),
        unassigned=Figure("Unassigned", totals["unassigned"], queue_url(Tab.UNASSIGNED)),
        waiting_total=Figure("Waiting", totals[CaseState.WAITING.value], _state_url(CaseState.WAITING)),
        escalations_total=Figure(
            "With an open escalation", totals["escalations"], queue_url(filters=Filters(open_escalation=True))
        ),
        stale_total=Figure(
            f"Untouched for {stale_hours} h or more",
            totals["stale"],
            queue_url(filters=Filters(states=STALE_STATES, untouched_hours=stale_hours)),
        ),
        waiting=tuple(
            WaitingRow(case, case.wait_deadline - now)
            for case in waiting.order_by("wait_deadline", "pk")[:rows]
            if case.wait_deadline is not None
        ),
        escalations=tuple(
            EscalationRow(e, _reason_title(e.case, e.reason), now - e.opened_at)
            for e in escalations.order_by("opened_at", "pk")[:rows]
        ),
        stale=tuple(StaleRow(case, now - case.updated_at) for case in stale_cases[:rows]),
        loads=tuple(_loads()),
    )


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


def _loads() -> list[Load]:
    """Open and waiting cases per person: everyone who works cases, plus anyone still holding one."""
    holders = Case.objects.filter(state__in=OPEN_STATES, assigned_to__isnull=False).values("assigned_to_id")
    people = (
        get_user_model()
        .objects.filter((access.works_cases() & Q(is_active=True)) | Q(pk__in=holders))
        .annotate(
            open_count=Count("assigned_cases", filter=Q(assigned_cases__state__in=OPEN_STATES)),
            waiting_count=Count("assigned_cases", filter=Q(assigned_cases__state=CaseState.WAITING)),
        )
        .order_by("-open_count", "first_name", "username")
    )
    return [
        Load(
            person.get_full_name() or person.get_username(),
            Figure(
                "Open",
                person.open_count,
                queue_url(filters=Filters(states=OPEN_STATES, assignee=person.get_username())),
            ),
            Figure(
                "Waiting",
                person.waiting_count,
                queue_url(filters=Filters(states=(CaseState.WAITING,), assignee=person.get_username())),
            ),
        )
        for person in people
    ]


def reassign(case_ids: Iterable[int], *, assignee: User | None, actor: User) -> list[Case]:
    """Give several cases to one person (or to nobody): all of them or, on any refusal, none.

    Each case goes through `services.assign`, so it gets its row lock, its history event
    and its revision bump exactly as a single reassignment would; the outer transaction
    makes a refusal (a closed case) leave every other case untouched. Cases are locked in
    id order so two leads moving overlapping sets cannot deadlock.
    """
    with transaction.atomic():
        return [services.assign(pk, assignee=assignee, actor=actor) for pk in sorted(set(case_ids))]

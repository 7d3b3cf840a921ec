"""Bare baselines: the least Django can do to serve the same rows or store the same report.

Each view runs one query (the step baseline: a locked read and one UPDATE; the busy case:
the case, its notes and its reports, three queries), renders a plain template and skips
the portal's domain code, so `page p50 / baseline p50` shows
what the portal adds on top of fetching its data. They are public (no session lookup),
which keeps them at exactly one query; `bench/run.py` serves them next to the portal.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from diagnosis.models import (
    OPEN_STATES,
    Case,
    CaseState,
    Event,
    EventKind,
    Message,
    StatusReport,
    token_digest,
)

LIST_ROWS = 25  # queue.PAGE_SIZE
DASHBOARD_ROWS = 30  # three panels of dashboard.PANEL_ROWS
INSERT_SQL = (
    "INSERT INTO diagnosis_statusreport (msg_id, status, status_desc, total, sequence, origin, updated_at, "
    "extend, to_number, org_code, channel, raw, received_at, dedupe_key) VALUES "
)
ROW_SQL = "(%s, %s, '', 1, 1, '', NULL, '', '', '', 'callback', %s, %s, %s)"


def _rows(request: HttpRequest, rows: list[Case]) -> HttpResponse:
    return render(request, "bench/rows.html", {"rows": rows})


@login_not_required
def case_rows(request: HttpRequest, kind: str) -> HttpResponse:
    """The queue's rows in one query: unassigned, one agent's ("mine"), or by number."""
    if kind == "unassigned":
        cases = Case.objects.filter(assigned_to__isnull=True, state__in=OPEN_STATES)
    elif kind == "mine":
        # The query string's id as sent: the database compares it as a number.
        user_id: Any = request.GET.get("user")
        cases = Case.objects.filter(assigned_to_id=user_id, state__in=OPEN_STATES)
    elif kind == "message":
        cases = Case.objects.filter(messages__msg_id=request.GET.get("msg_id", ""))
    elif kind == "after":
        return _rows(request, _after(request))
    else:
        cases = Case.objects.filter(recipients__e164=request.GET.get("number", ""))
    return _rows(request, list(cases.order_by("created_at", "pk")[:LIST_ROWS]))


def _after(request: HttpRequest) -> list[Case]:
    """A keyset page of All, oldest first: the LIST_ROWS cases after (created, id), one query."""
    created = datetime.fromisoformat(request.GET.get("created", ""))
    after_id = int(request.GET.get("id", "0"))
    return list(
        Case.objects.raw(
            "SELECT * FROM diagnosis_case WHERE (created_at, id) > (%s, %s) ORDER BY created_at, id LIMIT %s",
            [created, after_id, LIST_ROWS],
        )
    )


@login_not_required
def case_row(request: HttpRequest, reference: str) -> HttpResponse:
    return _rows(request, list(Case.objects.filter(reference=reference)[:1]))


@login_not_required
def case_full(request: HttpRequest, reference: str) -> HttpResponse:
    """The case, its notes and the reports for its message ids: three queries, one plain template."""
    case = Case.objects.get(reference=reference)
    notes = list(Event.objects.filter(case=case, kind=EventKind.NOTE).order_by("at", "pk"))
    reports = list(
        StatusReport.objects.filter(msg_id__in=Message.objects.filter(case=case).values("msg_id")).order_by(
            "received_at"
        )
    )
    return render(request, "bench/case.html", {"case": case, "notes": notes, "reports": reports})


@login_not_required
def tracking_row(request: HttpRequest, token: str) -> HttpResponse:
    return _rows(request, list(Case.objects.filter(tracking_links__token_hash=token_digest(token))[:1]))


@login_not_required
def dashboard_rows(request: HttpRequest) -> HttpResponse:
    waiting = Case.objects.filter(state=CaseState.WAITING).order_by("wait_deadline", "pk")
    return _rows(request, list(waiting[:DASHBOARD_ROWS]))


@login_not_required
def step_update(request: HttpRequest, reference: str) -> HttpResponse:
    """A locked read of one case and one UPDATE, as the least a step submission must do."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(reference=reference)
        Case.objects.filter(pk=case.pk).update(revision=F("revision") + 1)
    return _rows(request, [case])


@csrf_exempt
@login_not_required
def insert_one(request: HttpRequest) -> HttpResponse:
    """One INSERT of the posted report, no validation, no dedupe lookup, no task."""
    msg_id, status = request.POST.get("smsMsgId", ""), request.POST.get("status", "")
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_SQL + ROW_SQL,
            [msg_id, status, json.dumps(request.POST.dict()), timezone.now(), f"{msg_id}|1|{status}|-"],
        )
    return HttpResponse(status=200)


@csrf_exempt
@login_not_required
def insert_batch(request: HttpRequest) -> HttpResponse:
    """One multi-row INSERT of a JSON batch."""
    items = json.loads(request.body)["statusReportList"]
    now = timezone.now()
    params: list[str | datetime] = []
    for item in items:
        msg_id, status = item["smsMsgId"], item["status"]
        params += [msg_id, status, json.dumps(item), now, f"{msg_id}|1|{status}|-"]
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SQL + ", ".join([ROW_SQL] * len(items)), params)
    return HttpResponse(status=200)

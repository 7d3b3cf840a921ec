from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from portal import health, roles
from portal.home_panels import panels
from portal.http import PublicHttpRequest


@login_not_required
@require_safe
@vary_on_headers("HX-Request")
def home(request: PublicHttpRequest) -> HttpResponse:
    """Public landing for visitors; the signed-in staff member's start page."""
    if not request.user.is_authenticated:
        return render(request, "portal/landing.html")
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "portal/home.html#background-status", _background_context())
    context = {
        "is_agent": request.user.has_perm(roles.WORK_CASES),
        "is_lead": request.user.has_perm(roles.REVIEW_TEAM),
        "panels": panels(request),
        **_background_context(),
    }
    return render(request, "portal/home.html", context)


def _background_context() -> dict[str, object]:
    stamps = health.heartbeat_stamps()
    worker, beat = health.background_checks(stamps, health.running_beats())
    return {"worker": worker, "beat": beat, "worker_at": stamps.get("worker"), "beat_at": stamps.get("beat")}


@login_not_required
@never_cache
@require_safe
def healthz(request: PublicHttpRequest) -> JsonResponse:
    """Liveness for load balancers: 503 only when the database is down."""
    report, serving = health.run_checks()
    return JsonResponse(report, status=200 if serving else 503)

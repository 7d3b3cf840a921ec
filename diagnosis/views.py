from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from portal import roles
from portal.http import AuthenticatedHttpRequest


@require_safe
@permission_required(roles.WORK_CASES, raise_exception=True)
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "diagnosis/case_list.html")


@require_safe
@permission_required(roles.REVIEW_TEAM, raise_exception=True)
def lead_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "diagnosis/lead_dashboard.html")

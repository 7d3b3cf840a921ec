"""Team lead pages: the overview, the exports, bulk reassignment, closing, reopening and erasing.

Views stay thin: read the request, call the domain module (dashboard, trends,
exports, services), render. Lead pages need `portal.review_team`; reassigning needs
`portal.assign_cases`, as assigning one case on its page does; the queue export is
for everyone who works cases. Anonymous visitors never get here: the login-required
middleware sends them to the login page first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from diagnosis.cases import access, erasure, queue, services
from diagnosis.leads import dashboard, exports, trends
from diagnosis.models import Case
from diagnosis.workspace.forms import EraseForm, PeriodForm, QueueForm, ReassignForm
from portal import roles
from portal.http import AuthenticatedHttpRequest

review_team = permission_required(roles.REVIEW_TEAM, raise_exception=True)
assign_cases = permission_required(roles.ASSIGN_CASES, raise_exception=True)
work_cases = permission_required(roles.WORK_CASES, raise_exception=True)

# The dashboard's parts an htmx request can ask for by targeting them.
LIVE_PANELS = "live-panels"
TRENDS = "trends"


@require_safe
@review_team
@vary_on_headers("HX-Request")
def lead_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The live panels, which poll; the trends follow the period and load after the page.

    The first response carries only the live panels: the trends section asks for itself
    once the page has loaded (`hx-trigger="load"`), and is read from the precomputed
    summaries, so nothing on this path reads the reports.
    """
    part = request.htmx.target if request.htmx and not request.htmx.history_restore_request else None
    part = part if part in (LIVE_PANELS, TRENDS) else None
    days = PeriodForm(request.GET).value()
    context: dict[str, object] = {
        "days": days,
        "periods": trends.PERIOD_DAYS,
        "spike_factor": trends.SPIKE_FACTOR,
        "spike_min_cases": trends.SPIKE_MIN_CASES,
    }
    if part != TRENDS:
        context["live"] = dashboard.snapshot(settings.LEAD_STALE_AFTER_HOURS)
    if part == TRENDS:
        summary = trends.cached_summary(days)
        context.update(summary=summary, charts=trends.summary_charts(summary) if summary else None)
    template = "diagnosis/leads/dashboard.html" + (f"#{part}" if part else "")
    return render(request, template, context)


@require_safe
@review_team
def causes_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    period = trends.Period.ending(PeriodForm(request.GET).value())
    filename = f"causes-{period.days}-days-to-{timezone.localdate(period.end):%Y-%m-%d}.csv"
    return exports.stream_csv(filename, exports.causes_header(), exports.causes_rows(period))


@require_safe
@work_cases
def queue_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    """The queue as filtered on screen (same tab, search and order), every page of it."""
    chosen, text, sort = QueueForm(request.GET).values()
    search = queue.parse_search(text, settings.PHONE_REGION or None)
    tab = queue.scope(chosen, search)
    rows = exports.queue_rows(queue.cases(tab, request.user, search, sort))
    return exports.stream_csv(f"cases-{tab}.csv", exports.queue_header(), rows)


@require_http_methods(["GET", "POST"])
@assign_cases
def reassign(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: the cases ticked in the queue and a choice of person. POST: move them all, or none."""
    staff = access.agents()
    if request.method == "GET":
        initial = {"case": request.GET.getlist("case"), "next": request.GET.get("next", "")}
        form = ReassignForm(staff=staff, initial=initial)
    else:
        form = ReassignForm(request.POST, staff=staff)
        if form.is_valid():
            assignee = form.cleaned_data["assignee"]
            try:
                moved = dashboard.reassign(
                    [case.pk for case in form.cleaned_data["case"]], assignee=assignee, actor=request.user
                )
            except services.CaseError as exc:
                form.add_error(None, str(exc))
            else:
                if assignee:
                    done = ngettext(
                        "%(n)d case now assigned to %(who)s.",
                        "%(n)d cases now assigned to %(who)s.",
                        len(moved),
                    ) % {"n": len(moved), "who": assignee.get_full_name() or assignee.get_username()}
                else:
                    done = ngettext(
                        "%(n)d case now assigned to nobody.",
                        "%(n)d cases now assigned to nobody.",
                        len(moved),
                    ) % {"n": len(moved)}
                messages.success(request, done)
                return redirect(_back(request, form.cleaned_data["next"]))
    context = {"form": form, "cases": form.chosen(), "back": _back(request, form["next"].value() or "")}
    return render(request, "diagnosis/leads/reassign.html", context)


@require_POST
@review_team
def case_close(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    # Translators: flash message after a lead closes a case.
    return _transition(request, reference, services.close_case, _("%(reference)s closed."))


@require_POST
@review_team
def case_reopen(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    # Translators: flash message after a lead reopens a case.
    return _transition(request, reference, services.reopen_case, _("%(reference)s reopened."))


@require_http_methods(["GET", "POST"])
@review_team
@vary_on_headers("HX-Request")
def case_erase(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """GET: the confirmation (alone for htmx, swapped into the case page). POST: erase, back to the case."""
    case = get_object_or_404(Case, reference=reference)
    form = EraseForm(request.POST or None, expected=case.reference)
    if request.method == "POST" and form.is_valid():
        if erasure.erase_case(case.pk, actor=request.user, reason=erasure.BY_REQUEST):
            messages.success(
                request,
                _("The customer's personal data in %(reference)s is erased.") % {"reference": case.reference},
            )
        else:
            messages.info(
                request,
                _("%(reference)s was already erased; nothing changed.") % {"reference": case.reference},
            )
        url = reverse("diagnosis:case-detail", args=[case.reference])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    partial = request.htmx and not request.htmx.history_restore_request
    template = "diagnosis/leads/erase.html" + ("#erase-form" if partial else "")
    return render(request, template, {"case": case, "form": form})


def _transition(
    request: AuthenticatedHttpRequest, reference: str, transition: Callable[..., Case], done: str
) -> HttpResponse:
    case = get_object_or_404(Case, reference=reference)
    try:
        transition(case.pk, actor=request.user)
    except services.CaseError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done % {"reference": case.reference})
    default = reverse("diagnosis:case-detail", args=[case.reference])
    return redirect(_back(request, request.POST.get("next", ""), default))


def _back(request: AuthenticatedHttpRequest, target: str, default: str = "") -> str:
    """Where to return after an action: the page it came from, if that is on this site."""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and safe else default or dashboard.queue_url()

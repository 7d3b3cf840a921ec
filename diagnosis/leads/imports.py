"""The leads' Send Details import pages: the upload, and each import's progress and result.

The upload only checks the file's header and stores it (`cases.send_details_imports`);
a worker imports it. The import's page polls its own progress partial until the
import has ended, then shows the result.
"""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from diagnosis.cases import send_details_imports
from diagnosis.delivery import send_details
from diagnosis.models import SendDetailsImport
from diagnosis.workspace.forms import SendDetailsUploadForm
from portal import roles
from portal.http import AuthenticatedHttpRequest

review_team = permission_required(roles.REVIEW_TEAM, raise_exception=True)

PAGE = "diagnosis/send_details_import.html"
# htmx stops polling on this status, and still swaps the finished result in.
STOP_POLLING = 286


@require_http_methods(["GET", "POST"])
@review_team
@vary_on_headers("HX-Request")
def upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET: the form and the recent imports. POST: store the file and go to its import's page."""
    form = SendDetailsUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = send_details_imports.start_import(
                form.cleaned_data["file"],
                encoding=form.cleaned_data["encoding"],
                timezone_name=form.cleaned_data["timezone"],
                user=request.user,
            )
        except send_details.SendDetailsError as exc:
            form.add_error("file", str(exc))
        else:
            url = reverse("diagnosis:send-details-import-detail", args=[job.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if _partial(request):
        return render(request, PAGE + "#upload-form", {"form": form})
    return render(request, PAGE, {"form": form, "recent": send_details_imports.recent()})


@require_safe
@review_team
@vary_on_headers("HX-Request")
def detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The import's progress while it runs, then its result; htmx polls the progress part alone."""
    job = get_object_or_404(SendDetailsImport.objects.select_related("uploaded_by"), pk=pk)
    context = {
        "job": job,
        "bar": send_details_imports.progress_bar(job),
        "cases": send_details_imports.resumed_cases(job) if job.finished else [],
        "more_cases": max(len(job.resumed) - send_details_imports.SHOWN_CASES, 0),
    }
    if _partial(request):
        response = render(request, "diagnosis/partials/send_details_job.html", context)
        if job.finished:
            response.status_code = STOP_POLLING
        return response
    context.update(form=SendDetailsUploadForm(), recent=send_details_imports.recent())
    return render(request, PAGE, context)


def _partial(request: AuthenticatedHttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)

"""The "anything new?" checks that open pages poll (diagnosis.cases.live).

Each answers 204 (nothing to swap) while nothing changed. A change answers with the poller's
new content: the new token, and a line a screen reader announces. On the case page it also
sends case-changed, which makes the page's regions fetch themselves again (static/js/portal.js).
A closed case answers 286, which tells htmx to stop polling.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_htmx.http import trigger_client_event

from diagnosis.cases import live
from diagnosis.workspace.home import unread_notifications
from portal import roles
from portal.http import AuthenticatedHttpRequest

# htmx stops polling on this status (and swaps the answer as for 200).
STOP_POLLING = 286
LIVE_REGION = "case-live"


def poll_context(**values: object) -> dict[str, object]:
    return {"live_seconds": settings.LIVE_UPDATE_SECONDS, "now": timezone.now(), **values}


@never_cache
@require_safe
@permission_required(roles.WORK_CASES, raise_exception=True)
def case_changes(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Whether the case changed since the page's token (?since=); ?quiet=1 only renews the token.

    The page asks quietly after the agent's own change, whose answer already refreshed it.
    """
    stamp = live.case_stamp(reference)
    if stamp is None:
        raise Http404("No such case.")
    since = request.GET.get("since", "")
    status = 200 if stamp.open else STOP_POLLING
    if since == stamp.token:
        if stamp.open:
            return HttpResponse(status=204)
        return render(request, "diagnosis/partials/case_live.html", poll_context(live=stamp), status=status)
    quiet = request.GET.get("quiet") == "1"
    announcement = "" if quiet else stamp.what_changed(since)
    context = poll_context(live=stamp, announcement=announcement)
    response = render(request, "diagnosis/partials/case_live.html", context, status=status)
    if not quiet:
        trigger_client_event(response, "case-changed", {"region": LIVE_REGION, "live": True})
    return response


@never_cache
@require_safe
@permission_required(roles.WORK_CASES, raise_exception=True)
def notifications_changes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The home page's notifications list again, when unread ones came or went since ?since=."""
    token = live.notifications_token(request.user.pk)
    if request.GET.get("since", "") == token:
        return HttpResponse(status=204)
    context = poll_context(
        notifications=unread_notifications(request.user.pk), notifications_token=token, announce=True
    )
    return render(request, "diagnosis/partials/home_notifications_list.html", context)

"""Sending a request elsewhere before it reaches its view (a code owed, a session over)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_htmx.http import HttpResponseClientRedirect


def send_to(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect to `url`, remembering a page to come back to.

    An htmx request gets HX-Redirect so the whole page moves instead of a fragment being
    swapped in; a plain GET passes its own address on as `next`.
    """
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)

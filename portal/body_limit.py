"""Refuse a request body over the size limit before anything reads it.

Without this, a 40 MB upload to a 5 MB field is received in full (Django streams
it to a temporary file) and only then refused. The declared Content-Length is
enough to answer at once: Django never reads past it, and a body sent without one
(chunked) is read as empty. The proxy in front should refuse such bodies even
earlier (deploy/README.md, `client_max_body_size`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


def body_limit(path: str) -> int:
    """The largest body accepted for the path: the Send Details import takes large files."""
    if path.startswith(tuple(settings.IMPORT_BODY_PATHS)):
        return int(settings.MAX_IMPORT_BODY_BYTES)
    return int(settings.MAX_REQUEST_BODY_BYTES)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.path_info)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django reads a body of unknown length as empty
        if declared > limit:
            # This runs before LocaleMiddleware, so the language is picked here.
            with translation.override(translation.get_language_from_request(request)):
                text = translation.gettext("This request is too large: at most %(size)s can be sent here.")
            return HttpResponse(
                text % {"size": _megabytes(limit)} + "\n",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

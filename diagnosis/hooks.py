"""The status-report callback: `POST /hooks/sms-status/<token>/`.

The platform pushes one report as a form, or up to 50 as JSON
(`{"statusReportList": [...]}`), to whatever URL the sender gave. It does not
authenticate by default, so the secret token in the URL says which configured
source it is; a source with a push AK/SK also has every push's signature checked.
The answer is quick and short: store the raw reports once each, then let Celery
match them to cases after commit. Bad input is a 4xx with the reason, never a 500;
nor is a broker that is down, once the reports are stored (see `delivery.match_after_commit`).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import parse_qsl

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from diagnosis import delivery, ingest, signing
from diagnosis.models import RejectedPayload, ReportChannel, StatusSource

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024
MAX_BATCH = 50
LAST_REPORT_RESOLUTION = timedelta(minutes=1)


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def _read_body(request: HttpRequest) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Rejected(400, "Content-Length is not a number") from None
    if declared > MAX_BODY_BYTES:
        raise Rejected(413, f"body is larger than {MAX_BODY_BYTES} bytes")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"body is larger than {MAX_BODY_BYTES} bytes")
    return body


def _items(content_type: str, body: bytes) -> list[dict[str, object]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "body is not UTF-8") from None
    if content_type == "application/json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Rejected(400, f"body is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        reports = data.get("statusReportList") if isinstance(data, dict) else None
        if not isinstance(reports, list) or not reports:
            raise Rejected(400, "a JSON push needs a non-empty statusReportList array")
        if len(reports) > MAX_BATCH:
            raise Rejected(
                400, f"statusReportList holds {len(reports)} reports; at most {MAX_BATCH} are accepted"
            )
        if not all(isinstance(item, dict) for item in reports):
            raise Rejected(400, "every statusReportList entry must be an object")
        return reports
    if content_type in ("application/x-www-form-urlencoded", ""):
        pairs = parse_qsl(text, keep_blank_values=True)
        if not pairs:
            raise Rejected(400, "the form body is empty")
        return [dict(pairs)]
    raise Rejected(415, f"unsupported content type {content_type!r}; expected a form or JSON")


def _verify(source: StatusSource, request: HttpRequest, body: bytes) -> None:
    if not source.signs_pushes:
        return
    try:
        signing.verify(
            access_key=source.push_access_key,
            secret_key=source.push_secret_key,
            method=request.method or "POST",
            path=request.path,
            query=request.META.get("QUERY_STRING", ""),
            headers=dict(request.headers),
            body=body,
        )
    except signing.SignatureError as exc:
        raise Rejected(401, f"signature rejected: {exc}") from None


@csrf_exempt
@login_not_required
@never_cache
@require_POST
def status_report(request: HttpRequest, token: str) -> HttpResponse:
    source = StatusSource.objects.filter(token=token, revoked_at__isnull=True).first()
    if source is None:
        # Logged without the body: a wrong token is noise or probing, not data to keep.
        logger.warning(
            "Status report for an unknown or revoked token from %s", request.META.get("REMOTE_ADDR")
        )
        return HttpResponse("unknown callback address\n", status=404, content_type="text/plain")
    body = b""
    try:
        body = _read_body(request)
        _verify(source, request, body)
        now = timezone.now()
        reports = []
        for index, item in enumerate(_items(request.content_type or "", body), start=1):
            try:
                reports.append(ingest.build_report(item, ReportChannel.CALLBACK, received_at=now))
            except ingest.ReportError as exc:
                where = (
                    f"report {index}: "
                    if len(reports) or index > 1 or request.content_type == "application/json"
                    else ""
                )
                raise Rejected(400, f"{where}{exc}") from None
        with transaction.atomic():
            result = ingest.store(reports)
            # A source's last report time is for people, to the minute: skip the write in between.
            if source.last_report_at is None or now - source.last_report_at > LAST_REPORT_RESOLUTION:
                StatusSource.objects.filter(pk=source.pk).update(last_report_at=now)
            delivery.match_after_commit(result)
    except Rejected as exc:
        if exc.status != 401:
            _keep_rejected(source, request, body, exc.reason)
        return HttpResponse(exc.reason + "\n", status=exc.status, content_type="text/plain")
    return HttpResponse(status=200)


def _keep_rejected(source: StatusSource, request: HttpRequest, body: bytes, reason: str) -> None:
    RejectedPayload.objects.create(
        source=source,
        reason=reason[:500],
        content_type=(request.META.get("CONTENT_TYPE") or "")[:200],
        body=body[:MAX_BODY_BYTES].decode("utf-8", errors="replace"),
        remote_addr=(request.META.get("REMOTE_ADDR") or "")[:64],
    )

"""The status-report callback: `POST /hooks/sms-status/<token>/`.

The platform pushes one report as a form, or up to 50 as JSON
(`{"statusReportList": [...]}`), to whatever URL the sender gave. It does not
authenticate by default, so the secret token in the URL says which configured
source it is; a source with a push AK/SK also has every push's signature checked.
The answer is quick and short: store the raw reports once each, unmatched, in one
statement; beat's frequent matcher (`cases.matching.match_unmatched`) resumes the cases
they concern within seconds. Bad input is a 4xx with the reason, never a 500, and the
callback never touches the broker, so one that is down changes nothing here.

A batch is read report by report: the readable ones are stored, and each one that
cannot be used (no message id or status, not an object) is kept as a `RejectedPayload`
naming its place in the batch and why. The answer is 200 when at least one report was
stored. When none was, it is 400 with the reasons: the platform ignores the answer
anyway, and a person testing their setup learns that nothing was stored.
"""

from __future__ import annotations

import codecs
import json
import logging
import math
from datetime import timedelta
from urllib.parse import parse_qsl

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from diagnosis.delivery import ingest, known_sources
from diagnosis.huawei import signing
from diagnosis.models import RejectedPayload, ReportChannel, StatusSource
from portal.client_address import client_ip

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024
MAX_BATCH = 50
MAX_TOKEN = 64
LAST_REPORT_RESOLUTION = timedelta(minutes=1)
FORM_TYPES = {"application/x-www-form-urlencoded", ""}
JSON_TYPES = {"application/json", "text/json"}
_ASCII_SAMPLE = "smsMsgId=a-1&status=%3A+Z"
# Python's escape codecs are no charset a body is sent in, and they warn rather than fail on bad input.
ESCAPE_CODECS = {"unicode-escape", "raw-unicode-escape"}
CUT_MARK = "\n[cut here: the rest of the body is not kept]"


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        # The reason echoes pieces of the body; it is answered and stored, so it must be safe text.
        self.status, self.reason = status, ingest.clean_text(reason)[:500]


def _read_body(request: HttpRequest) -> bytes:
    """Up to one byte over the limit: enough to tell a body is too large, and to keep its start."""
    try:
        return request.read(MAX_BODY_BYTES + 1)
    except OSError:  # the client went away mid-body (Django's UnreadablePostError is an OSError)
        raise Rejected(400, "the body could not be read to its end") from None


def _check_size(request: HttpRequest, body: bytes) -> None:
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        raise Rejected(400, "Content-Length is not a number") from None
    if declared > MAX_BODY_BYTES or len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"body is larger than {MAX_BODY_BYTES} bytes")


def _decode(request: HttpRequest, body: bytes) -> tuple[str, str]:
    """The body as text and the codec it was read with: the declared charset, UTF-8 when none.

    Undecodable bytes are kept as surrogate escapes rather than refusing the body: in a field
    that matters they refuse that report, anywhere else they are stored escaped.
    """
    # content_params is only None on a bare HttpRequest(); a real request always parses it.
    charset = (request.content_params or {}).get("charset", "").strip().strip("\"'") or "utf-8"
    try:
        codec = codecs.lookup(charset).name
    except (LookupError, ValueError):
        raise Rejected(415, f"unsupported charset {charset[:40]!r}") from None
    if codec in ESCAPE_CODECS:
        raise Rejected(415, f"unsupported charset {charset[:40]!r}")
    try:
        # For UTF-8, a leading byte order mark is not part of the body.
        return body.decode("utf-8-sig" if codec == "utf-8" else codec, "surrogateescape"), codec
    except LookupError:  # a codec such as zlib or rot13 that does not turn bytes into text
        raise Rejected(415, f"unsupported charset {charset[:40]!r}") from None
    except (UnicodeError, ValueError):
        raise Rejected(400, f"body is not valid {charset[:40]}") from None


def _extends_ascii(codec: str) -> bool:
    try:
        return _ASCII_SAMPLE.encode(codec) == _ASCII_SAMPLE.encode("ascii")
    except (LookupError, UnicodeError, ValueError):
        return False


def _json_int(text: str) -> int | str:
    # Beyond this the digits are kept as text: Python refuses to read back numbers past 4300 digits.
    return int(text) if len(text) <= ingest.MAX_INT_DIGITS else text


def _json_float(text: str) -> float | str:
    value = float(text)
    return value if math.isfinite(value) else text  # "1e999" stays as sent, not Infinity


def _parse_json(text: str) -> object:
    try:
        # NaN and Infinity stay the words they were sent as: jsonb has no such numbers. Not strict:
        # a raw control character inside a string is read (and escaped later), not refused.
        return json.loads(
            text, parse_int=_json_int, parse_float=_json_float, parse_constant=str, strict=False
        )
    except json.JSONDecodeError as exc:
        raise Rejected(400, f"body is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise Rejected(400, "body is JSON nested too deeply to read") from None
    except ValueError as exc:
        raise Rejected(400, f"body is not valid JSON: {exc}") from None


def _is_json(content_type: str) -> bool:
    return content_type in JSON_TYPES or content_type.endswith("+json")


def _items(request: HttpRequest, body: bytes) -> list[object]:
    content_type = request.content_type or ""
    if not _is_json(content_type) and content_type not in FORM_TYPES:
        raise Rejected(415, f"unsupported content type {content_type[:80]!r}; expected a form or JSON")
    text, codec = _decode(request, body)
    if _is_json(content_type):
        data = _parse_json(text)
        reports = data.get("statusReportList") if isinstance(data, dict) else None
        if not isinstance(reports, list) or not reports:
            raise Rejected(400, "a JSON push needs a non-empty statusReportList array")
        if len(reports) > MAX_BATCH:
            raise Rejected(
                400, f"statusReportList holds {len(reports)} reports; at most {MAX_BATCH} are accepted"
            )
        return reports
    # %-escapes are bytes in the body's charset when that extends ASCII (latin-1, GBK), else UTF-8
    # (a UTF-16 form still escapes byte by byte); ones that do not decode are kept escaped, as above.
    escapes = codec if _extends_ascii(codec) else "utf-8"
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding=escapes, errors="surrogateescape")
    except (LookupError, UnicodeError, ValueError):
        raise Rejected(400, f"the form body's %-escapes are not valid {escapes}") from None
    if not pairs:
        raise Rejected(400, "the form body is empty")
    return [dict(pairs)]


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
    # A token that cannot be one (a NUL from %00, say) must not reach the query: PostgreSQL refuses NULs.
    unusable = len(token) > MAX_TOKEN or not token.isprintable()
    source = None if unusable else known_sources.active_source(token)
    if source is None:
        # Logged without the body: a wrong token is noise or probing, not data to keep.
        logger.warning("Status report for an unknown or revoked token from %s", client_ip(request))
        return HttpResponse("unknown callback address\n", status=404, content_type="text/plain")
    body = b""
    try:
        body = _read_body(request)
        _check_size(request, body)
        _verify(source, request, body)
        now = timezone.now()
        items = _items(request, body)
        reports, unreadable = ingest.read_batch(items, ReportChannel.CALLBACK, received_at=now)
        if not reports and not _is_json(request.content_type or ""):
            raise Rejected(400, unreadable[0].reason)  # the one report of a form: kept whole, as sent
        if unreadable:
            # The refused items and the readable reports of one batch are kept together or not at all.
            with transaction.atomic():
                refused = _keep_unreadable(source, request, unreadable, len(items))
                if reports:
                    ingest.store(reports)
            if not reports:
                return _answer("".join(row.reason + "\n" for row in refused), 400)
        else:
            ingest.store(reports)  # one statement: no transaction needed around it
        # A source's last report time is for people, to the minute: skip the write in between.
        if source.last_report_at is None or now - source.last_report_at > LAST_REPORT_RESOLUTION:
            StatusSource.objects.filter(pk=source.pk).update(last_report_at=now)
            source.last_report_at = now  # the remembered source too (known_sources)
    except Rejected as exc:
        if exc.status != 401:
            _keep_rejected(source, request, body, exc.reason)
        return _answer(exc.reason + "\n", exc.status)
    return HttpResponse(status=200)


def _answer(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain")


def readable_body(body: bytes) -> str:
    """A refused body as it is kept: UTF-8 text as it came, anything PostgreSQL cannot hold escaped.

    Undecodable bytes read `\\xff`, NULs and other control characters `\\x00` (see
    `ingest.clean_text`), so people see what was sent; the text is cut at the size limit.
    """
    text = ingest.clean_text(body[:MAX_BODY_BYTES].decode("utf-8", "surrogateescape"))
    if len(body) > MAX_BODY_BYTES or len(text) > MAX_BODY_BYTES:
        text = text[:MAX_BODY_BYTES] + CUT_MARK
    return text


def _rejected(source: StatusSource, request: HttpRequest, body: str, reason: str) -> RejectedPayload:
    return RejectedPayload(
        source=source,
        reason=ingest.clean_text(reason)[:500],
        content_type=ingest.clean_text(request.headers.get("content-type") or "")[:200],
        body=body,
        remote_addr=ingest.clean_text(client_ip(request))[:64],
    )


def _keep_rejected(source: StatusSource, request: HttpRequest, body: bytes, reason: str) -> None:
    _rejected(source, request, readable_body(body), reason).save()


def _keep_unreadable(
    source: StatusSource, request: HttpRequest, unreadable: list[ingest.Unreadable], count: int
) -> list[RejectedPayload]:
    """One kept row per unusable report of a JSON batch: the report as sent, its place and why."""
    rows = []
    for item in unreadable:
        row = _rejected(
            source,
            request,
            json.dumps(ingest.clean_json(item.item), ensure_ascii=False)[:MAX_BODY_BYTES],
            f"report {item.index} of {count}: {item.reason}",
        )
        row.save()  # one by one, as every kept payload is: rare, and its save signals still fire
        rows.append(row)
    return rows

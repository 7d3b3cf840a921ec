"""A small client for the Huawei Cloud Message & SMS send APIs (X-WSSE authentication).

Two endpoints are covered (see shared/domain/send-api.md):

* ``POST /sms/batchSendSms/v1`` – the same content to up to 500 numbers, form encoded, with
  ``templateParas`` as a *string* holding a JSON array;
* ``POST /sms/batchSendDiffSms/v1`` – different templates per group of numbers, JSON, with
  ``templateParas`` as a real array.

Only the standard library is used. ``000000`` in the answer only means "accepted"; whether the
SMS was delivered is known from the status report pushed later to ``statusCallback``.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _

SEND_PATH = "/sms/batchSendSms/v1"
BATCH_SEND_PATH = "/sms/batchSendDiffSms/v1"
AUTHORIZATION = 'WSSE realm="SDP",profile="UsernameToken",type="Appkey"'
CREATED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SUCCESS = "000000"

MAX_NUMBERS = 500
MAX_NUMBER_LENGTH = 21
MAX_TEMPLATE_ID_LENGTH = 32
MAX_EXTEND_BYTES = 128
MAX_SIGNATURE_LENGTH = 32

_NUMBER = re.compile(r"\+?[0-9]+")
_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^\s,"]*))')


class SmsApiError(Exception):
    """The platform refused the request, answered garbage, or could not be reached.

    ``code`` is the platform's code (``E000101``, ``E000510`` ...), ``"network"`` when no HTTP
    answer came back (``http_status`` is then 0), or ``"http"`` when the answer had no JSON body.
    ``results`` holds the per-number entries when the platform sent some (e.g. with ``E000510``).
    """

    def __init__(
        self, code: str, description: str, http_status: int, results: list[SentMessage] | None = None
    ) -> None:
        super().__init__(code, description, http_status)
        self.code = code
        self.description = description
        self.http_status = http_status
        self.results = results or []

    def __str__(self) -> str:
        where = f"HTTP {self.http_status}" if self.http_status else "no HTTP answer"
        return f"{self.code}: {self.description} ({where})"


class SmsNotConfigured(Exception):
    """``SMS_API_URL``, ``SMS_APP_KEY`` or ``SMS_APP_SECRET`` is empty."""


@dataclass(frozen=True)
class SentMessage:
    """One ``result[]`` entry: the id of the SMS for one number and its per-number status."""

    sms_msg_id: str
    to: str
    status: str
    created: str

    @property
    def accepted(self) -> bool:
        return self.status == SUCCESS


@dataclass(frozen=True)
class SendResponse:
    code: str
    description: str
    results: list[SentMessage] = field(default_factory=list)


@dataclass(frozen=True)
class SmsContent:
    """One group of the Batch SMS Sending API: numbers that get the same template and values."""

    to: list[str]
    template_id: str
    template_paras: list[str] | None = None
    signature: str = ""


# X-WSSE -------------------------------------------------------------------------------------


def password_digest(nonce: str, created: str, app_secret: str) -> str:
    """Base64 of the lower-case hex SHA-256 of ``nonce + created + app_secret``.

    This is the variant whose documented example decodes to hex text (88 characters).
    """
    hex_digest = hashlib.sha256((nonce + created + app_secret).encode("utf-8")).hexdigest()
    return base64.b64encode(hex_digest.encode("ascii")).decode("ascii")


def raw_password_digest(nonce: str, created: str, app_secret: str) -> str:
    """Base64 of the raw 32 SHA-256 bytes (44 characters): the variant of some Huawei samples."""
    raw = hashlib.sha256((nonce + created + app_secret).encode("utf-8")).digest()
    return base64.b64encode(raw).decode("ascii")


def make_nonce() -> str:
    """32 random upper-case hex characters (letters and digits only, as the platform asks)."""
    return secrets.token_hex(16).upper()


def utc_timestamp(when: datetime | None = None) -> str:
    """``when`` (default: now) as UTC ``%Y-%m-%dT%H:%M:%SZ``."""
    when = datetime.now(UTC) if when is None else when.astimezone(UTC)
    return when.strftime(CREATED_FORMAT)


def wsse_headers(
    app_key: str, app_secret: str, *, nonce: str | None = None, created: str | None = None
) -> dict[str, str]:
    """The ``Authorization`` and ``X-WSSE`` headers for one request."""
    nonce = make_nonce() if nonce is None else nonce
    created = utc_timestamp() if created is None else created
    digest = password_digest(nonce, created, app_secret)
    return {
        "Authorization": AUTHORIZATION,
        "X-WSSE": (
            f'UsernameToken Username="{app_key}",PasswordDigest="{digest}",'
            f'Nonce="{nonce}",Created="{created}"'
        ),
    }


def parse_wsse(header: str) -> dict[str, str]:
    """The ``name="value"`` pairs of an ``X-WSSE`` (or ``Authorization: WSSE``) header.

    The leading scheme word (``UsernameToken`` / ``WSSE``) is skipped; names keep their spelling.
    Unquoted values are accepted too.
    """
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM.finditer(header)}


# Validation ---------------------------------------------------------------------------------


def validate_numbers(numbers: Iterable[str], *, what: str = "to") -> list[str]:
    if isinstance(numbers, str):
        raise ValueError(f"{what}: give a list of numbers, not one string")
    numbers = list(numbers)
    if not numbers:
        # Translators: "what" is the API field name (to), kept as is.
        raise ValueError(_("%(what)s: give at least one recipient number") % {"what": what})
    for number in numbers:
        if not isinstance(number, str) or not _NUMBER.fullmatch(number):
            raise ValueError(
                _(
                    "%(what)s: %(number)s is not a phone number in global format (only '+' and digits, "
                    "e.g. +4915123456789)"
                )
                % {"what": what, "number": repr(number)}
            )
        if len(number) > MAX_NUMBER_LENGTH:
            raise ValueError(
                _("%(what)s: %(number)s is longer than %(max)d characters")
                % {"what": what, "number": repr(number), "max": MAX_NUMBER_LENGTH}
            )
    return numbers


def _validate_total(count: int) -> None:
    if count > MAX_NUMBERS:
        raise ValueError(f"at most {MAX_NUMBERS} numbers per request (got {count}); split the batch")


def validate_template_id(template_id: str) -> None:
    if not isinstance(template_id, str) or not 1 <= len(template_id) <= MAX_TEMPLATE_ID_LENGTH:
        raise ValueError(f"templateId must be 1-{MAX_TEMPLATE_ID_LENGTH} characters (got {template_id!r})")


def validate_template_paras(paras: list[str] | None) -> list[str]:
    if paras is None:
        return []
    if isinstance(paras, str) or not isinstance(paras, list | tuple):
        raise ValueError("templateParas must be a list of strings, one per template variable")
    for value in paras:
        if not isinstance(value, str):
            raise ValueError(
                f"templateParas values must be strings (got {value!r}); "
                "send codes as text to keep leading zeros"
            )
        if not value:
            raise ValueError("templateParas values must not be empty")
    return list(paras)


def validate_extend(extend: str) -> None:
    if not isinstance(extend, str):
        raise ValueError("extend must be a string")
    if "{" in extend or "}" in extend:
        raise ValueError("extend must not contain '{' or '}'")
    if len(extend.encode("utf-8")) > MAX_EXTEND_BYTES:
        raise ValueError(f"extend must be at most {MAX_EXTEND_BYTES} bytes")


def validate_status_callback(url: str) -> None:
    if not isinstance(url, str):
        raise ValueError("statusCallback must be a string")
    if url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"statusCallback must be an http(s) URL (got {url!r})")


def validate_sender(sender: str) -> None:
    if not isinstance(sender, str) or not sender.strip():
        raise ValueError("sender (from) must be the channel number of the SMS signature/application")


def validate_signature(signature: str) -> None:
    if not isinstance(signature, str) or len(signature) > MAX_SIGNATURE_LENGTH:
        raise ValueError(f"signature must be a string of at most {MAX_SIGNATURE_LENGTH} characters")


# Client -------------------------------------------------------------------------------------


def _parse_results(body: Mapping[str, Any]) -> list[SentMessage]:
    items = body.get("result")
    if not isinstance(items, list):
        return []
    return [
        SentMessage(
            sms_msg_id=str(item.get("smsMsgId", "")),
            to=str(item.get("originTo", "")),
            status=str(item.get("status", "")),
            created=str(item.get("createTime", "")),
        )
        for item in items
        if isinstance(item, Mapping)
    ]


class SmsClient:
    """Sends SMS through one Huawei SMS application.

    ``base_url`` is the application's "APP access address", e.g.
    ``https://smsapi.ap-southeast-1.myhuaweicloud.com:443``; a URL that already ends with one of
    the API paths is accepted too.
    """

    def __init__(self, base_url: str, app_key: str, app_secret: str, *, timeout: float = 10) -> None:
        base_url = base_url.strip().rstrip("/")
        for path in (SEND_PATH, BATCH_SEND_PATH):
            base_url = base_url.removesuffix(path)
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"base_url must be the http(s) APP access address (got {base_url!r})")
        self.base_url = base_url
        self.app_key = app_key
        self.app_secret = app_secret
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SmsClient({self.base_url!r}, app_key={self.app_key!r})"

    def send(
        self,
        *,
        sender: str,
        to: list[str],
        template_id: str,
        template_paras: list[str] | None = None,
        status_callback: str = "",
        extend: str = "",
        signature: str = "",
    ) -> SendResponse:
        """SMS Sending API: one template and one set of values to every number in ``to``."""
        validate_sender(sender)
        numbers = validate_numbers(to)
        _validate_total(len(numbers))
        validate_template_id(template_id)
        paras = validate_template_paras(template_paras)
        validate_status_callback(status_callback)
        validate_extend(extend)
        validate_signature(signature)
        fields = {"from": sender, "to": ",".join(numbers), "templateId": template_id}
        if paras:
            fields["templateParas"] = json.dumps(paras, ensure_ascii=False)
        if status_callback:
            fields["statusCallback"] = status_callback
        if signature:
            fields["signature"] = signature
        if extend:
            fields["extend"] = extend
        body = urllib.parse.urlencode(fields).encode("ascii")
        return self._post(SEND_PATH, body, "application/x-www-form-urlencoded")

    def send_batch(
        self, *, sender: str, groups: list[SmsContent], status_callback: str = "", extend: str = ""
    ) -> SendResponse:
        """Batch SMS Sending API: each group of numbers gets its own template and values."""
        validate_sender(sender)
        if not groups:
            raise ValueError("groups: give at least one SmsContent")
        validate_status_callback(status_callback)
        validate_extend(extend)
        content: list[dict[str, Any]] = []
        total = 0
        for index, group in enumerate(groups):
            if not isinstance(group, SmsContent):
                raise ValueError(f"groups[{index}] must be an SmsContent")
            numbers = validate_numbers(group.to, what=f"groups[{index}].to")
            total += len(numbers)
            validate_template_id(group.template_id)
            paras = validate_template_paras(group.template_paras)
            validate_signature(group.signature)
            item: dict[str, Any] = {"to": numbers, "templateId": group.template_id}
            if paras:
                item["templateParas"] = paras
            if group.signature:
                item["signature"] = group.signature
            content.append(item)
        _validate_total(total)
        payload: dict[str, Any] = {"from": sender, "smsContent": content}
        if status_callback:
            payload["statusCallback"] = status_callback
        if extend:
            payload["extend"] = extend
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return self._post(BATCH_SEND_PATH, body, "application/json;charset=UTF-8")

    def _post(self, path: str, body: bytes, content_type: str) -> SendResponse:
        headers = {
            **wsse_headers(self.app_key, self.app_secret),
            "Content-Type": content_type,
            "Accept": "application/json",
        }
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
                raw = response.read()
        except urllib.error.HTTPError as exc:
            try:
                raw = exc.read()
            except OSError:
                raw = b""
            finally:
                exc.close()
            raise _error_from_body(exc.code, exc.reason, raw) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise SmsApiError("network", str(reason) or type(exc).__name__, 0) from exc
        if not 200 <= status < 300:
            raise _error_from_body(status, "", raw)
        parsed = _json_object(raw)
        if parsed is None:
            raise SmsApiError("http", f"answer is not a JSON object: {_snippet(raw)}", status)
        code = str(parsed.get("code", ""))
        description = str(parsed.get("description", ""))
        results = _parse_results(parsed)
        if code != SUCCESS:
            raise SmsApiError(code or "http", description or "no code in the answer", status, results)
        return SendResponse(code=code, description=description, results=results)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _snippet(raw: bytes, limit: int = 200) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _error_from_body(status: int, reason: object, raw: bytes) -> SmsApiError:
    parsed = _json_object(raw)
    if parsed is not None and parsed.get("code"):
        return SmsApiError(
            str(parsed["code"]), str(parsed.get("description", "")), status, _parse_results(parsed)
        )
    text = _snippet(raw) or str(reason or "")
    return SmsApiError("http", f"HTTP {status}" + (f": {text}" if text else ""), status)


def client_from_settings() -> SmsClient:
    """A client for the SMS application configured in Django settings."""
    from django.conf import settings

    missing = [
        name for name in ("SMS_API_URL", "SMS_APP_KEY", "SMS_APP_SECRET") if not getattr(settings, name, "")
    ]
    if missing:
        raise SmsNotConfigured("SMS sending is not configured: set " + ", ".join(missing))
    return SmsClient(
        settings.SMS_API_URL,
        settings.SMS_APP_KEY,
        settings.SMS_APP_SECRET,
        timeout=getattr(settings, "SMS_API_TIMEOUT_SECONDS", 10),
    )

"""A local stand-in for the Huawei Cloud SMS platform, for development and tests.

It answers the two send APIs the way the platform does (X-WSSE checks, request checks, a
``result[]`` entry with an ``smsMsgId`` per number) and, when the send named a ``statusCallback``,
pushes a status report for every accepted number after a delay, like the real platform does
once the carrier answers. Which status is pushed, and when, is chosen per recipient number by
:class:`Rule` (first matching prefix wins), else by the defaults; a rule with status ``None``
pushes nothing, which is what a lost report looks like.

Nothing is sent anywhere except the status-report pushes; pushes go straight to the callback
URL, ignoring ``http_proxy`` settings. Standard library only, no Django (see the
``sms_simulator`` management command for a runner).
"""

from __future__ import annotations

import heapq
import hmac
import itertools
import json
import logging
import math
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from diagnosis.huawei.sms_api import (
    AUTHORIZATION,
    BATCH_SEND_PATH,
    CREATED_FORMAT,
    MAX_EXTEND_BYTES,
    MAX_NUMBER_LENGTH,
    MAX_NUMBERS,
    MAX_SIGNATURE_LENGTH,
    MAX_TEMPLATE_ID_LENGTH,
    SEND_PATH,
    SUCCESS,
    parse_wsse,
    password_digest,
    raw_password_digest,
    utc_timestamp,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 12 * 1024 * 1024
CREATED_TOLERANCE = timedelta(hours=24)
NO_REPORT = "none"
_NONCE = re.compile(r"[A-Za-z0-9]{1,128}")
_NUMBER = re.compile(r"\+?[0-9]+")
_STATUS = re.compile(r"[^\s@=]+")


@dataclass(frozen=True)
class Rule:
    """Which status report a recipient gets: the first rule whose ``prefix`` starts the number wins.

    ``status`` ``None`` means no report at all (a lost report); ``delay`` is in seconds.
    """

    prefix: str
    status: str | None
    delay: float = 2.0

    @classmethod
    def parse(cls, text: str, *, default_delay: float = 2.0) -> Rule:
        """``PREFIX=STATUS[@DELAY]``, e.g. ``+99900=none``, ``+4915=UNDELIV@5``, ``+86=DELIVRD@0.5``."""
        prefix, sep, rest = text.strip().partition("=")
        prefix = prefix.strip()
        if not sep or not prefix or not rest.strip():
            raise ValueError(f"rule {text!r}: write PREFIX=STATUS[@DELAY], e.g. +4915=UNDELIV@5")
        if not _NUMBER.fullmatch(prefix):
            raise ValueError(f"rule {text!r}: the prefix may only hold '+' and digits")
        status_text, at, delay_text = rest.strip().partition("@")
        status_text = status_text.strip()
        if not _STATUS.fullmatch(status_text):
            raise ValueError(f"rule {text!r}: {status_text!r} is not a status code (or 'none')")
        delay = default_delay
        if at:
            try:
                delay = float(delay_text)
            except ValueError:
                raise ValueError(f"rule {text!r}: {delay_text!r} is not a delay in seconds") from None
        if not math.isfinite(delay) or delay < 0:
            raise ValueError(f"rule {text!r}: the delay must be zero or more seconds")
        status = None if status_text.lower() == NO_REPORT else status_text
        return cls(prefix=prefix, status=status, delay=delay)

    def matches(self, number: str) -> bool:
        return number.startswith(self.prefix)

    def __str__(self) -> str:
        return f"{self.prefix}={self.status or NO_REPORT}@{self.delay:g}"


class Rejected(Exception):
    """The request fails as a whole: answer ``http_status`` with ``{"code", "description"}``."""

    def __init__(self, http_status: int, code: str, description: str) -> None:
        super().__init__(code, description)
        self.http_status = http_status
        self.code = code
        self.description = description


# Authentication -----------------------------------------------------------------------------


def _lower_keys(params: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in params.items()}


def check_authorization(value: str | None) -> None:
    """The ``Authorization`` header must be the fixed WSSE text (whitespace between items aside)."""
    value = (value or "").strip()
    if not value:
        raise Rejected(401, "E000101", "Authentication failed: the Authorization header is missing.")
    if value == AUTHORIZATION:
        return
    if value.split(None, 1)[0] != "WSSE":
        raise Rejected(400, "E000008", 'The Authorization header does not start with "WSSE".')
    params = _lower_keys(parse_wsse(value))
    for name, expected, missing_code, wrong_code in (
        ("realm", "SDP", "E000002", "E000004"),
        ("profile", "UsernameToken", "E000003", "E000005"),
        ("type", "Appkey", "E000007", "E000006"),
    ):
        if name not in params:
            raise Rejected(400, missing_code, f"The Authorization header lacks {name}.")
        if params[name] != expected:
            raise Rejected(400, wrong_code, f'In the Authorization header {name} must be "{expected}".')


def check_wsse(value: str | None, *, app_key: str, app_secret: str, now: datetime | None = None) -> None:
    """The ``X-WSSE`` header must name ``app_key`` and carry a valid, recent digest."""
    value = (value or "").strip()
    if not value:
        raise Rejected(400, "E000020", "The X-WSSE header is missing.")
    if value.split(None, 1)[0] != "UsernameToken":
        raise Rejected(401, "E000101", 'Authentication failed: X-WSSE must start with "UsernameToken".')
    params = _lower_keys(parse_wsse(value))
    for name, code in (("username", "E000021"), ("nonce", "E000022"), ("created", "E000023")):
        if not params.get(name):
            raise Rejected(400, code, f"The X-WSSE header lacks {name.capitalize()}.")
    if not params.get("passworddigest"):
        raise Rejected(401, "E000101", "Authentication failed: X-WSSE lacks PasswordDigest.")
    if params["username"] != app_key:
        raise Rejected(401, "E000102", "The app_key (X-WSSE Username) is invalid.")
    nonce, created, digest = params["nonce"], params["created"], params["passworddigest"]
    if not _NONCE.fullmatch(nonce):
        raise Rejected(401, "E000101", "Authentication failed: Nonce must be 1-128 letters and digits.")
    try:
        created_at = datetime.strptime(created, CREATED_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise Rejected(
            401, "E000101", f"Authentication failed: Created {created!r} is not UTC yyyy-MM-ddTHH:mm:ssZ."
        ) from None
    now = now or datetime.now(UTC)
    if abs(now - created_at) > CREATED_TOLERANCE:
        raise Rejected(
            401,
            "E000101",
            f"Authentication failed: Created {created} is more than 24 hours from the current UTC time.",
        )
    candidates = (
        password_digest(nonce, created, app_secret),
        raw_password_digest(nonce, created, app_secret),
    )
    if not any(hmac.compare_digest(digest.encode(), good.encode()) for good in candidates):
        raise Rejected(
            401,
            "E000101",
            "Authentication failed: PasswordDigest does not match "
            "Base64(SHA256(Nonce + Created + app_secret)); check the app_secret.",
        )


# Request bodies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    numbers: list[str]
    template_id: str
    template_paras: list[str]
    signature: str = ""


@dataclass(frozen=True)
class SendRequest:
    api: str
    sender: str
    groups: list[Group]
    status_callback: str = ""
    extend: str = ""


def _format_error(description: str) -> Rejected:
    return Rejected(400, "E000503", f"Parameter format error: {description}")


def _parse_error(description: str) -> Rejected:
    return Rejected(400, "E000000", f"System error: the request could not be parsed: {description}")


def _check_numbers(numbers: list[str], where: str) -> None:
    for number in numbers:
        if not isinstance(number, str) or not _NUMBER.fullmatch(number):
            raise _format_error(f"{where}: {number!r} holds characters other than '+' and digits.")
        if len(number) > MAX_NUMBER_LENGTH:
            raise _format_error(f"{where}: {number!r} is longer than {MAX_NUMBER_LENGTH} characters.")


def _check_common(sender: Any, status_callback: Any, extend: Any) -> None:
    if not isinstance(sender, str) or not sender:
        raise _parse_error("the required parameter 'from' is missing.")
    if not isinstance(status_callback, str):
        raise _format_error("statusCallback must be a string.")
    if status_callback:
        parts = urllib.parse.urlsplit(status_callback)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise _format_error(f"statusCallback {status_callback!r} is not an http(s) URL.")
    if extend is not None:
        if not isinstance(extend, str) or not extend:
            raise _format_error("extend must be a non-empty string when given.")
        if "{" in extend or "}" in extend:
            raise _format_error("extend must not contain '{' or '}'.")
        if len(extend.encode("utf-8")) > MAX_EXTEND_BYTES:
            raise _format_error(f"extend is longer than {MAX_EXTEND_BYTES} bytes.")


def _check_template(template_id: Any, signature: Any, where: str) -> None:
    if not isinstance(template_id, str) or not template_id:
        raise _parse_error(f"the required parameter '{where}templateId' is missing.")
    if len(template_id) > MAX_TEMPLATE_ID_LENGTH:
        raise _format_error(f"{where}templateId is longer than {MAX_TEMPLATE_ID_LENGTH} characters.")
    if not isinstance(signature, str) or len(signature) > MAX_SIGNATURE_LENGTH:
        raise _format_error(
            f"{where}signature must be a string of at most {MAX_SIGNATURE_LENGTH} characters."
        )


def _check_paras(paras: Any, where: str) -> list[str]:
    if not isinstance(paras, list) or not all(isinstance(value, str) for value in paras):
        raise _parse_error(f'{where}templateParas must be a JSON array of strings, e.g. ["123456"].')
    return paras


def parse_form(body: bytes, content_type: str) -> SendRequest:
    """The body of ``/sms/batchSendSms/v1`` (form encoded; ``templateParas`` a JSON-array string)."""
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        raise _parse_error(f"{SEND_PATH} expects application/x-www-form-urlencoded, not {content_type!r}.")
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise _parse_error(f"the form body is not valid ({exc}).") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    for name in ("from", "to", "templateId"):
        if not fields.get(name):
            raise _parse_error(f"the required parameter '{name}' is missing.")
    _check_common(fields["from"], fields.get("statusCallback", ""), fields.get("extend"))
    numbers = fields["to"].split(",")
    if len(numbers) > MAX_NUMBERS:
        raise Rejected(400, "E200015", f"Too many numbers: at most {MAX_NUMBERS} per request.")
    _check_numbers(numbers, "to")
    signature = fields.get("signature", "")
    _check_template(fields["templateId"], signature, "")
    paras: list[str] = []
    if fields.get("templateParas"):
        try:
            decoded = json.loads(fields["templateParas"])
        except json.JSONDecodeError:
            decoded = None
        paras = _check_paras(decoded, "")
    return SendRequest(
        api=SEND_PATH,
        sender=fields["from"],
        groups=[Group(numbers, fields["templateId"], paras, signature)],
        status_callback=fields.get("statusCallback", ""),
        extend=fields.get("extend", ""),
    )


def parse_json(body: bytes, content_type: str) -> SendRequest:
    """The body of ``/sms/batchSendDiffSms/v1`` (JSON; ``templateParas`` a real array)."""
    if not content_type.lower().startswith("application/json"):
        raise _parse_error(f"{BATCH_SEND_PATH} expects application/json, not {content_type!r}.")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _parse_error(f"the body is not JSON ({exc}).") from None
    if not isinstance(payload, dict):
        raise _parse_error("the body must be a JSON object.")
    _check_common(payload.get("from"), payload.get("statusCallback", ""), payload.get("extend"))
    content = payload.get("smsContent")
    if not isinstance(content, list) or not content:
        raise _parse_error("the required parameter 'smsContent' is missing or not an array.")
    groups: list[Group] = []
    for index, item in enumerate(content):
        where = f"smsContent[{index}]."
        if not isinstance(item, dict):
            raise _parse_error(f"smsContent[{index}] must be an object.")
        numbers = item.get("to")
        if not isinstance(numbers, list) or not numbers:
            raise _parse_error(f"the required parameter '{where}to' is missing or not an array.")
        _check_numbers(numbers, f"{where}to")
        signature = item.get("signature", "")
        _check_template(item.get("templateId"), signature, where)
        paras = _check_paras(item.get("templateParas", []), where)
        groups.append(Group(numbers, item["templateId"], paras, signature))
    if sum(len(group.numbers) for group in groups) > MAX_NUMBERS:
        raise Rejected(400, "E200015", f"Too many numbers: at most {MAX_NUMBERS} per request.")
    return SendRequest(
        api=BATCH_SEND_PATH,
        sender=payload["from"],
        groups=groups,
        status_callback=payload.get("statusCallback", ""),
        extend=payload.get("extend") or "",
    )


# Delayed pushes -----------------------------------------------------------------------------


class _Scheduler:
    """Runs callables after a delay: one timer thread, a few worker threads for the HTTP calls."""

    def __init__(self, workers: int = 8) -> None:
        self._heap: list[tuple[float, int, Callable[[], object]]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._stopped = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sms-simulator-push")
        self._thread = threading.Thread(target=self._run, name="sms-simulator-timer", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, job: Callable[[], object]) -> None:
        """Run `job` after `delay` seconds; what it returns is ignored."""
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job))
            self._cond.notify()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                job = heapq.heappop(self._heap)[2]
            try:
                self._pool.submit(job)
            except RuntimeError:  # pool shut down meanwhile
                return

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._thread.join(timeout=1)


# The server ---------------------------------------------------------------------------------


@dataclass
class _Log:
    lock: threading.Condition = field(default_factory=threading.Condition)
    sent: list[dict[str, Any]] = field(default_factory=list)
    pushed: list[dict[str, Any]] = field(default_factory=list)


class SimulatorServer(ThreadingHTTPServer):
    """The HTTP server; ``sent`` and ``pushed`` are snapshots of what it has done so far."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        app_key: str,
        app_secret: str,
        rules: Iterable[Rule] = (),
        default_status: str | None = "DELIVRD",
        default_delay: float = 2.0,
        push_timeout: float = 5.0,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.rules = list(rules)
        self.default_status = default_status
        self.default_delay = default_delay
        self.push_timeout = push_timeout
        self._log = _Log()
        self._counter = itertools.count(1)
        self._counter_lock = threading.Lock()
        self._scheduler = _Scheduler()
        # The platform calls the callback directly: no proxy from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        # Binds now; on failure it calls server_close(), which stops the scheduler made above.
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    @property
    def sent(self) -> list[dict[str, Any]]:
        """One entry per recipient of every accepted request (copies, oldest first)."""
        with self._log.lock:
            return [dict(entry) for entry in self._log.sent]

    @property
    def pushed(self) -> list[dict[str, Any]]:
        """One entry per status-report push attempt, with its outcome (copies, oldest first)."""
        with self._log.lock:
            return [dict(entry) for entry in self._log.pushed]

    @property
    def pending_pushes(self) -> int:
        return self._scheduler.pending

    def wait_for_pushes(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least ``count`` push attempts are logged (or ``timeout``); return the log."""
        with self._log.lock:
            self._log.lock.wait_for(lambda: len(self._log.pushed) >= count, timeout)
            return [dict(entry) for entry in self._log.pushed]

    def plan(self, number: str) -> tuple[str | None, float]:
        """The report status (``None``: no report) and delay for ``number``."""
        for rule in self.rules:
            if rule.matches(number):
                return rule.status, rule.delay
        return self.default_status, self.default_delay

    def new_msg_id(self) -> str:
        with self._counter_lock:
            counter = next(self._counter)
        return f"{uuid.uuid4()}_{counter}"

    def accept(self, request: SendRequest) -> dict[str, Any]:
        """Answer an authenticated, well-formed request and schedule its status reports."""
        created = utc_timestamp()
        results: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        seen: set[tuple[str, str, tuple[str, ...], str]] = set()
        pushes: list[tuple[str, str, str, float]] = []
        for group in request.groups:
            for number in group.numbers:
                key = (number, group.template_id, tuple(group.template_paras), group.signature)
                status = SUCCESS
                if key in seen:
                    status = "E200041"  # same number, same content, same request
                elif any(not value for value in group.template_paras):
                    status = "E200028"  # every template variable needs a value
                seen.add(key)
                msg_id = self.new_msg_id()
                results.append(
                    {
                        "originTo": number,
                        "createTime": created,
                        "from": request.sender,
                        "smsMsgId": msg_id,
                        "status": status,
                    }
                )
                report_status, delay = self.plan(number)
                will_push = status == SUCCESS and bool(request.status_callback) and report_status is not None
                entries.append(
                    {
                        "api": request.api,
                        "sms_msg_id": msg_id,
                        "to": number,
                        "from": request.sender,
                        "template_id": group.template_id,
                        "template_paras": list(group.template_paras),
                        "signature": group.signature,
                        "status_callback": request.status_callback,
                        "extend": request.extend,
                        "status": status,
                        "created": created,
                        "report_status": report_status if will_push else None,
                        "report_delay": delay if will_push else None,
                    }
                )
                if will_push and report_status is not None:
                    pushes.append((msg_id, number, report_status, delay))
                logger.info(
                    "accepted %s to %s: %s%s",
                    msg_id,
                    number,
                    status,
                    f", report {report_status} in {delay:g}s" if will_push else ", no report",
                )
        with self._log.lock:
            self._log.sent.extend(entries)
            self._log.lock.notify_all()
        for msg_id, number, report_status, delay in pushes:  # after logging: a push never precedes its send
            self._schedule_push(request.status_callback, msg_id, number, report_status, request.extend, delay)
        if any(result["status"] == SUCCESS for result in results):
            return {"code": SUCCESS, "description": "Success", "result": results}
        return {
            "code": "E000510",
            "description": "SMS sending failed; see result[].status.",
            "result": results,
        }

    def _schedule_push(
        self, url: str, msg_id: str, number: str, status: str, extend: str, delay: float
    ) -> None:
        self._scheduler.call_later(delay, lambda: self.push_report(url, msg_id, number, status, extend))

    def push_report(
        self, url: str, msg_id: str, number: str, status: str, extend: str = ""
    ) -> dict[str, Any]:
        """POST one status report to ``url`` now; log and return the outcome (never raises)."""
        fields = {
            "smsMsgId": msg_id,
            "total": "1",
            "sequence": "1",
            "status": status,
            "source": "1" if status == "EXPIRED" else "2",
        }
        if status != "EXPIRED":  # a report the platform builds itself has no updateTime
            fields["updateTime"] = utc_timestamp()
        if extend:
            fields["extend"] = extend
            fields["to"] = number
        entry: dict[str, Any] = {"url": url, "fields": fields, "http_status": None, "error": None}
        try:
            request = urllib.request.Request(
                url,
                data=urllib.parse.urlencode(fields).encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                method="POST",
            )
            with self._opener.open(request, timeout=self.push_timeout) as response:
                response.read()
                entry["http_status"] = response.status
        except urllib.error.HTTPError as exc:  # the platform ignores the answer; note it anyway
            entry["http_status"] = exc.code
            exc.close()
        except Exception as exc:  # a failed push must never stop the simulator
            entry["error"] = f"{type(exc).__name__}: {exc}"
        if entry["error"]:
            logger.warning("push of %s (%s) to %s failed: %s", msg_id, status, url, entry["error"])
        else:
            logger.info("pushed %s (%s) to %s: HTTP %s", msg_id, status, url, entry["http_status"])
        with self._log.lock:
            self._log.pushed.append(entry)
            self._log.lock.notify_all()
        return entry

    def server_close(self) -> None:
        super().server_close()
        self._scheduler.stop()


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    server_version = "SmsSimulator/1.0"

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path not in (SEND_PATH, BATCH_SEND_PATH):
            self._send_text(404, f"Not Found: the send APIs are {SEND_PATH} and {BATCH_SEND_PATH}.\n")
            return
        try:
            body = self._read_body()
            check_authorization(self.headers.get("Authorization"))
            check_wsse(
                self.headers.get("X-WSSE"), app_key=self.server.app_key, app_secret=self.server.app_secret
            )
            content_type = self.headers.get("Content-Type", "")
            request = parse_form(body, content_type) if path == SEND_PATH else parse_json(body, content_type)
            answer = self.server.accept(request)
        except Rejected as exc:
            logger.info("rejected %s: %s %s %s", path, exc.http_status, exc.code, exc.description)
            self._send_json(exc.http_status, {"code": exc.code, "description": exc.description})
            return
        self._send_json(200, answer)

    def do_GET(self) -> None:
        self._send_text(405, f"Method Not Allowed: POST to {SEND_PATH} or {BATCH_SEND_PATH}.\n")

    do_PUT = do_DELETE = do_PATCH = do_GET

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _parse_error("Content-Length is not a number.") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise _parse_error("the body is larger than 12 MB.")
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send(status, data, "application/json;charset=UTF-8")

    def _send_text(self, status: int, text: str) -> None:
        self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8")

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


def make_server(
    host: str,
    port: int,
    *,
    app_key: str,
    app_secret: str,
    rules: Iterable[Rule] = (),
    default_status: str | None = "DELIVRD",
    default_delay: float = 2.0,
    push_timeout: float = 5.0,
) -> SimulatorServer:
    """A bound simulator (``port`` 0 picks a free port); run it with ``serve_forever()``."""
    return SimulatorServer(
        (host, port),
        app_key=app_key,
        app_secret=app_secret,
        rules=rules,
        default_status=default_status,
        default_delay=default_delay,
        push_timeout=push_timeout,
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 8001,
    *,
    on_ready: Callable[[SimulatorServer], None] | None = None,
    **options: Any,
) -> None:
    """Run a simulator until Ctrl-C; ``options`` go to :func:`make_server`."""
    server = make_server(host, port, **options)
    try:
        if on_ready is not None:
            on_ready(server)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


__all__ = [
    "Group",
    "Rejected",
    "Rule",
    "SendRequest",
    "SimulatorServer",
    "check_authorization",
    "check_wsse",
    "make_server",
    "parse_form",
    "parse_json",
    "serve",
]

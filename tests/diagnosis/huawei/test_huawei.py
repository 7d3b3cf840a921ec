"""The Huawei SMS client against the local simulator, and the simulator's status-report pushes.

No database and no outside service: the simulator and a tiny callback receiver run in threads.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import queue
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from diagnosis.huawei import sms_api
from diagnosis.huawei.simulator import Rule, SimulatorServer, make_server
from diagnosis.huawei.sms_api import (
    SendResponse,
    SmsApiError,
    SmsClient,
    SmsContent,
    SmsNotConfigured,
    client_from_settings,
    parse_wsse,
    password_digest,
    raw_password_digest,
    wsse_headers,
)
from diagnosis.management.commands import sms_simulator as command

KEY = "test-app-key"
SECRET = "test-app-secret"
SENDER = "csms12345678"
TEMPLATE = "0123456789abcdef0123456789abcdef"
MSG_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_\d+")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
FAST = 0.05


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # Requests to the local servers must not go through a proxy from the environment.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _run(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., SimulatorServer]]:
    servers: list[SimulatorServer] = []

    def start(*rules: str, default_status: str | None = "DELIVRD") -> SimulatorServer:
        server = make_server(
            "127.0.0.1",
            0,
            app_key=KEY,
            app_secret=SECRET,
            rules=[Rule.parse(text, default_delay=FAST) for text in rules],
            default_status=default_status,
            default_delay=FAST,
        )
        servers.append(server)
        _run(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def simulator(start_simulator: Callable[..., SimulatorServer]) -> SimulatorServer:
    return start_simulator("+99900=none", "+4915=UNDELIV", "+4917=EXPIRED")


@pytest.fixture
def client(simulator: SimulatorServer) -> SmsClient:
    return SmsClient(simulator.url, KEY, SECRET, timeout=5)


@dataclass
class Receiver:
    url: str
    reports: queue.Queue[tuple[dict[str, str], str]]

    def get(self, timeout: float = 5.0) -> dict[str, str]:
        fields, content_type = self.reports.get(timeout=timeout)
        assert content_type == "application/x-www-form-urlencoded"
        return fields


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    reports: queue.Queue[tuple[dict[str, str], str]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("ascii")
            pairs = urllib.parse.parse_qsl(body, keep_blank_values=True, strict_parsing=True)
            reports.put((dict(pairs), self.headers.get("Content-Type", "")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    _run(server)
    yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/sms/report", reports)
    server.shutdown()
    server.server_close()


def raw_post(
    url: str, body: bytes, headers: dict[str, str], content_type: str = "application/x-www-form-urlencoded"
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type, **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def form(**fields: str) -> bytes:
    defaults = {"from": SENDER, "to": "+8613800000000", "templateId": TEMPLATE}
    return urllib.parse.urlencode({**defaults, **fields}).encode("ascii")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# X-WSSE -------------------------------------------------------------------------------------

NONCE = "66C92B11FF8A425FB8D4CCFE0ED9ED1F"
CREATED = "2018-02-12T15:30:20Z"


def test_password_digest_is_base64_of_the_hex_sha256() -> None:
    by_hand = base64.b64encode(
        hashlib.sha256((NONCE + CREATED + SECRET).encode()).hexdigest().encode()
    ).decode()
    assert password_digest(NONCE, CREATED, SECRET) == by_hand
    assert len(by_hand) == 88
    assert re.fullmatch(r"[0-9a-f]{64}", base64.b64decode(by_hand).decode())


def test_raw_password_digest_is_base64_of_the_32_bytes() -> None:
    by_hand = base64.b64encode(hashlib.sha256((NONCE + CREATED + SECRET).encode()).digest()).decode()
    assert raw_password_digest(NONCE, CREATED, SECRET) == by_hand
    assert len(by_hand) == 44


def test_wsse_headers_have_the_documented_shape() -> None:
    headers = wsse_headers(KEY, SECRET, nonce=NONCE, created=CREATED)
    digest = password_digest(NONCE, CREATED, SECRET)
    assert headers == {
        "Authorization": 'WSSE realm="SDP",profile="UsernameToken",type="Appkey"',
        "X-WSSE": (
            f'UsernameToken Username="{KEY}",PasswordDigest="{digest}",Nonce="{NONCE}",Created="{CREATED}"'
        ),
    }
    assert parse_wsse(headers["X-WSSE"]) == {
        "Username": KEY,
        "PasswordDigest": digest,
        "Nonce": NONCE,
        "Created": CREATED,
    }


def test_wsse_headers_make_a_fresh_nonce_and_the_current_utc_time() -> None:
    first, second = wsse_headers(KEY, SECRET), wsse_headers(KEY, SECRET)
    one, two = parse_wsse(first["X-WSSE"]), parse_wsse(second["X-WSSE"])
    assert re.fullmatch(r"[0-9A-Fa-f]{32}", one["Nonce"])
    assert one["Nonce"] != two["Nonce"]
    created = datetime.strptime(one["Created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)
    assert one["PasswordDigest"] == password_digest(one["Nonce"], one["Created"], SECRET)


# Sending and authentication -----------------------------------------------------------------


def test_send_with_the_right_key_and_secret_is_accepted(
    client: SmsClient, simulator: SimulatorServer
) -> None:
    response = client.send(
        sender=SENDER,
        to=["+8613800000000", "+8613900000000"],
        template_id=TEMPLATE,
        template_paras=["012345"],
    )
    assert isinstance(response, SendResponse)
    assert (response.code, response.description) == ("000000", "Success")
    assert [message.to for message in response.results] == ["+8613800000000", "+8613900000000"]
    for message in response.results:
        assert MSG_ID.fullmatch(message.sms_msg_id)
        assert message.status == "000000" and message.accepted
        assert TIME.fullmatch(message.created)
    assert response.results[0].sms_msg_id != response.results[1].sms_msg_id
    sent = simulator.sent
    assert [entry["sms_msg_id"] for entry in sent] == [message.sms_msg_id for message in response.results]
    assert sent[0]["template_paras"] == ["012345"]  # the JSON-array string was decoded
    assert sent[0]["report_status"] is None  # no statusCallback, no report


def test_a_wrong_secret_fails_with_e000101(simulator: SimulatorServer) -> None:
    with pytest.raises(SmsApiError) as caught:
        SmsClient(simulator.url, KEY, "not-the-secret").send(
            sender=SENDER, to=["+8613800000000"], template_id="t"
        )
    assert (caught.value.code, caught.value.http_status) == ("E000101", 401)
    assert "PasswordDigest" in caught.value.description
    assert simulator.sent == []


def test_a_wrong_app_key_is_refused(simulator: SimulatorServer) -> None:
    with pytest.raises(SmsApiError) as caught:
        SmsClient(simulator.url, "other-key", SECRET).send(
            sender=SENDER, to=["+8613800000000"], template_id="t"
        )
    assert (caught.value.code, caught.value.http_status) == ("E000102", 401)


def test_a_stale_created_fails_with_401(simulator: SimulatorServer) -> None:
    stale = (datetime.now(UTC) - timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body = raw_post(
        simulator.url + sms_api.SEND_PATH, form(), wsse_headers(KEY, SECRET, created=stale)
    )
    assert (status, body["code"]) == (401, "E000101")
    assert "24 hours" in body["description"]


def test_a_created_within_24_hours_is_fine(simulator: SimulatorServer) -> None:
    earlier = (datetime.now(UTC) - timedelta(hours=23)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body = raw_post(
        simulator.url + sms_api.SEND_PATH, form(), wsse_headers(KEY, SECRET, created=earlier)
    )
    assert (status, body["code"]) == (200, "000000")


def test_a_missing_x_wsse_fails_with_e000020(simulator: SimulatorServer) -> None:
    headers = wsse_headers(KEY, SECRET)
    del headers["X-WSSE"]
    status, body = raw_post(simulator.url + sms_api.SEND_PATH, form(), headers)
    assert (status, body["code"]) == (400, "E000020")


@pytest.mark.parametrize(
    ("drop", "code"),
    [("Username", "E000021"), ("Nonce", "E000022"), ("Created", "E000023")],
)
def test_missing_x_wsse_fields_have_their_codes(simulator: SimulatorServer, drop: str, code: str) -> None:
    headers = wsse_headers(KEY, SECRET)
    headers["X-WSSE"] = re.sub(rf',?{drop}="[^"]*"', "", headers["X-WSSE"]).replace("Token ,", "Token ")
    status, body = raw_post(simulator.url + sms_api.SEND_PATH, form(), headers)
    assert (status, body["code"]) == (400, code)


@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        (None, 401, "E000101"),
        ('Basic realm="SDP",profile="UsernameToken",type="Appkey"', 400, "E000008"),
        ('WSSE profile="UsernameToken",type="Appkey"', 400, "E000002"),
        ('WSSE realm="sdp",profile="UsernameToken",type="Appkey"', 400, "E000004"),
        ('WSSE realm="SDP",type="Appkey"', 400, "E000003"),
        ('WSSE realm="SDP",profile="Token",type="Appkey"', 400, "E000005"),
        ('WSSE realm="SDP",profile="UsernameToken",type="AppKey"', 400, "E000006"),
        ('WSSE realm="SDP",profile="UsernameToken"', 400, "E000007"),
    ],
)
def test_authorization_header_errors(
    simulator: SimulatorServer, authorization: str | None, status: int, code: str
) -> None:
    headers = wsse_headers(KEY, SECRET)
    if authorization is None:
        del headers["Authorization"]
    else:
        headers["Authorization"] = authorization
    answer_status, answer = raw_post(simulator.url + sms_api.SEND_PATH, form(), headers)
    assert (answer_status, answer["code"]) == (status, code)


@pytest.mark.parametrize("digest", [password_digest, raw_password_digest])
def test_both_published_digest_variants_are_accepted(simulator: SimulatorServer, digest: Any) -> None:
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = "ac1c911c4792492687f8f6b2264a491e"
    headers = {
        "Authorization": sms_api.AUTHORIZATION,
        "X-WSSE": (
            f'UsernameToken Username="{KEY}",PasswordDigest="{digest(nonce, created, SECRET)}",'
            f'Nonce="{nonce}",Created="{created}"'
        ),
    }
    status, body = raw_post(simulator.url + sms_api.SEND_PATH, form(), headers)
    assert (status, body["code"]) == (200, "000000")
    assert MSG_ID.fullmatch(body["result"][0]["smsMsgId"])
    assert body["result"][0]["originTo"] == "+8613800000000"
    assert body["result"][0]["from"] == SENDER


@pytest.mark.parametrize("missing", ["from", "to", "templateId"])
def test_a_missing_body_field_fails_with_e000000(simulator: SimulatorServer, missing: str) -> None:
    fields = urllib.parse.parse_qs(form().decode())
    del fields[missing]
    body = urllib.parse.urlencode(fields, doseq=True).encode()
    status, answer = raw_post(simulator.url + sms_api.SEND_PATH, body, wsse_headers(KEY, SECRET))
    assert (status, answer["code"]) == (400, "E000000")
    assert missing in answer["description"]


def test_template_paras_as_an_array_in_the_form_api_fails(simulator: SimulatorServer) -> None:
    body = form(templateParas="123456")  # not a JSON array
    status, answer = raw_post(simulator.url + sms_api.SEND_PATH, body, wsse_headers(KEY, SECRET))
    assert (status, answer["code"]) == (400, "E000000")


def test_template_paras_as_a_string_in_the_json_api_fails(simulator: SimulatorServer) -> None:
    payload = {
        "from": SENDER,
        "smsContent": [{"to": ["+86138"], "templateId": "t", "templateParas": '["1"]'}],
    }
    status, answer = raw_post(
        simulator.url + sms_api.BATCH_SEND_PATH,
        json.dumps(payload).encode(),
        wsse_headers(KEY, SECRET),
        content_type="application/json",
    )
    assert (status, answer["code"]) == (400, "E000000")


def test_a_repeated_number_gets_e200041(client: SmsClient) -> None:
    response = client.send(sender=SENDER, to=["+8613800000000", "+8613800000000"], template_id=TEMPLATE)
    assert [message.status for message in response.results] == ["000000", "E200041"]


def test_a_wrong_path_is_a_plain_404(simulator: SimulatorServer) -> None:
    client = SmsClient(simulator.url + "/sms", KEY, SECRET)
    with pytest.raises(SmsApiError) as caught:
        client.send(sender=SENDER, to=["+8613800000000"], template_id=TEMPLATE)
    assert (caught.value.code, caught.value.http_status) == ("http", 404)


def test_a_base_url_with_the_api_path_still_works(simulator: SimulatorServer) -> None:
    client = SmsClient(simulator.url + sms_api.SEND_PATH, KEY, SECRET)
    assert client.send(sender=SENDER, to=["+8613800000000"], template_id=TEMPLATE).code == "000000"


def test_an_unreachable_platform_is_a_network_error() -> None:
    client = SmsClient(f"http://127.0.0.1:{closed_port()}", KEY, SECRET, timeout=2)
    with pytest.raises(SmsApiError) as caught:
        client.send(sender=SENDER, to=["+8613800000000"], template_id=TEMPLATE)
    assert (caught.value.code, caught.value.http_status) == ("network", 0)


# Status reports -----------------------------------------------------------------------------


def test_the_report_of_a_rule_is_pushed(client: SmsClient, receiver: Receiver) -> None:
    response = client.send(
        sender=SENDER, to=["+4915123456789"], template_id=TEMPLATE, status_callback=receiver.url
    )
    report = receiver.get()
    assert report.keys() == {"smsMsgId", "total", "sequence", "status", "source", "updateTime"}
    assert report["smsMsgId"] == response.results[0].sms_msg_id
    assert (report["status"], report["source"], report["total"], report["sequence"]) == (
        "UNDELIV",
        "2",
        "1",
        "1",
    )
    assert TIME.fullmatch(report["updateTime"])


def test_the_default_report_is_delivrd(
    client: SmsClient, simulator: SimulatorServer, receiver: Receiver
) -> None:
    response = client.send(
        sender=SENDER, to=["+8613800000000"], template_id=TEMPLATE, status_callback=receiver.url
    )
    report = receiver.get()
    assert (report["smsMsgId"], report["status"]) == (response.results[0].sms_msg_id, "DELIVRD")
    pushed = simulator.wait_for_pushes(1)
    assert pushed[0]["url"] == receiver.url and pushed[0]["http_status"] == 200


def test_an_expired_report_has_no_update_time_and_echoes_extend(
    client: SmsClient, receiver: Receiver
) -> None:
    client.send(
        sender=SENDER,
        to=["+4917000000000"],
        template_id=TEMPLATE,
        status_callback=receiver.url,
        extend="case-42",
    )
    report = receiver.get()
    assert (report["status"], report["source"]) == ("EXPIRED", "1")
    assert "updateTime" not in report
    assert (report["extend"], report["to"]) == ("case-42", "+4917000000000")


def test_a_none_rule_pushes_nothing(
    client: SmsClient, simulator: SimulatorServer, receiver: Receiver
) -> None:
    client.send(sender=SENDER, to=["+999001234"], template_id=TEMPLATE, status_callback=receiver.url)
    with pytest.raises(queue.Empty):
        receiver.get(timeout=1)
    assert simulator.pushed == []
    assert simulator.sent[0]["report_status"] is None


def test_send_batch_works_and_pushes_per_number(
    client: SmsClient, simulator: SimulatorServer, receiver: Receiver
) -> None:
    response = client.send_batch(
        sender=SENDER,
        groups=[
            SmsContent(
                to=["+4915100000001", "+8613800000000"], template_id=TEMPLATE, template_paras=["3", "gate"]
            ),
            SmsContent(to=["+8613900000000"], template_id="other-template"),
        ],
        status_callback=receiver.url,
    )
    assert response.code == "000000"
    assert [message.to for message in response.results] == [
        "+4915100000001",
        "+8613800000000",
        "+8613900000000",
    ]
    assert all(MSG_ID.fullmatch(message.sms_msg_id) for message in response.results)
    reports = {report["smsMsgId"]: report["status"] for report in (receiver.get() for _ in range(3))}
    ids = [message.sms_msg_id for message in response.results]
    assert reports == {ids[0]: "UNDELIV", ids[1]: "DELIVRD", ids[2]: "DELIVRD"}
    sent = simulator.sent
    assert sent[0]["api"] == sms_api.BATCH_SEND_PATH
    assert sent[0]["template_paras"] == ["3", "gate"] and sent[2]["template_id"] == "other-template"


def test_a_failed_push_is_logged_and_the_simulator_goes_on(
    client: SmsClient, simulator: SimulatorServer
) -> None:
    callback = f"http://127.0.0.1:{closed_port()}/report"
    client.send(sender=SENDER, to=["+8613800000000"], template_id=TEMPLATE, status_callback=callback)
    pushed = simulator.wait_for_pushes(1)
    assert pushed[0]["error"] and pushed[0]["http_status"] is None
    assert client.send(sender=SENDER, to=["+8613800000000"], template_id=TEMPLATE).code == "000000"


def test_closing_the_simulator_drops_pending_pushes(
    start_simulator: Callable[..., SimulatorServer], receiver: Receiver
) -> None:
    server = start_simulator("+86=DELIVRD@30")
    SmsClient(server.url, KEY, SECRET).send(
        sender=SENDER, to=["+8613800000000"], template_id=TEMPLATE, status_callback=receiver.url
    )
    assert server.pending_pushes == 1
    started = time.monotonic()
    server.shutdown()
    server.server_close()
    assert server.pending_pushes == 0
    assert time.monotonic() - started < 5


# Rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("+99900=none", Rule("+99900", None, 2.0)),
        ("+4915=UNDELIV@5", Rule("+4915", "UNDELIV", 5.0)),
        ("+86=DELIVRD@0.5", Rule("+86", "DELIVRD", 0.5)),
        (" +1 = SGIP:216 @ 0 ", Rule("+1", "SGIP:216", 0.0)),
        ("+44=NONE@1", Rule("+44", None, 1.0)),
    ],
)
def test_rules_parse(text: str, rule: Rule) -> None:
    assert Rule.parse(text) == rule


@pytest.mark.parametrize(
    "text", ["", "+49", "=DELIVRD", "+49=", "49a=DELIVRD", "+49=DELIVRD@soon", "+49=X@-1"]
)
def test_bad_rules_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="rule"):
        Rule.parse(text)


def test_the_first_matching_rule_wins(start_simulator: Callable[..., SimulatorServer]) -> None:
    server = start_simulator("+4915=UNDELIV@1", "+49=none", default_status="EXPIRED")
    assert server.plan("+4915123") == ("UNDELIV", 1.0)
    assert server.plan("+4930123") == (None, FAST)
    assert server.plan("+8613800000000") == ("EXPIRED", FAST)


# Input validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"to": []}, "at least one"),
        ({"to": "+8613800000000"}, "list"),
        ({"to": ["+86 138 0000 0000"]}, "global format"),
        ({"to": ["0049-151"]}, "global format"),
        ({"to": ["+" + "1" * 21]}, "longer than 21"),
        ({"to": [f"+49{n:010d}" for n in range(501)]}, "at most 500"),
        ({"template_id": ""}, "templateId"),
        ({"template_id": "x" * 33}, "templateId"),
        ({"template_paras": [123456]}, "strings"),
        ({"template_paras": [""]}, "empty"),
        ({"template_paras": "123456"}, "list of strings"),
        ({"extend": "order{42}"}, "extend"),
        ({"extend": "x" * 129}, "128"),
        ({"status_callback": "ftp://example.com/report"}, "statusCallback"),
        ({"sender": ""}, "sender"),
    ],
)
def test_bad_input_is_refused_before_sending(changes: dict[str, Any], message: str) -> None:
    client = SmsClient(f"http://127.0.0.1:{closed_port()}", KEY, SECRET)
    arguments: dict[str, Any] = {
        "sender": SENDER,
        "to": ["+8613800000000"],
        "template_id": TEMPLATE,
        **changes,
    }
    with pytest.raises(ValueError, match=message):
        client.send(**arguments)


@pytest.mark.parametrize("base_url", ["", "smsapi.example.com", "ftp://smsapi.example.com"])
def test_a_bad_base_url_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="APP access address"):
        SmsClient(base_url, KEY, SECRET)


def test_bad_batch_input_is_refused_before_sending() -> None:
    client = SmsClient(f"http://127.0.0.1:{closed_port()}", KEY, SECRET)
    with pytest.raises(ValueError, match="at least one"):
        client.send_batch(sender=SENDER, groups=[])
    with pytest.raises(ValueError, match=r"groups\[1\]\.to"):
        client.send_batch(
            sender=SENDER,
            groups=[SmsContent(["+8613800000000"], TEMPLATE), SmsContent(["+86abc"], TEMPLATE)],
        )
    too_many = [SmsContent([f"+49{n:010d}" for n in range(300)], TEMPLATE) for _ in range(2)]
    with pytest.raises(ValueError, match="at most 500"):
        client.send_batch(sender=SENDER, groups=too_many)


# Settings and the command -------------------------------------------------------------------


def test_client_from_settings(settings: Any) -> None:
    settings.SMS_API_URL = "https://smsapi.ap-southeast-1.myhuaweicloud.com:443"
    settings.SMS_APP_KEY = KEY
    settings.SMS_APP_SECRET = SECRET
    settings.SMS_API_TIMEOUT_SECONDS = 7
    client = client_from_settings()
    assert (client.base_url, client.app_key, client.app_secret, client.timeout) == (
        settings.SMS_API_URL,
        KEY,
        SECRET,
        7,
    )
    settings.SMS_APP_SECRET = ""
    with pytest.raises(SmsNotConfigured, match="SMS_APP_SECRET"):
        client_from_settings()


def test_the_command_passes_its_options_to_the_simulator(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SMS_APP_KEY = ""
    settings.SMS_APP_SECRET = ""
    seen: dict[str, Any] = {}

    def fake_serve(host: str, port: int, *, on_ready: Callable[..., None], **options: Any) -> None:
        seen.update(options, host=host, port=port)
        on_ready(type("Server", (), {"url": f"http://{host}:{port}"})())

    monkeypatch.setattr(command, "serve", fake_serve)
    out = io.StringIO()
    call_command(
        "sms_simulator", "--port", "9", "--rule", "+99900=none", "--rule", "+49=UNDELIV@5", stdout=out
    )
    assert (seen["host"], seen["port"], seen["app_key"], seen["app_secret"]) == (
        "127.0.0.1",
        9,
        "demo-app-key",
        "demo-app-secret",
    )
    assert seen["rules"] == [Rule("+99900", None, 2.0), Rule("+49", "UNDELIV", 5.0)]
    assert (seen["default_status"], seen["default_delay"]) == ("DELIVRD", 2.0)
    assert "listening on http://127.0.0.1:9" in out.getvalue()

    settings.SMS_APP_KEY, settings.SMS_APP_SECRET = KEY, SECRET
    call_command("sms_simulator", "--status", "none", stdout=io.StringIO())
    assert (seen["app_key"], seen["app_secret"], seen["default_status"]) == (KEY, SECRET, None)


def test_the_command_refuses_a_bad_rule() -> None:
    with pytest.raises(CommandError, match="PREFIX=STATUS"):
        call_command("sms_simulator", "--rule", "+49", stdout=io.StringIO())


def test_a_busy_port_is_an_os_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError):
            make_server("127.0.0.1", busy.getsockname()[1], app_key=KEY, app_secret=SECRET)

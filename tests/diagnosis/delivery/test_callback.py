"""POST /hooks/sms-status/<token>/: every documented body shape, signatures, limits, and duplicates."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from celery.app.task import Task
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from diagnosis.cases import matching
from diagnosis.delivery import known_sources
from diagnosis.huawei import signing
from diagnosis.models import Case, CaseState, RejectedPayload, StatusReport, StatusSource
from tests.diagnosis.conftest import walk_to

FORM = "application/x-www-form-urlencoded"
EXAMPLES = [
    "sequence=1&total=1&orgCode=000&updateTime=2018-04-13T06%3A31%3A46Z&source=2&smsMsgId=b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6&status=DELIVRD",
    "sequence=1&total=1&updateTime=2018-10-31T08%3A43%3A41Z&source=2&smsMsgId=2ea20735-f856-4376-afbf-570bd70a46ee_11840135&status=DELIVRD",
    "sequence=1&total=1&updateTime=2018-10-31T08%3A43%3A41Z&source=2&smsMsgId=2ea20735-f856-4376-afbf-570bd70a46ee_11840135&status=E200027",
    "smsMsgId=2ea20735-f856-4376-afbf-570bd70a46ee_11840135&total=1&sequence=1&source=1&status=EXPIRED",
    "smsMsgId=msg-42&total=2&sequence=2&source=2&updateTime=2024-05-01T08%3A00%3A05Z&status=DELIVRD&extend=order-42&to=%2B8613800138000",
]


@pytest.fixture
def source(db: None) -> StatusSource:
    return StatusSource.objects.create(name="huawei-cn")


def post(client: Client, source: StatusSource, body: str | bytes, content_type: str = FORM, **headers: str):
    return client.post(source.callback_path(), data=body, content_type=content_type, headers=headers)


@pytest.mark.parametrize(
    "body",
    EXAMPLES,
    ids=["status-page", "sample-ok", "sample-huawei-code", "expired-no-update-time", "long-sms-part-with-to"],
)
def test_documented_bodies_are_accepted_and_stored(client: Client, source: StatusSource, body: str) -> None:
    response = post(client, source, body)

    assert response.status_code == 200
    assert response.content == b""
    report = StatusReport.objects.get()
    fields = dict(pair.split("=", 1) for pair in body.split("&"))
    assert report.msg_id == fields["smsMsgId"]
    assert report.status == fields["status"]
    assert report.channel == "callback"
    assert report.raw["smsMsgId"] == fields["smsMsgId"]
    if "updateTime" in fields:
        assert report.updated_at is not None
    else:
        assert report.updated_at is None
    source.refresh_from_db()
    assert source.last_report_at is not None


def test_long_sms_parts_and_extra_fields(client: Client, source: StatusSource) -> None:
    post(client, source, EXAMPLES[4])
    post(client, source, EXAMPLES[4].replace("sequence=2", "sequence=1") + "&brandNewField=kept")

    parts = StatusReport.objects.order_by("sequence")
    assert [(r.sequence, r.total) for r in parts] == [(1, 2), (2, 2)]
    assert parts[0].raw["brandNewField"] == "kept"
    assert parts[1].to_number == "+8613800138000"
    assert parts[1].extend == "order-42"


@pytest.mark.parametrize("status", ["SMGPERR:52", "REJECTD*704", "ZZ:99999", "UNDELIVE"])
def test_long_and_unknown_codes_are_kept(client: Client, source: StatusSource, status: str) -> None:
    assert post(client, source, f"smsMsgId=m1&status={status}").status_code == 200
    assert StatusReport.objects.get().status == status


def test_a_redelivered_report_is_acknowledged_and_stored_once(client: Client, source: StatusSource) -> None:
    assert post(client, source, EXAMPLES[0]).status_code == 200
    assert post(client, source, EXAMPLES[0]).status_code == 200
    assert StatusReport.objects.count() == 1


def test_batch_json_push_of_50(client: Client, source: StatusSource) -> None:
    reports = [
        {"smsMsgId": f"batch-{i}", "status": "DELIVRD", "updateTime": "2024-05-01T08:00:05Z", "source": "2"}
        for i in range(50)
    ]

    response = post(client, source, json.dumps({"statusReportList": reports}), "application/json")

    assert response.status_code == 200
    assert StatusReport.objects.count() == 50


WAITING_ID = "b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6"
# Each of these once cost its whole batch a 400; all can be read, so all are stored.
ODD = [
    {"smsMsgId": "odd-ms", "status": "DELIVRD", "updateTime": "2024-05-01T08:00:05.123Z", "source": "2"},
    {"smsMsgId": "odd-space", "status": "DELIVRD", "updateTime": "2024-05-01 08:00:05"},
    {"smsMsgId": "odd-offset", "status": "UNDELIV", "updateTime": "2024-05-01T16:00:05+0800"},
    {"smsMsgId": "odd-epoch", "status": "DELIVRD", "updateTime": 1714550405123},
    {"smsMsgId": "odd-source", "status": "DELIVRD", "source": "4"},
    {"smsMsgId": "odd-parts", "status": "DELIVRD", "total": "1", "sequence": "2"},
    {"smsMsgId": "odd-time", "status": "DELIVRD", "updateTime": "yesterday at eight"},
]
NO_MSG_ID = {"status": "DELIVRD", "updateTime": "2024-05-01T08:00:05Z", "source": "2"}


def mixed_batch(*extra: dict[str, object]) -> list[object]:
    """50 reports: plain ones, the odd ones, `extra`, and at place 25 one without a message id."""
    odd = [*ODD, *extra]
    plain = [
        {"smsMsgId": f"plain-{i}", "status": "DELIVRD", "updateTime": "2024-05-01T08:00:05Z", "source": "2"}
        for i in range(49 - len(odd))
    ]
    reports: list[object] = [*plain, *odd]
    reports.insert(24, NO_MSG_ID)
    return reports


def test_a_batch_of_50_with_odd_reports_keeps_every_readable_one(
    client: Client, source: StatusSource
) -> None:
    body = json.dumps({"statusReportList": mixed_batch()})

    response = post(client, source, body, "application/json")

    assert (response.status_code, response.content) == (200, b"")
    assert StatusReport.objects.count() == 49
    stored = {r.msg_id: r for r in StatusReport.objects.all()}
    five_past = datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC)
    assert stored["odd-ms"].updated_at == five_past.replace(microsecond=123000)
    assert stored["odd-space"].updated_at == five_past
    assert stored["odd-offset"].updated_at == five_past
    assert stored["odd-epoch"].updated_at == five_past.replace(microsecond=123000)
    assert stored["odd-source"].origin == "4"
    assert (stored["odd-parts"].sequence, stored["odd-parts"].total) == (2, 1)
    assert stored["odd-parts"].parts_inconsistent
    assert not stored["plain-0"].parts_inconsistent
    assert stored["odd-time"].updated_at is None
    assert stored["odd-time"].raw["updateTime"] == "yesterday at eight"
    kept = RejectedPayload.objects.get()
    assert kept.reason == "report 25 of 50: smsMsgId is missing"
    assert json.loads(kept.body) == NO_MSG_ID
    assert (kept.source, kept.content_type) == (source, "application/json")


def test_a_mixed_batch_delivered_again_stores_nothing_twice(client: Client, source: StatusSource) -> None:
    body = json.dumps({"statusReportList": mixed_batch()})

    assert post(client, source, body, "application/json").status_code == 200
    assert post(client, source, body, "application/json").status_code == 200

    assert StatusReport.objects.count() == 49


def test_a_batch_with_no_readable_report_is_400_and_each_report_is_kept(
    client: Client, source: StatusSource
) -> None:
    reports = [NO_MSG_ID, ["not", "an", "object"], {"smsMsgId": "m1"}]

    response = post(client, source, json.dumps({"statusReportList": reports}), "application/json")

    assert response.status_code == 400
    reasons = [
        "report 1 of 3: smsMsgId is missing",
        "report 2 of 3: a report must be an object, got a list",
        "report 3 of 3: status is missing",
    ]
    assert response.content.decode() == "".join(f"{reason}\n" for reason in reasons)
    assert not StatusReport.objects.exists()
    kept = RejectedPayload.objects.order_by("pk")
    assert [row.reason for row in kept] == reasons
    assert [json.loads(row.body) for row in kept] == reports


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("smsMsgId=m1&status=DELIVRD&updateTime=yesterday", lambda r: r.updated_at is None),
        ("smsMsgId=m1&status=DELIVRD&updateTime=2024-05-01+08%3A00%3A05.5", lambda r: r.updated_at),
        ("smsMsgId=m1&status=DELIVRD&total=two", lambda r: r.parts_inconsistent and r.total == 0),
        ("smsMsgId=m1&status=DELIVRD&total=1&sequence=2", lambda r: r.parts_inconsistent),
        ("smsMsgId=m1&status=DELIVRD&source=9", lambda r: r.origin == "9"),
    ],
    ids=["unreadable-time", "space-and-fraction", "total-not-a-number", "sequence-past-total", "source-9"],
)
def test_an_odd_single_report_is_stored(
    client: Client, source: StatusSource, body: str, check: Callable[[StatusReport], object]
) -> None:
    assert post(client, source, body).status_code == 200
    assert check(StatusReport.objects.get())
    assert not RejectedPayload.objects.exists()


def test_a_number_the_library_does_not_know_is_kept_as_e164(client: Client, source: StatusSource) -> None:
    body = "smsMsgId=m1&status=DELIVRD&extend=order-1&to=%2B447700900123"

    assert post(client, source, body).status_code == 200

    assert StatusReport.objects.get().to_number == "+447700900123"


def _run_matcher(callbacks: list[Callable[[], object]]) -> None:
    """The callback queued nothing; beat's matcher finds its reports and matches them."""
    assert callbacks == []
    assert matching.match_unmatched() >= 1


def _waiting_case(make_case: Callable[..., Case], agent: User, **options: object) -> Case:
    from diagnosis.cases import services

    case = make_case(**options)
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    return walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)


def test_a_waiting_case_resumes_from_its_report_in_a_mixed_batch_and_its_page_shows_it(
    client: Client,
    source: StatusSource,
    make_case: Callable[..., Case],
    agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = _waiting_case(make_case, agent, msg_ids=(WAITING_ID,))
    assert case.state == CaseState.WAITING
    # Its report has every oddity at once: a space and milliseconds, a new source, parts past total.
    sent = timezone.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.250")
    own: dict[str, object] = {
        "smsMsgId": WAITING_ID,
        "status": "DELIVRD",
        "updateTime": sent,
        "source": "4",
        "sequence": "2",
    }
    body = json.dumps({"statusReportList": mixed_batch(own)})

    with django_capture_on_commit_callbacks() as callbacks:
        assert post(client, source, body, "application/json").status_code == 200
    _run_matcher(callbacks)

    case.refresh_from_db()
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    assert case.answers.get(node="wait_phone_off").evidence == "DELIVRD"
    assert agent.notifications.get().text == f"{case.reference} resumed: a status report arrived."
    assert RejectedPayload.objects.get().reason == "report 25 of 50: smsMsgId is missing"
    client.force_login(agent)
    page = client.get(f"/cases/{case.reference}/?panels=all")
    content = page.content.decode()
    assert page.status_code == 200
    assert "Suggested from stored reports" in content
    assert "<code>DELIVRD</code>" in content
    assert "unknown origin (4)" in content
    assert "part 2 of 1 as sent: the numbers do not add up" in content


def test_a_waiting_case_with_a_number_the_library_does_not_know_is_matched_by_number(
    client: Client,
    source: StatusSource,
    make_case: Callable[..., Case],
    agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = _waiting_case(make_case, agent, number="+44 7700 900123", msg_ids=())
    assert list(case.recipients.values_list("e164", flat=True)) == ["+447700900123"]
    # A message id the case does not know: only the number ties the report to it.
    body = "smsMsgId=test-sms-1&status=DELIVRD&source=2&extend=SMS-1&to=%2B447700900123"

    with django_capture_on_commit_callbacks() as callbacks:
        assert post(client, source, body).status_code == 200
    _run_matcher(callbacks)

    assert StatusReport.objects.get().to_number == "+447700900123"
    case.refresh_from_db()
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ("status=DELIVRD", FORM, "smsMsgId is missing"),
        ("smsMsgId=m1", FORM, "status is missing"),
        ("{not json", "application/json", "not valid JSON"),
        ('{"statusReportList": []}', "application/json", "non-empty statusReportList"),
        (
            json.dumps({"statusReportList": [{"smsMsgId": str(i), "status": "DELIVRD"} for i in range(51)]}),
            "application/json",
            "at most 50",
        ),
        ("", FORM, "form body is empty"),
        ("<xml/>", "text/xml", "unsupported content type"),
    ],
)
def test_malformed_bodies_get_400_with_the_reason_and_are_kept(
    client: Client, source: StatusSource, body: str, content_type: str, reason: str
) -> None:
    response = post(client, source, body, content_type)

    assert response.status_code in (400, 415)
    assert reason in response.content.decode()
    assert StatusReport.objects.count() == 0
    kept = RejectedPayload.objects.get()
    assert reason in kept.reason and kept.source == source and kept.body == body


def test_oversize_body_is_413(client: Client, source: StatusSource) -> None:
    body = "smsMsgId=m1&status=DELIVRD&extend=" + "x" * (64 * 1024)
    response = post(client, source, body)
    assert response.status_code == 413
    assert StatusReport.objects.count() == 0


def test_wrong_or_revoked_token_is_404_and_the_body_is_not_kept(client: Client, source: StatusSource) -> None:
    assert (
        client.post("/hooks/sms-status/not-a-token/", data=EXAMPLES[0], content_type=FORM).status_code == 404
    )
    source.revoked_at = timezone.now()
    source.save()
    assert post(client, source, EXAMPLES[0]).status_code == 404
    assert not RejectedPayload.objects.exists() and not StatusReport.objects.exists()


def test_only_post(client: Client, source: StatusSource) -> None:
    assert client.get(source.callback_path()).status_code == 405


@pytest.fixture
def signed_source(db: None) -> StatusSource:
    return StatusSource.objects.create(
        name="signed", push_access_key="push-ak-1", push_secret_key="push-sk-secret"
    )


def _signed(
    source: StatusSource, body: bytes, *, secret: str | None = None, when: datetime | None = None
) -> dict[str, str]:
    headers = {"Content-Type": FORM, "Host": "testserver"}
    if when:
        headers["X-Sdk-Date"] = when.strftime(signing.DATE_FORMAT)
    signed = signing.sign(
        source.push_access_key,
        secret or source.push_secret_key,
        "POST",
        source.callback_path(),
        "",
        headers,
        body,
    )
    return {k: v for k, v in signed.items() if k != "Content-Type"}


def test_signed_push_good_bad_and_stale(client: Client, signed_source: StatusSource) -> None:
    body = EXAMPLES[0].encode()

    good = post(client, signed_source, body, **_signed(signed_source, body))
    bad = post(client, signed_source, body, **_signed(signed_source, body, secret="wrong"))
    stale = post(
        client,
        signed_source,
        body,
        **_signed(signed_source, body, when=datetime.now(UTC) - timedelta(minutes=20)),
    )
    unsigned = post(client, signed_source, body)

    assert good.status_code == 200
    assert (bad.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    assert b"signature does not match" in bad.content
    assert b"15 minutes" in stale.content
    assert StatusReport.objects.count() == 1


def test_a_report_for_a_waiting_case_resumes_it_and_tells_the_agent(
    client: Client, source: StatusSource, make_case: Callable[..., Case], agent: User
) -> None:
    from diagnosis.cases import services

    case = make_case(msg_ids=("b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6",))
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)

    post(client, source, EXAMPLES[0])
    resumed = matching.reports_arrived(["b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6"])

    case.refresh_from_db()
    assert resumed == [case.pk]
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    assert case.answers.get(node="wait_phone_off").evidence == "DELIVRD"
    assert agent.notifications.get().text == f"{case.reference} resumed: a status report arrived."
    assert matching.reports_arrived(["b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6"]) == []  # once


@pytest.mark.django_db(transaction=True)
def test_the_same_report_posted_50_times_at_once_is_stored_once(requires_postgres: None) -> None:
    source = StatusSource.objects.create(name="race")
    barrier = threading.Barrier(50)
    statuses: list[int] = []

    def push() -> None:
        barrier.wait()
        try:
            statuses.append(
                Client().post(source.callback_path(), data=EXAMPLES[1], content_type=FORM).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=push) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200] * 50
    assert StatusReport.objects.count() == 1


@pytest.mark.parametrize("charset", ["unicode_escape", "raw-unicode-escape"])
def test_an_escape_codec_is_no_charset(client: Client, source: StatusSource, charset: str) -> None:
    body = b"smsMsgId=a-1&status=DELIVRD&statusDesc=\\q"
    response = post(client, source, body, f"application/x-www-form-urlencoded; charset={charset}")

    assert response.status_code == 415
    assert b"unsupported charset" in response.content
    assert not StatusReport.objects.exists()


def test_a_rejected_body_records_the_senders_address_as_the_proxy_saw_it(
    client: Client, source: StatusSource, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    response = post(client, source, "{not json", "application/json", x_forwarded_for="6.6.6.6, 203.0.113.9")

    assert response.status_code == 400
    # The proxy appended the platform's address; what the sender wrote before it is ignored.
    assert RejectedPayload.objects.get().remote_addr == "203.0.113.9"


# --- Statements per callback, and no broker ------------------------------------------------


def _batch(count: int) -> str:
    reports = [
        {"smsMsgId": f"m-{n}", "status": "DELIVRD", "updateTime": "2024-05-01T08:00:05Z"}
        for n in range(count)
    ]
    return json.dumps({"statusReportList": reports})


def test_a_form_callback_is_the_token_lookup_and_one_insert(
    client: Client, source: StatusSource, django_assert_num_queries: Any
) -> None:
    StatusSource.objects.filter(pk=source.pk).update(last_report_at=timezone.now())

    with django_assert_num_queries(2) as captured:  # no transaction: nothing else to write with it
        assert post(client, source, EXAMPLES[0]).status_code == 200
    assert "ON CONFLICT" in captured.captured_queries[1]["sql"]
    assert StatusReport.objects.count() == 1


def test_a_batch_callback_is_one_insert_and_the_minutely_last_report_write(
    client: Client, source: StatusSource, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(3):  # token, INSERT … RETURNING, last_report_at (none yet)
        assert post(client, source, _batch(50), "application/json").status_code == 200
    with django_assert_num_queries(1):  # the source remembered, and no last_report_at write within the minute
        assert post(client, source, _batch(50), "application/json").status_code == 200  # all redelivered
    assert StatusReport.objects.count() == 50


def test_a_batch_with_an_unreadable_report_keeps_both_in_one_transaction(
    client: Client, source: StatusSource, django_assert_num_queries: Any
) -> None:
    StatusSource.objects.filter(pk=source.pk).update(last_report_at=timezone.now())
    body = json.loads(_batch(3))
    body["statusReportList"].append({"status": "DELIVRD"})

    # token, savepoint, the rejected item, INSERT … RETURNING, release
    with django_assert_num_queries(5):
        assert post(client, source, json.dumps(body), "application/json").status_code == 200
    assert StatusReport.objects.count() == 3
    assert RejectedPayload.objects.get().reason == "report 4 of 4: smsMsgId is missing"


def test_a_callback_queues_no_task_and_needs_no_broker(
    client: Client,
    source: StatusSource,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    attempts: list[str] = []

    def unreachable(task: Task, *args: object, **kwargs: object) -> None:
        attempts.append(task.name)
        raise ConnectionRefusedError("the broker is unreachable")

    monkeypatch.setattr(Task, "apply_async", unreachable)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert post(client, source, EXAMPLES[0]).status_code == 200
        assert post(client, source, _batch(50), "application/json").status_code == 200

    assert (callbacks, attempts) == ([], [])
    assert StatusReport.objects.filter(matched_at__isnull=True).count() == 51  # the matcher's to match


def test_a_source_is_remembered_for_seconds_and_a_revocation_takes_effect_within_them(
    client: Client, source: StatusSource, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(known_sources, "_clock", lambda: clock[0])
    assert post(client, source, EXAMPLES[0]).status_code == 200
    with django_assert_num_queries(1):  # the INSERT alone: the source is remembered
        assert post(client, source, EXAMPLES[1]).status_code == 200

    # Revoked from another process (the status_source command): no signal reaches this one.
    StatusSource.objects.filter(pk=source.pk).update(revoked_at=timezone.now())
    clock[0] += known_sources.REMEMBER_SECONDS - 0.5
    assert post(client, source, EXAMPLES[2]).status_code == 200
    clock[0] += 1
    assert post(client, source, EXAMPLES[3]).status_code == 404
    assert StatusReport.objects.count() == 3


def test_a_source_revoked_in_this_process_is_refused_at_once(client: Client, source: StatusSource) -> None:
    assert post(client, source, EXAMPLES[0]).status_code == 200
    source.revoked_at = timezone.now()
    source.save()  # the admin, say
    assert post(client, source, EXAMPLES[1]).status_code == 404

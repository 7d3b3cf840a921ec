"""POST /hooks/sms-status/<token>/: every documented body shape, signatures, limits, and duplicates."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from diagnosis import delivery, signing
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


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ("status=DELIVRD", FORM, "smsMsgId is missing"),
        ("smsMsgId=m1", FORM, "status is missing"),
        ("smsMsgId=m1&status=DELIVRD&updateTime=yesterday", FORM, "updateTime must look like"),
        ("smsMsgId=m1&status=DELIVRD&total=two", FORM, "total must be a whole number"),
        ("smsMsgId=m1&status=DELIVRD&total=1&sequence=2", FORM, "sequence 2 is larger than total 1"),
        ("{not json", "application/json", "not valid JSON"),
        ('{"statusReportList": []}', "application/json", "non-empty statusReportList"),
        (
            '{"statusReportList": [{"smsMsgId": "a", "status": "DELIVRD"}, {"status": "X"}]}',
            "application/json",
            "report 2: smsMsgId is missing",
        ),
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
    assert StatusReport.objects.count() == 0  # nothing half-written, even from a mixed batch
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
    from diagnosis import services

    case = make_case(msg_ids=("b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6",))
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    walk_to(case, [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)

    post(client, source, EXAMPLES[0])
    resumed = delivery.reports_arrived(["b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6"])

    case.refresh_from_db()
    assert resumed == [case.pk]
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    assert case.answers.get(node="wait_phone_off").evidence == "DELIVRD"
    assert agent.notifications.get().text == f"{case.reference} resumed: a status report arrived."
    assert delivery.reports_arrived(["b9d9b4fe-ad0e-4a2a-a2c7-445505b674ac_6"]) == []  # once


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

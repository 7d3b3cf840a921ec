"""Leads upload a Send Details export; a worker imports it in the background; waiting cases in it resume."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from diagnosis.cases import send_details_imports
from diagnosis.models import Case, CaseState, ImportState, SendDetailsImport, StatusReport
from tests.diagnosis.conftest import MSG_ID, walk_to

CSV = (
    "smsMsgId,Recipient Number,Status,Update Time\n"
    f"{MSG_ID},+4915123456789,UNDELIV,2026-11-20 09:00:00\n"
    "broken,,,\n"
)
WAITING_ROUTE = [("report_returned", "no_report"), ("dial_recipient", "yes")]


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(text: str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile("send-details.csv", text.encode(encoding), content_type="text/csv")


def post(client: Client, text: str, encoding: str = "utf-8-sig", **extra: Any) -> Any:
    return client.post(
        "/leads/import/",
        {"file": upload(text), "encoding": encoding, "timezone": "Asia/Shanghai"},
        **extra,
    )


def rows(count: int, start: int = 0) -> str:
    lines = [f"m-{i},+4915123{i:06d},DELIVRD,2026-11-20 09:00:00" for i in range(start, start + count)]
    return "smsMsgId,Recipient Number,Status,Update Time\n" + "\n".join(lines) + "\n"


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


# --- The upload --------------------------------------------------------------------------------


def test_upload_stores_the_file_and_queues_it_without_importing(
    client: Client, lead: User, _uploads_in_tmp: Path
) -> None:
    client.force_login(lead)

    response = post(client, CSV)

    job = SendDetailsImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/leads/import/{job.pk}/"
    assert (job.state, job.rows_estimate, job.rows_done, job.uploaded_by) == (ImportState.QUEUED, 2, 0, lead)
    assert job.file_name == "send-details.csv" and len(stored_files(_uploads_in_tmp)) == 1
    assert not StatusReport.objects.exists(), "the request must not import"
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page and "0 of about 2 rows" in page and "Waiting for a worker" in page


def test_htmx_upload_redirects_the_browser_to_the_import(client: Client, lead: User) -> None:
    client.force_login(lead)
    response = post(client, CSV, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == f"/leads/import/{SendDetailsImport.objects.get().pk}/"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "foo,bar\n1,2\n",
            'This file has no column for the message ID or the status. For the message ID we look for columns named "smsMsgId", "SMS ID", "Message ID", "消息ID" or "短信ID"; for the status, "Status Code", "状态码", "Delivery Status", "Status" or "状态". Your file has "foo", "bar".',  # noqa: E501
        ),
        (
            "SMS ID,Result\nm-1,DELIVRD\n",
            'This file has no column for the status. We look for columns named "Status Code", "状态码", "Delivery Status", "Status" or "状态"; your file has "SMS ID", "Result".',  # noqa: E501
        ),
        ("\n\n", "The file is empty: expected a header row first."),
    ],
)
def test_a_wrong_header_is_explained_next_to_the_file_and_nothing_is_stored(
    client: Client, lead: User, _uploads_in_tmp: Path, text: str, message: str
) -> None:
    client.force_login(lead)

    response = post(client, text)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [message]
    content = response.content.decode()
    assert "SEND_DETAILS_COLUMNS" not in content and "msg_id" not in content
    assert not SendDetailsImport.objects.exists() and stored_files(_uploads_in_tmp) == []


def test_a_wrong_header_answers_htmx_with_the_form_alone(client: Client, lead: User) -> None:
    client.force_login(lead)
    response = post(client, "foo,bar\n", HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert content.lstrip().startswith('<form id="upload-form"') and "no column for the message ID" in content


def test_a_file_in_another_encoding_is_refused_at_once(client: Client, lead: User) -> None:
    client.force_login(lead)
    text = "消息ID,状态\nm-1,DELIVRD\n"
    response = client.post(
        "/leads/import/", {"file": upload(text, "gb18030"), "encoding": "utf-8-sig", "timezone": "UTC"}
    )
    [error] = response.context["form"].errors["file"]
    assert error.startswith("The file is not in the chosen encoding (line 1 cannot be read)")
    assert not SendDetailsImport.objects.exists()


# --- The background import ------------------------------------------------------------------


def test_the_run_imports_counts_rejects_and_resumes_then_drops_the_file(
    client: Client, lead: User, agent: User, make_case: Callable[..., Case], _uploads_in_tmp: Path
) -> None:
    case = walk_to(make_case(), WAITING_ROUTE, agent)
    client.force_login(lead)
    post(client, CSV)
    job = SendDetailsImport.objects.get()

    assert send_details_imports.run(job.pk) is True

    job.refresh_from_db()
    assert (job.state, job.rows_done, job.imported, job.duplicates, job.rejected) == (
        ImportState.DONE,
        2,
        1,
        0,
        1,
    )
    assert job.rejections == [[3, "the status is empty"]]
    assert job.resumed == [case.pk] and job.attempts == 1 and job.finished_at is not None
    report = StatusReport.objects.get()
    assert report.updated_at is not None
    assert report.channel == "import" and report.updated_at.isoformat() == "2026-11-20T01:00:00+00:00"
    case.refresh_from_db()
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    assert stored_files(_uploads_in_tmp) == [] and not job.file, "the upload holds numbers: dropped when done"
    page = client.get(f"/leads/import/{job.pk}/").content.decode()
    assert "Import finished" in page and f'href="/cases/{case.reference}/"' in page
    assert "Line 3: the status is empty" in page and "<progress" not in page
    assert send_details_imports.run(job.pk) is False, "a finished import is never run again"


def test_importing_the_same_file_again_counts_everything_as_already_known(client: Client, lead: User) -> None:
    client.force_login(lead)
    for _ in range(2):
        post(client, rows(5))
        send_details_imports.run(SendDetailsImport.objects.order_by("-pk")[0].pk)

    first, second = SendDetailsImport.objects.order_by("pk")
    assert (first.imported, first.duplicates) == (5, 0)
    assert (second.imported, second.duplicates) == (0, 5)
    assert StatusReport.objects.count() == 5


def test_a_file_that_stops_decoding_midway_fails_before_storing_anything(client: Client, lead: User) -> None:
    client.force_login(lead)
    # Past the first bytes the upload checks: only the worker reads that far.
    body = rows(3000).encode() + "m-9,+4915123000009,成功,2026-11-20 09:00:00\n".encode("gb18030")
    client.post(
        "/leads/import/",
        {"file": SimpleUploadedFile("x.csv", body), "encoding": "utf-8-sig", "timezone": "UTC"},
    )
    job = SendDetailsImport.objects.get()

    send_details_imports.run(job.pk)

    job.refresh_from_db()
    assert job.state == ImportState.FAILED and "line 3002 cannot be read" in job.error
    assert not StatusReport.objects.exists()
    assert "The import stopped" in client.get(f"/leads/import/{job.pk}/").content.decode()


def test_an_import_that_keeps_stopping_is_given_up_with_a_reason(client: Client, lead: User) -> None:
    client.force_login(lead)
    post(client, CSV)
    job = SendDetailsImport.objects.get()
    SendDetailsImport.objects.filter(pk=job.pk).update(
        state=ImportState.RUNNING, attempts=send_details_imports.MAX_ATTEMPTS, claimed_until=timezone.now()
    )

    assert send_details_imports.dispatch_stale(timezone.now() + timedelta(seconds=1)) == 0

    job.refresh_from_db()
    assert job.state == ImportState.FAILED and "stopped 3 times" in job.error and not job.file


# --- The pages ----------------------------------------------------------------------------------


def test_the_progress_part_polls_until_the_import_ends(client: Client, lead: User) -> None:
    client.force_login(lead)
    post(client, rows(3))
    job = SendDetailsImport.objects.get()
    SendDetailsImport.objects.filter(pk=job.pk).update(state=ImportState.RUNNING, rows_done=2)

    running = client.get(f"/leads/import/{job.pk}/", HTTP_HX_REQUEST="true")
    content = running.content.decode()
    assert running.status_code == 200 and 'hx-trigger="every 2s"' in content
    assert '<progress class="import-progress" max="3" value="2"' in content and "2 of about 3 rows" in content
    assert "<form" not in content, "the poll returns the progress part alone"

    assert send_details_imports.run(job.pk) is True
    done = client.get(f"/leads/import/{job.pk}/", HTTP_HX_REQUEST="true")
    assert done.status_code == 286 and "Import finished" in done.content.decode()
    assert "hx-trigger" not in done.content.decode()


def test_the_upload_page_lists_recent_imports_in_constant_queries(
    client: Client, lead: User, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    client.force_login(lead)
    post(client, CSV)
    client.get("/leads/import/")
    with django_assert_max_num_queries(6):
        few = client.get("/leads/import/")
    for _ in range(12):
        post(client, CSV)
    with django_assert_max_num_queries(6):
        many = client.get("/leads/import/")
    assert few.content.decode().count("/leads/import/") < many.content.decode().count("/leads/import/")
    job = SendDetailsImport.objects.first()
    assert job is not None
    with django_assert_max_num_queries(7):
        assert client.get(f"/leads/import/{job.pk}/").status_code == 200


def test_an_unknown_import_is_404(client: Client, lead: User) -> None:
    client.force_login(lead)
    assert client.get("/leads/import/999999/").status_code == 404


@pytest.mark.parametrize("persona", ["agent", "outsider"])
def test_only_leads_upload_or_see_imports(
    client: Client, request: pytest.FixtureRequest, lead: User, persona: str
) -> None:
    client.force_login(lead)
    post(client, CSV)
    job = SendDetailsImport.objects.get()
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/leads/import/").status_code == 403
    assert post(client, CSV).status_code == 403
    assert client.get(f"/leads/import/{job.pk}/").status_code == 403
    assert SendDetailsImport.objects.count() == 1


def test_anonymous_is_sent_to_login(client: Client, db: None) -> None:
    assert client.get("/leads/import/")["Location"].startswith("/accounts/login/")
    assert client.get("/leads/import/1/")["Location"].startswith("/accounts/login/")


# --- With the real worker ----------------------------------------------------------------------


def wait_until_finished(pk: int, seconds: float = 30) -> SendDetailsImport:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = SendDetailsImport.objects.get(pk=pk)
        if job.finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"import {pk} did not finish: {SendDetailsImport.objects.get(pk=pk).state}")


def test_a_worker_imports_the_upload_in_the_background(
    celery_worker: Any, client: Client, lead: User, agent: User, make_case: Callable[..., Case]
) -> None:
    case = walk_to(make_case(), WAITING_ROUTE, agent)
    client.force_login(lead)

    post(client, CSV)

    job = wait_until_finished(SendDetailsImport.objects.get().pk)
    assert (job.state, job.imported, job.rejected, job.resumed) == (ImportState.DONE, 1, 1, [case.pk])


def test_beat_queues_an_import_the_broker_never_took(celery_worker: Any, lead: User) -> None:
    # Written without a task, as when the broker was down at upload time.
    job = SendDetailsImport(
        file_name="lost.csv", encoding="utf-8-sig", timezone_name="UTC", uploaded_by=lead, rows_estimate=5
    )
    job.file.save("lost.csv", upload(rows(5)), save=True)

    assert send_details_imports.dispatch_stale() == 0, "a fresh upload is left to its own task first"
    assert send_details_imports.dispatch_stale(timezone.now() + send_details_imports.UNCLAIMED_AFTER) == 1

    job = wait_until_finished(job.pk)
    assert (job.state, job.imported) == (ImportState.DONE, 5)


def test_command_import_resumes_waiting_cases(
    tmp_path: Path, agent: User, make_case: Callable[..., Case], capsys: pytest.CaptureFixture[str]
) -> None:
    case = walk_to(make_case(), WAITING_ROUTE, agent)
    path = tmp_path / "export.csv"
    path.write_text(CSV)

    call_command("import_send_details", str(path))

    case.refresh_from_db()
    assert case.current_node == "status_is_delivrd"
    assert "1" in capsys.readouterr().out

"""Leads upload a Send Details export; waiting cases in it resume."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from diagnosis.models import Case, CaseState, StatusReport
from tests.diagnosis.conftest import MSG_ID, walk_to

CSV = (
    "smsMsgId,Recipient Number,Status,Update Time\n"
    f"{MSG_ID},+4915123456789,UNDELIV,2026-11-20 09:00:00\n"
    "broken,,,\n"
)


def upload(text: str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile("send-details.csv", text.encode(encoding), content_type="text/csv")


def test_lead_upload_stores_reports_and_resumes_waiting_cases(
    client: Client, lead: User, agent: User, make_case: Callable[..., Case]
) -> None:
    case = walk_to(make_case(), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)
    client.force_login(lead)

    response = client.post(
        "/leads/import/", {"file": upload(CSV), "encoding": "utf-8-sig", "timezone": "Asia/Shanghai"}
    )

    content = response.content.decode()
    assert response.status_code == 200 and "Import finished" in content
    summary = response.context["summary"]
    assert (summary.imported, summary.rejected) == (1, 1)
    report = StatusReport.objects.get()
    assert report.updated_at is not None
    assert report.channel == "import" and report.updated_at.isoformat() == "2026-11-20T01:00:00+00:00"
    case.refresh_from_db()
    assert (case.state, case.current_node) == (CaseState.IN_PROGRESS, "status_is_delivrd")
    again = client.post(
        "/leads/import/", {"file": upload(CSV), "encoding": "utf-8-sig", "timezone": "Asia/Shanghai"}
    )
    assert again.context["summary"].duplicates == 1 and StatusReport.objects.count() == 1


def test_missing_header_is_shown_next_to_the_file(client: Client, lead: User) -> None:
    client.force_login(lead)
    response = client.post(
        "/leads/import/", {"file": upload("foo,bar\n1,2\n"), "encoding": "utf-8-sig", "timezone": "UTC"}
    )
    assert "smsMsgId" in response.content.decode() and response.context["form"].errors["file"]


@pytest.mark.parametrize(("persona", "status"), [("agent", 403), ("outsider", 403)])
def test_only_leads_import(client: Client, request: pytest.FixtureRequest, persona: str, status: int) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/leads/import/").status_code == status


def test_anonymous_is_sent_to_login(client: Client, db: None) -> None:
    assert client.get("/leads/import/")["Location"].startswith("/accounts/login/")


def test_command_import_resumes_waiting_cases(
    tmp_path, agent: User, make_case: Callable[..., Case], capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    case = walk_to(make_case(), [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)
    path = tmp_path / "export.csv"
    path.write_text(CSV)

    call_command("import_send_details", str(path))

    case.refresh_from_db()
    assert case.current_node == "status_is_delivrd"
    assert "1" in capsys.readouterr().out

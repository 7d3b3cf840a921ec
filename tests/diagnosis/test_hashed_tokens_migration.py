"""Migration 0016 hashes the tokens already handed out, so links and callback addresses keep working."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from diagnosis.models import Case, StatusSource, TrackingLink, token_digest
from tests.diagnosis.conftest import rows_holding

BEFORE = [("diagnosis", "0015_event_kind_without_report")]
OLD_LINK = "pre-migration-link-" + "a" * 24
OLD_CALLBACK = "pre-migration-callback-" + "b" * 10
FORM = "application/x-www-form-urlencoded"


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_links_and_callback_addresses_from_before_the_migration_still_work() -> None:
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    old.get_model("diagnosis", "Case").objects.create(
        reference="SMS-OLD234",
        tracking_token=OLD_LINK,
        reporter_name="R",
        reporter_email="r@example.com",
        current_node="report_returned",
    )
    old.get_model("diagnosis", "Case").objects.create(
        reference="SMS-OLD235",
        tracking_token="another-" + "c" * 30,
        reporter_name="S",
        reporter_email="s@x.org",
    )
    old.get_model("diagnosis", "StatusSource").objects.create(name="huawei-intl", token=OLD_CALLBACK)

    migrate(latest())

    client = Client()
    case = Case.objects.get(reference="SMS-OLD234")
    assert TrackingLink.find_case(OLD_LINK) == case
    page = client.get(f"/support/t/{OLD_LINK}/")
    assert page.status_code == 200 and "SMS-OLD234" in page.content.decode()
    assert TrackingLink.objects.get(case=case).token_hash == token_digest(OLD_LINK)
    body = "smsMsgId=migrated-1&status=DELIVRD&updateTime=2026-11-20T10:00:00Z"
    assert client.post(f"/hooks/sms-status/{OLD_CALLBACK}/", data=body, content_type=FORM).status_code == 200
    assert StatusSource.objects.get().token_hash == token_digest(OLD_CALLBACK)
    assert rows_holding(OLD_LINK) == [] and rows_holding(OLD_CALLBACK) == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses_with_fresh_tokens() -> None:
    migrate(latest())
    Case.objects.create(reference="SMS-NEW234", reporter_name="R", reporter_email="r@example.com")
    Case.objects.create(reference="SMS-NEW235", reporter_name="S", reporter_email="s@example.com")
    StatusSource.objects.create(name="one")
    StatusSource.objects.create(name="two")

    old = migrate(BEFORE).loader.project_state(BEFORE).apps

    tokens = set(old.get_model("diagnosis", "Case").objects.values_list("tracking_token", flat=True))
    sources = set(old.get_model("diagnosis", "StatusSource").objects.values_list("token", flat=True))
    assert len(tokens) == 2 and len(sources) == 2 and None not in tokens | sources
    migrate(latest())

"""The test SMS's callback address: derived from SECRET_KEY, so the database keeps only its hash."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client
from pytest_django import Settings

from diagnosis.cases import testsms
from tests.diagnosis.conftest import rows_holding

BODY = "smsMsgId=test-sms-1&status=DELIVRD&updateTime=2026-11-20T10:00:00Z"
FORM = "application/x-www-form-urlencoded"


@pytest.mark.django_db
def test_the_test_sms_callback_address_works_and_is_stored_only_as_a_hash(client: Client) -> None:
    url = testsms.callback_url()
    token = urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]

    assert testsms.callback_url() == url  # the same address for every test SMS
    assert rows_holding(token) == []
    assert client.post(urlsplit(url).path, data=BODY, content_type=FORM).status_code == 200


@pytest.mark.django_db
def test_a_new_secret_key_gives_the_test_source_a_new_address(client: Client, settings: Settings) -> None:
    old = urlsplit(testsms.callback_url()).path
    settings.SECRET_KEY = "another-test-only-" + "q" * 60

    new = urlsplit(testsms.callback_url()).path

    assert new != old
    assert client.post(old, data=BODY, content_type=FORM).status_code == 404
    assert client.post(new, data=BODY, content_type=FORM).status_code == 200

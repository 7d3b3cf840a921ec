"""The shell follows the request's language: <html lang>, and the texts portal.js shows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_page_asked_for_in_chinese_says_so_on_html(client: Client) -> None:
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '<html lang="zh-hans">' in page


def test_english_stays_the_default(client: Client, agent: User) -> None:
    client.force_login(agent)
    page = client.get("/").content.decode()

    assert '<html lang="en">' in page
    assert "Case queue" in page


def test_the_scripts_error_messages_come_with_the_page(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()

    assert (
        'data-msg-server-error="The server could not complete that request ({status}). '
        'Reload the page and try again."' in page
    )
    assert 'data-msg-unreachable="The portal could not be reached.' in page

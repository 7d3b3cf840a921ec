"""Who reads which language: the browser, the switch on every page, and the staff preference."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from diagnosis.cases import services
from diagnosis.cases.outbox import render_email
from diagnosis.models import Case, OutboundEmail, StaffPreference
from diagnosis.workspace.language import SESSION_KEY
from tests.diagnosis.conftest import ticket, tracking_path

pytestmark = pytest.mark.django_db


def language_of(client: Client, url: str = "/support/new/", accept: str = "") -> str:
    response = client.get(url, headers={"accept-language": accept} if accept else None)
    assert response.status_code == 200
    return response["Content-Language"]


def test_a_visitor_reads_the_browser_s_language_and_english_otherwise(client: Client) -> None:
    assert language_of(client, accept="zh-CN,zh;q=0.9,en;q=0.5") == "zh-hans"
    assert language_of(client, accept="de-DE,de;q=0.9") == "en"
    assert language_of(client) == "en"


def test_the_switch_on_a_public_page_changes_the_language_and_returns_to_the_page(client: Client) -> None:
    response = client.post("/language/", {"language": "zh-hans", "next": "/support/new/"})
    assert response.status_code == 302
    assert response["Location"] == "/support/new/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert language_of(client, accept="en") == "zh-hans"


def test_the_switch_refuses_an_unknown_language_and_a_foreign_next(client: Client) -> None:
    response = client.post("/language/", {"language": "xx", "next": "https://example.org/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert client.get("/language/").status_code == 405


def test_every_page_offers_the_switch(client: Client) -> None:
    for url in ("/", "/support/new/", "/support/find/", "/accounts/login/"):
        page = client.get(url).content.decode()
        assert 'action="/language/"' in page
        assert 'value="zh-hans"' in page
    # Each language is named in its own words, whatever the page's language.
    english_page = client.get("/support/new/").content.decode()
    assert 'lang="zh-hans" class="button-link">简体中文</button>' in english_page
    chinese_page = client.get("/support/new/", headers={"accept-language": "zh-hans"}).content.decode()
    assert 'lang="en" class="button-link">English</button>' in chinese_page


def test_a_staff_preference_wins_over_the_browser_from_the_next_sign_in(client: Client, agent: User) -> None:
    StaffPreference.objects.create(user=agent, language="zh-hans")
    response = client.post("/accounts/login/", {"username": "avery", "password": "pw-avery"})
    assert response.status_code == 302
    assert language_of(client, "/cases/", accept="en-US") == "zh-hans"


def test_no_preference_follows_the_browser(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert language_of(client, "/cases/", accept="zh-hans") == "zh-hans"
    assert language_of(client, "/cases/", accept="en-GB") == "en"


def test_the_home_page_preference_is_saved_and_can_go_back_to_the_browser(client: Client, lead: User) -> None:
    client.force_login(lead)
    home = client.get("/").content.decode()
    assert 'id="language-preference"' in home

    response = client.post("/preferences/language/", {"language": "zh-hans"})
    assert response.status_code == 302
    assert StaffPreference.objects.get(user=lead).language == "zh-hans"
    assert client.session[SESSION_KEY] == "zh-hans"
    assert language_of(client, "/", accept="en") == "zh-hans"

    client.post("/preferences/language/", {"language": ""})
    assert StaffPreference.objects.get(user=lead).language == ""
    assert SESSION_KEY not in client.session
    assert language_of(client, "/", accept="en") == "en"


def test_an_unknown_language_preference_is_refused_and_nothing_is_saved(client: Client, agent: User) -> None:
    client.force_login(agent)
    response = client.post("/preferences/language/", {"language": "klingon"}, follow=True)
    assert "Choose one of the languages offered." in response.content.decode()
    assert not StaffPreference.objects.filter(user=agent).exclude(language="").exists()


def test_the_switch_used_by_staff_becomes_their_preference(client: Client, agent: User) -> None:
    client.force_login(agent)
    client.post("/language/", {"language": "zh-hans", "next": "/cases/"})
    assert StaffPreference.objects.get(user=agent).language == "zh-hans"
    # Another browser, another day: the preference comes back at sign-in.
    other = Client()
    other.post("/accounts/login/", {"username": "avery", "password": "pw-avery"})
    assert language_of(other, "/cases/", accept="en") == "zh-hans"


def test_the_preference_needs_a_sign_in(client: Client) -> None:
    response = client.post("/preferences/language/", {"language": "zh-hans"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not StaffPreference.objects.exists()


def test_the_switch_on_the_tracking_page_moves_the_customer_and_their_emails(
    client: Client, agent: User
) -> None:
    client.post("/support/new/", ticket(), headers={"accept-language": "en"})
    case = Case.objects.get()
    assert case.language == "en"
    path = tracking_path(case)

    response = client.post("/language/", {"language": "zh-hans", "next": path}, follow=True)

    assert response.redirect_chain[-1][0] == path
    assert response["Content-Language"] == "zh-hans"
    case.refresh_from_db()
    assert case.language == "zh-hans"
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    services.send_reply(case.pk, text="请重启手机后再试一次。", actor=agent)
    update = OutboundEmail.objects.filter(case=case).order_by("pk").last()
    assert update is not None
    with translation.override("zh-hans"):
        expected = render_email("case_update", {"case": case, "text": "x"}, language="zh-hans")[0]
    assert update.subject == expected
    assert re.search(r"[\u4e00-\u9fff]", update.subject)

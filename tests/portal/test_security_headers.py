"""Content-Security-Policy, Permissions-Policy and Cache-Control, per kind of response."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from pytest_django import Settings

from diagnosis.models import Case, TrackingLink
from portal.security_headers import DENIED_FEATURES
from tests.diagnosis.conftest import make_case  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def directives(response: HttpResponseBase) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def no_store(response: HttpResponseBase) -> bool:
    return "no-store" in [v.strip() for v in response.get("Cache-Control", "").split(",")]


@pytest.fixture
def tracked(make_case: Callable[..., Case]) -> Case:  # noqa: F811
    return make_case()


def test_every_page_gets_a_strict_content_security_policy(client: Client, admin_user: User) -> None:
    anonymous = [client.get("/"), client.get("/support/new/"), client.get("/no-such-page/")]
    client.force_login(admin_user)
    staff = [client.get("/cases/"), client.get("/admin/"), client.get("/admin/diagnosis/case/")]

    for response in anonymous + staff:
        policy = directives(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
        assert "unsafe" not in response["Content-Security-Policy"]


def test_every_response_denies_powerful_browser_features(client: Client, agent: User, tracked: Case) -> None:
    responses = [
        client.get("/"),
        client.get(f"/support/t/{TrackingLink.issue(tracked)}/"),
        client.post("/hooks/sms-status/not-a-token/", {}),
        client.get("/healthz"),
    ]
    client.force_login(agent)
    responses.append(client.get("/cases/"))

    for response in responses:
        features = dict(item.strip().split("=", 1) for item in response["Permissions-Policy"].split(","))
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert features[feature] == "()"
        assert set(features) == set(DENIED_FEATURES)


def test_staff_pages_and_exports_are_never_stored(client: Client, lead: User, tracked: Case) -> None:
    client.force_login(lead)
    pages = [
        "/",
        "/cases/",
        f"/cases/{tracked.reference}/",
        "/leads/",
        "/cases/export.csv",
        "/leads/export.csv",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert no_store(response), url
    part = client.get(f"/cases/{tracked.reference}/part/timeline/", headers={"HX-Request": "true"})
    assert part.status_code == 200 and no_store(part)
    assert no_store(client.get("/admin/diagnosis/case/"))


def test_tracking_pages_and_their_replies_are_never_stored(client: Client, tracked: Case) -> None:
    url = f"/support/t/{TrackingLink.issue(tracked)}/"
    page = client.get(url)
    sent = client.post(url + "message/", {"text": "It still does not arrive."})
    refused = client.post(url + "message/", {"text": ""}, headers={"HX-Request": "true"})

    assert page.status_code == 200 and no_store(page)
    assert sent.status_code == 302 and no_store(sent)
    assert refused.status_code == 200 and no_store(refused)


def test_public_forms_are_never_stored_either(client: Client) -> None:
    # They carry a CSRF token tied to the visitor's cookie.
    for response in (client.get("/support/new/"), client.get("/support/find/")):
        assert response.status_code == 200 and no_store(response)
    check = client.post("/support/new/check/email/", {"email": "x"}, headers={"HX-Request": "true"})
    assert check.status_code == 200 and no_store(check)


def test_static_files_stay_cacheable(settings: Settings) -> None:
    # WhiteNoise serves them as in production (from the sources, since tests run no collectstatic).
    settings.WHITENOISE_USE_FINDERS = True
    client = Client()

    response = client.get("/static/css/portal.css")

    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and not no_store(response)
    assert "max-age=0" not in response["Cache-Control"]
    assert "camera=()" in response["Permissions-Policy"]  # the policies still cover every response


def test_htmx_is_configured_to_evaluate_no_code_and_inject_no_style(client: Client) -> None:
    page = client.get("/").content.decode()

    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert config is not None
    assert json.loads(config.group(1)) == {
        "allowEval": False,
        "allowScriptTags": False,
        "includeIndicatorStyles": False,
        "historyCacheSize": 0,
    }


def test_under_debug_htmx_still_loads_only_script_files(settings: Settings, rf: RequestFactory) -> None:
    settings.DEBUG = True
    request = rf.get("/")
    request.user = AnonymousUser()

    page = render_to_string("portal/landing.html", request=request)

    scripts = re.findall(r"<script[^>]*>", page)
    assert any("django-htmx.js" in tag for tag in scripts)  # the debug helper, as a file
    assert scripts and all(" src=" in tag for tag in scripts)
    assert "<style" not in page and " style=" not in page

"""A small stdlib HTTP client for the live server: cookies, CSRF, and any status code."""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class Answer:
    status: int
    url: str
    text: str


class WebClient:
    """One visitor: keeps cookies, follows redirects, sends X-Forwarded-For if given an address."""

    def __init__(self, base_url: str, address: str | None = None) -> None:
        self.base_url = base_url
        self.address = address
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _csrf(self) -> str:
        return next((c.value or "" for c in self.cookies if c.name == "csrftoken"), "")

    def request(self, path: str, data: dict[str, str] | None = None) -> Answer:
        body = None
        headers = {"Referer": self.base_url + path}
        if self.address:
            headers["X-Forwarded-For"] = self.address
        if data is not None:
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": self._csrf(), **data}).encode()
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers)
        try:
            with self.opener.open(request, timeout=20) as response:
                return Answer(response.status, response.url, response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.url, error.read().decode())

    def get(self, path: str) -> Answer:
        return self.request(path)

    def post(self, path: str, data: dict[str, str]) -> Answer:
        return self.request(path, data)

    def sign_in(self, username: str, password: str) -> Answer:
        self.get("/accounts/login/")
        return self.post("/accounts/login/", {"username": username, "password": password, "next": "/"})


@pytest.fixture
def web(live_server: Any) -> Any:
    """Make a visitor of the live server: `web()` or `web("10.0.0.7")` (needs TRUSTED_PROXY_COUNT)."""
    return lambda address=None: WebClient(live_server.url, address)

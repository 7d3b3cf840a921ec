"""Abuse limits on the public forms, over real HTTP: who is counted, in which bucket, and what is refused.

Every request goes through the live server from its own loopback source address
(127.x.y.z): without trusted proxies that address is the client, behind one proxy
it is the proxy and `X-Forwarded-For` names the client. Addresses and emails are
unique per test, because the counts live in the shared Redis cache.
"""

from __future__ import annotations

import http.client
import re
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_django import Settings

from diagnosis.models import Case, OutboundEmail
from tests.diagnosis.conftest import ticket

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED_FILING = "Several tickets were filed from your network in the last hour."
REFUSED_FINDING = "Many searches came from your network in the last hour."
FIND_DONE = "If we have tickets for that address, we have just emailed you their links."


def unique_address() -> str:
    return f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


def unique_email() -> str:
    return f"{secrets.token_hex(8)}@example.com"


def public_address() -> str:
    return f"198.51.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


@dataclass
class Answer:
    status: int
    body: str
    location: str


class Visitor:
    """One browser: its own cookies, connecting from `source`, sending `X-Forwarded-For` if given."""

    def __init__(self, live_server: Any, source: str) -> None:
        url = urllib.parse.urlsplit(live_server.url)
        self.host, self.port, self.source = url.hostname or "", url.port or 80, source
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Answer:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=30, source_address=(self.source, 0)
        )
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";")[0]
            return Answer(response.status, response.read().decode(), response.headers.get("Location", ""))
        finally:
            connection.close()

    def post_form(self, path: str, fields: dict[str, object], forwarded_for: str | None = None) -> Answer:
        """Load the form (for its CSRF token), then send it, as a browser would."""
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        page = self.request("GET", path, headers=headers)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, page.body[:500]
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token.group(1)}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request("POST", path, body, headers)

    def file(self, email: str, forwarded_for: str | None = None) -> Answer:
        return self.post_form("/support/new/", ticket(email=email), forwarded_for)

    def find(self, email: str, forwarded_for: str | None = None) -> Answer:
        return self.post_form("/support/find/", {"email": email}, forwarded_for)


def emails_to(address: str) -> int:
    return OutboundEmail.objects.filter(to__iexact=address).count()


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_change_the_bucket(
    live_server: Any, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    settings.TICKET_LIMIT_PER_IP_PER_HOUR = 2
    attacker = Visitor(live_server, unique_address())

    answers = [attacker.file(unique_email(), forwarded_for=public_address()) for _ in range(3)]

    assert [a.status for a in answers] == [302, 302, 429]
    assert REFUSED_FILING in answers[2].body
    # Someone else, from another address, is not affected.
    assert Visitor(live_server, unique_address()).file(unique_email()).status == 302


def test_behind_one_proxy_each_client_has_its_own_bucket_and_forged_entries_do_not_escape_it(
    live_server: Any, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TICKET_LIMIT_PER_IP_PER_HOUR = 2
    proxy = unique_address()  # every customer arrives through it
    alice, bob = public_address(), public_address()
    client = Visitor(live_server, proxy)

    assert client.file(unique_email(), forwarded_for=alice).status == 302
    assert client.file(unique_email(), forwarded_for=alice).status == 302
    # The proxy appends the address it saw; what Alice wrote in front of it is not believed.
    forged = [f"{public_address()}, {alice}", f"{public_address()}, {public_address()}, {alice}"]
    assert [client.file(unique_email(), forwarded_for=f).status for f in forged] == [429, 429]
    # Bob shares the proxy's address but not Alice's bucket.
    assert client.file(unique_email(), forwarded_for=bob).status == 302


def test_find_ticket_requests_from_an_address_do_not_block_filing_from_it(
    live_server: Any, settings: Settings
) -> None:
    settings.TICKET_LIMIT_PER_IP_PER_HOUR = 2
    settings.FIND_TICKET_LIMIT_PER_IP_PER_HOUR = 3
    visitor = Visitor(live_server, unique_address())

    finds = [visitor.find(unique_email()) for _ in range(5)]

    assert [a.status for a in finds] == [200, 200, 200, 429, 429]
    assert REFUSED_FINDING in finds[3].body
    assert visitor.file(unique_email()).status == 302
    assert visitor.file(unique_email()).status == 302


def test_find_ticket_requests_naming_a_victim_do_not_block_the_victims_filing(
    live_server: Any, settings: Settings
) -> None:
    settings.CUSTOMER_EMAILS_PER_ADDRESS_PER_HOUR = 2
    victim_email = unique_email()
    attacker = Visitor(live_server, unique_address())
    assert Visitor(live_server, unique_address()).file(victim_email).status == 302

    for _ in range(10):
        assert attacker.find(victim_email).status == 200

    victim = Visitor(live_server, unique_address())
    filed = victim.file(victim_email)
    assert filed.status == 302
    assert Case.objects.filter(reporter_email=victim_email).count() == 2
    # Her inbox got no more than the cap; the page she lands on shows her private link instead.
    assert emails_to(victim_email) == 2
    assert "unsent=1" in filed.location
    case = Case.objects.filter(reporter_email=victim_email).latest("created_at")
    page = victim.request("GET", filed.location).body
    assert case.tracking_links.count() == 1
    assert urlsplit(filed.location).path in page and "we did not email you this time" in page


def test_filing_over_the_address_limit_is_refused_with_a_message_next_to_the_form(
    live_server: Any, settings: Settings
) -> None:
    settings.TICKET_LIMIT_PER_IP_PER_HOUR = 1
    visitor = Visitor(live_server, unique_address())
    assert visitor.file(unique_email()).status == 302

    email = unique_email()
    refused = visitor.file(email)

    assert refused.status == 429
    summary = refused.body.index('class="error-summary"')
    assert summary < refused.body.index(REFUSED_FILING) < refused.body.index('action="/support/new/"')
    assert email in refused.body  # the form comes back filled in
    assert not Case.objects.filter(reporter_email=email).exists()


def test_the_email_cap_stops_a_flood_and_the_answer_does_not_tell(
    live_server: Any, settings: Settings
) -> None:
    settings.CUSTOMER_EMAILS_PER_ADDRESS_PER_HOUR = 3
    target, unknown = unique_email(), unique_email()
    # Filing counts too: its confirmation is the first email of the hour.
    assert Visitor(live_server, unique_address()).file(target).status == 302

    answers = [Visitor(live_server, unique_address()).find(target) for _ in range(8)]
    over_cap_for_unknown = [Visitor(live_server, unique_address()).find(unknown) for _ in range(5)]

    assert emails_to(target) == 3
    assert emails_to(unknown) == 0
    # Sent, skipped over the cap, or nothing to send: one and the same page.
    pages = {a.body.replace(unknown, target) for a in [*answers, *over_cap_for_unknown]}
    assert {a.status for a in [*answers, *over_cap_for_unknown]} == {200}
    assert all(FIND_DONE in page for page in pages)
    # Filing more tickets for the address still files them, without more emails.
    more = [Visitor(live_server, unique_address()).file(target) for _ in range(2)]
    assert [a.status for a in more] == [302, 302]
    assert Case.objects.filter(reporter_email=target).count() == 3
    assert emails_to(target) == 3

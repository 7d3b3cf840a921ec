"""The client's address behind a configured number of trusted proxies, and the bucket limits count it in."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from pytest_django import Settings

from portal.client_address import address_bucket, client_ip


def request_with(remote: str, forwarded_for: str | None = None) -> HttpRequest:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded_for is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return request


@pytest.mark.parametrize("forwarded_for", [None, "203.0.113.7", "203.0.113.7, 198.51.100.1", "junk"])
def test_without_trusted_proxies_the_socket_address_is_the_client(
    settings: Settings, forwarded_for: str | None
) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_with("192.0.2.10", forwarded_for)) == "192.0.2.10"


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        # What the client wrote in front of the proxy's own entry is not believed.
        ("1.2.3.4, 203.0.113.7", "203.0.113.7"),
        ("1.2.3.4,5.6.7.8,  203.0.113.7 ", "203.0.113.7"),
        ("2001:DB8::1", "2001:db8::1"),
        # Reached without the proxy (a probe on the private network): the socket address.
        (None, "10.0.0.2"),
        ("", "10.0.0.2"),
        # A proxy entry that is no address falls back to the proxy, never to a client's entry.
        ("203.0.113.7, not-an-address", "10.0.0.2"),
    ],
)
def test_behind_one_proxy_the_rightmost_entry_is_the_client(
    settings: Settings, forwarded_for: str | None, client: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_with("10.0.0.2", forwarded_for)) == client


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(settings: Settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 2
    request = request_with("10.0.0.3", "1.2.3.4, 203.0.113.7, 10.0.0.2")
    assert client_ip(request) == "203.0.113.7"


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb:cccc:dddd:eeee", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", ""),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64_network(address: str, bucket: str) -> None:
    assert address_bucket(address) == bucket

"""The address of the client behind the request, for abuse limits, lockout and logs.

`X-Forwarded-For` can be written by anyone, so it is read only as far as the
configured number of trusted proxies (`TRUSTED_PROXY_COUNT`) reaches: each of them
appends the address it received the request from, so the client is the entry that
many places from the right. Entries further left were sent by the client itself.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's IP address as the trusted proxies saw it; REMOTE_ADDR without proxies."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not hops:
        # Reached without passing the proxies (a health probe on the private network).
        return remote
    # Fewer hops than proxies: the nearest proxies did not append; the leftmost is the closest we know.
    candidate = hops[-proxies] if len(hops) >= proxies else hops[0]
    return _valid(candidate) or remote


def address_bucket(address: str) -> str:
    """What an abuse limit counts for the address: an IPv4 address, or the /64 network of an IPv6 one.

    One IPv6 client usually holds a whole /64 and can pick a new address for each
    request, so counting single IPv6 addresses would limit nobody.
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)

"""Checking the optional push signature (`SDK-HMAC-SHA256`, Huawei API gateway style).

The platform signs pushes when "push AK/SK verification" is on for the app:
`X-Sdk-Date: 20240501T080005Z` and
`Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<hex>`.
The signature is HMAC-SHA256 with the SK over a canonical form of the request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_SKEW = timedelta(minutes=15)
_HEADER_RE = re.compile(
    r'^SDK-HMAC-SHA256\s+Access="?([^,"]+)"?,\s*SignedHeaders="?([^,"]+)"?,\s*Signature="?([0-9a-fA-F]+)"?$'
)


class SignatureError(Exception):
    """Why a signed push is refused (answered with 401)."""


def canonical_request(
    method: str, path: str, query: str, headers: Mapping[str, str], signed: list[str], body: bytes
) -> str:
    uri = path if path.endswith("/") else path + "/"
    uri = quote(uri, safe="/~")
    pairs = sorted(p.split("=", 1) if "=" in p else [p, ""] for p in query.split("&") if p)
    canonical_query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
    lowered = {k.lower(): v.strip() for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered.get(name, '')}\n" for name in signed)
    return "\n".join(
        [
            method.upper(),
            uri,
            canonical_query,
            canonical_headers,
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )


def signature(secret_key: str, sdk_date: str, canonical: str) -> str:
    to_sign = f"{ALGORITHM}\n{sdk_date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def sign(
    access_key: str, secret_key: str, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> dict[str, str]:
    """Headers a signed push carries (used by tests and the simulator)."""
    headers = {**headers, "X-Sdk-Date": headers.get("X-Sdk-Date") or datetime.now(UTC).strftime(DATE_FORMAT)}
    signed = sorted(k.lower() for k in headers)
    canonical = canonical_request(method, path, query, headers, signed, body)
    value = signature(secret_key, headers["X-Sdk-Date"], canonical)
    headers["Authorization"] = (
        f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(signed)}, Signature={value}"
    )
    return headers


def verify(
    *,
    access_key: str,
    secret_key: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
) -> None:
    """Raise SignatureError unless the request carries a fresh, valid signature for this AK/SK."""
    lowered = {k.lower(): v for k, v in headers.items()}
    match = _HEADER_RE.match(lowered.get("authorization", "").strip())
    if not match:
        raise SignatureError("missing or malformed SDK-HMAC-SHA256 Authorization header")
    access, signed_names, given = match.groups()
    # As bytes: compare_digest raises TypeError for str with non-ASCII characters, which headers can carry.
    if not hmac.compare_digest(access.encode(), access_key.encode()):
        raise SignatureError("unknown access key")
    sdk_date = lowered.get("x-sdk-date", "")
    try:
        stamped = datetime.strptime(sdk_date, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError("missing or malformed X-Sdk-Date") from None
    if abs((now or datetime.now(UTC)) - stamped) > MAX_SKEW:
        raise SignatureError("X-Sdk-Date is more than 15 minutes away from now")
    signed = [name.strip().lower() for name in signed_names.split(";") if name.strip()]
    if "x-sdk-date" not in signed:
        raise SignatureError("X-Sdk-Date is not among the signed headers")
    expected = signature(secret_key, sdk_date, canonical_request(method, path, query, lowered, signed, body))
    if not hmac.compare_digest(expected, given.lower()):
        raise SignatureError("signature does not match")

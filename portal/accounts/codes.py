"""What a typed code is, and how recovery codes are made and kept (no ORM, no Django).

Recovery codes are lookup secrets (OWASP ASVS 5.0, 6.5.2). Each carries 120 bits from
`secrets`, so a plain SHA-256 digest is an acceptable way to store it: the standard-hash
allowance applies from 112 bits, and a slow salted password hash would only make the
check slower. The database keeps digests only; the codes themselves are shown once.
"""

from __future__ import annotations

import hashlib
import re
import secrets

# RFC 4648 base32: 32 symbols (5 bits each), no 0, 1, 8 or 9 to confuse with letters.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
RECOVERY_CODE_LENGTH = 24  # 24 x 5 = 120 bits
GROUP = 4


def normalise(code: str) -> str:
    """What people type: spaces and dashes between groups, any letter case."""
    return re.sub(r"[\s-]", "", code).lower()


def new_recovery_code() -> str:
    """A fresh code as shown to the user: six groups of four, e.g. ABCD-EFGH-…"""
    code = "".join(secrets.choice(ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(code[i : i + GROUP] for i in range(0, RECOVERY_CODE_LENGTH, GROUP))


def recovery_digest(code: str) -> str:
    """The stored form of a code: SHA-256 hex of the normalised text, so typing style does not matter."""
    return hashlib.sha256(normalise(code).encode()).hexdigest()

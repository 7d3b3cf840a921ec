"""Check a test run's log for secrets and personal data: `python -m tests.log_audit FILE`.

The suite writes every record of every logger, at every level, to `var/test-logs/suite.log`
(tests/conftest.py); `make test` runs this afterwards and fails on any line that
shows an unmasked token path, an E.164 phone number with more than its last 3 digits, or
an email address. It reuses the masker's own patterns, so what it flags is exactly what
`portal.log_masking` should have masked; masked text (`[token]`, `+49*******789`,
`r***@***`), timestamps and ids do not match them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from portal.log_masking import EMAIL, PHONE, TOKEN_MASK, TOKEN_PATH, mask

CHECKS: dict[str, re.Pattern[str]] = {"token path": TOKEN_PATH, "phone number": PHONE, "email address": EMAIL}
SHOWN = 160


@dataclass(frozen=True)
class Leak:
    line: int
    kind: str
    text: str


def audit(path: Path) -> list[Leak]:
    leaks = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            for kind, pattern in CHECKS.items():
                for match in pattern.finditer(line):
                    if kind == "token path" and match.group(2) == TOKEN_MASK:
                        continue
                    leaks.append(Leak(number, kind, line.strip()[:SHOWN]))
                    break
    return leaks


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.log_audit LOG_FILE", file=sys.stderr)
        return 2
    path = Path(argv[0])
    if not path.is_file():
        print(f"log audit: {path} not found (did the test run write it?)", file=sys.stderr)
        return 2
    leaks = audit(path)
    for leak in leaks[:50]:
        # The finding itself is shown masked: this output lands in CI logs too.
        print(f"{path}:{leak.line}: unmasked {leak.kind} (masked here): {mask(leak.text)}", file=sys.stderr)
    if leaks:
        print(f"log audit: {len(leaks)} unmasked values in {path}", file=sys.stderr)
        return 1
    print(f"log audit: {path} holds no unmasked tokens, phone numbers or email addresses")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

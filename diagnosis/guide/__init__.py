"""The troubleshooting guide as versioned data, and the pure functions that walk it.

A case stores the version it started with and keeps following it, so a new
version of the guide never changes the meaning of answers already given. `engine`
walks a guide over a case's answers and proposes answers from `evidence` (what
stored reports say about a message). No database, and no import from the rest of
the app: everything else builds on this.
"""

from __future__ import annotations

from diagnosis.guide import v1
from diagnosis.guide.graph import (
    WAIT_DEADLINE,
    WAIT_REPORT,
    Answer,
    Detail,
    DetailKind,
    Evidence,
    Guide,
    Kind,
    Node,
    Result,
)

GUIDES: dict[str, Guide] = {v1.VERSION: v1.GUIDE}
CURRENT_VERSION = v1.VERSION


def get_guide(version: str = CURRENT_VERSION) -> Guide:
    try:
        return GUIDES[version]
    except KeyError:
        raise LookupError(f"no guide version {version!r}; known: {sorted(GUIDES)}") from None


__all__ = [
    "CURRENT_VERSION",
    "GUIDES",
    "WAIT_DEADLINE",
    "WAIT_REPORT",
    "Answer",
    "Detail",
    "DetailKind",
    "Evidence",
    "Guide",
    "Kind",
    "Node",
    "Result",
    "get_guide",
]

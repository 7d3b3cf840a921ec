"""Looking status codes up in the catalogue (loaded by migration from diagnosis/data/status_codes.csv).

Rows keep English texts; pages show `StatusCode.translated_summary` / `translated_advice`,
which translate them in the request's language (msgids: `diagnosis.delivery.catalogue_texts`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from diagnosis.models import StatusCode

CATALOGUE_FILE = Path(__file__).resolve().parent.parent / "data" / "status_codes.csv"

# Stored (in English) on a code first met in a report; translated when shown.
UNKNOWN_SUMMARY = gettext_noop("Not in the status-code catalogue")
UNKNOWN_ADVICE = gettext_noop("Escalate to the provider's customer service with the full report.")


def read_catalogue(path: Path = CATALOGUE_FILE) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def load_catalogue(path: Path = CATALOGUE_FILE) -> int:
    """Insert or refresh every documented code from the data file; returns the row count.

    Migration `diagnosis.0002_load_status_codes` loads it on every real database; this
    reloads it after a database was emptied (transactional tests).
    """
    rows = [
        StatusCode(
            code=row["code"],
            match=row["match"],
            branch=row["branch"],
            final=row["final"] == "yes",
            origin=row["origin"],
            summary=row["summary"],
            advice=row["advice"],
            documented=True,
        )
        for row in read_catalogue(path)
    ]
    StatusCode.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["match", "branch", "final", "origin", "summary", "advice", "documented"],
    )
    return len(rows)


def normalise_code(code: str) -> str:
    return (code or "").strip().upper()


def lookup(code: str, *, remember: bool = True) -> StatusCode:
    """The catalogue row for `code`: exact match first, then the longest family prefix.

    A code the catalogue does not know is kept (when `remember`) as an undocumented
    row routed to the "unknown" branch, so it shows up for review instead of vanishing.
    """
    code = normalise_code(code)
    exact = StatusCode.objects.filter(code=code, match=StatusCode.Match.EXACT).first()
    if exact is not None:
        return exact
    family = _family_for(code)
    if family is not None:
        return family
    unknown = StatusCode(
        code=code,
        branch=StatusCode.Branch.UNKNOWN,
        summary=UNKNOWN_SUMMARY,
        advice=UNKNOWN_ADVICE,
        documented=False,
        first_seen_at=timezone.now(),
    )
    if remember and code:
        try:
            with transaction.atomic():
                unknown.save(force_insert=True)
        except IntegrityError:
            return StatusCode.objects.get(code=code)
    return unknown


def _family_for(code: str) -> StatusCode | None:
    return _longest_prefix(code, StatusCode.objects.filter(match=StatusCode.Match.PREFIX))


def _longest_prefix(code: str, families: Iterable[StatusCode]) -> StatusCode | None:
    """The most specific family (`MK:` style prefix row) a code belongs to."""
    matches = [f for f in families if code.startswith(f.code)]
    return max(matches, key=lambda f: len(f.code)) if matches else None


def branches_for(codes: set[str]) -> dict[str, StatusCode]:
    """Catalogue rows for many codes in one query (for pages listing reports)."""
    codes = {normalise_code(c) for c in codes if c}
    rows = list(StatusCode.objects.filter(Q(code__in=codes) | Q(match=StatusCode.Match.PREFIX)))
    exact = {row.code: row for row in rows if row.match == StatusCode.Match.EXACT}
    families = [row for row in rows if row.match == StatusCode.Match.PREFIX]
    found = {}
    for code in codes:
        if code in exact:
            found[code] = exact[code]
            continue
        family = _longest_prefix(code, families)
        if family is not None:
            found[code] = family
    return found

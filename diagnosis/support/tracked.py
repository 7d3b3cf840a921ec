"""The case a tracking link opens, read for the tracking page in as few queries as possible."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL

from diagnosis.models import Case, Recipient, TrackingLink, digest_matches, token_digest

# The case's numbers in the link's own query (PostgreSQL). E.164 numbers never hold a comma.
_NUMBERS_SQL = (
    f"SELECT string_agg(r.e164, ',' ORDER BY r.id) FROM {Recipient._meta.db_table} r "
    f"WHERE r.case_id = {TrackingLink._meta.db_table}.case_id"
)


@dataclass(frozen=True)
class TrackedCase:
    case: Case
    numbers: list[str]


def find(token: str) -> TrackedCase | None:
    """`TrackingLink.find_case` with the case's numbers, in one query on PostgreSQL.

    Other databases (SQLite, the embedded default) read the numbers with a second query.
    """
    links = TrackingLink.objects.select_related("case").filter(token_hash=token_digest(token))
    postgres = connection.vendor == "postgresql"
    if postgres:
        links = links.annotate(case_numbers=RawSQL(_NUMBERS_SQL, ()))
    link = links.first()
    if link is None or not digest_matches(token, link.token_hash):
        return None
    if postgres:
        joined: str | None = link.case_numbers  # type: ignore[attr-defined]
        numbers = joined.split(",") if joined else []
    else:
        numbers = list(link.case.recipients.order_by("pk").values_list("e164", flat=True))
    return TrackedCase(link.case, numbers)

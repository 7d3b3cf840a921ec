"""Setting many waiting cases' next check in one statement (the waiting sweep's reschedules)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import DateTimeField, Value, When

from diagnosis.models import Case, CaseState


def next_polls(schedule: Mapping[int, datetime | None]) -> int:
    """Set each still-waiting case's `next_poll_at` to its own time; returns how many rows changed.

    PostgreSQL: one `UPDATE ... FROM` the rows (id, time). Elsewhere (SQLite) one UPDATE with a CASE.
    """
    if not schedule:
        return 0
    if connection.vendor == "postgresql":
        table = Case._meta.db_table
        # The (id, time) rows as two arrays: two parameters whatever the batch's size.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET next_poll_at = v.next_poll "  # noqa: S608 - table name from the model
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, next_poll) "
                f"WHERE {table}.id = v.id AND {table}.state = %s",
                [list(schedule), list(schedule.values()), CaseState.WAITING],
            )
            return int(cursor.rowcount)
    return Case.objects.filter(pk__in=list(schedule), state=CaseState.WAITING).update(
        next_poll_at=SqlCase(
            *(When(pk=pk, then=Value(at)) for pk, at in schedule.items()),
            output_field=DateTimeField(),
        )
    )

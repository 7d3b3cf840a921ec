"""Storing status reports in one statement: `INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING`.

The statement inserts the reports whose key is not stored yet and returns which they were,
so a redelivery costs no lookup first and two concurrent deliveries of one report need no
lock. On PostgreSQL the rows travel as one JSON parameter (`json_to_recordset`): a short
statement psycopg parses once and caches, and rows encoded by the json module rather than
value by value, whatever the batch size. SQLite (3.35 and later) gets the same statement with a
row of values per report.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

from diagnosis.models import StatusReport

# Every column but the primary key, which the database assigns.
COLUMNS: tuple[models.Field[Any, Any], ...] = tuple(
    f for f in StatusReport._meta.concrete_fields if not f.primary_key
)
# PostgreSQL binds at most 65,535 parameters per statement (SQLite's limit is in its features).
_MAX_PARAMS = 65_535


def supported() -> bool:
    """Whether the database returns rows from an INSERT: PostgreSQL, and SQLite from 3.35 on."""
    return bool(connection.features.can_return_rows_from_bulk_insert)


def insert_new(reports: Sequence[StatusReport]) -> list[StatusReport]:
    """Insert the reports whose dedupe key is not stored yet; the ones inserted, with their ids.

    `reports` must not repeat a key (the caller keeps the first of each).
    """
    inserted: dict[str, int] = {}
    for chunk in _chunks(reports):
        sql, params = _postgresql(chunk) if connection.vendor == "postgresql" else _values(chunk)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted.update((key, pk) for pk, key in cursor.fetchall())
    fresh = [r for r in reports if r.dedupe_key in inserted]
    for report in fresh:
        report.pk = inserted[report.dedupe_key]
        report._state.adding = False
    return fresh


def _chunks(reports: Sequence[StatusReport]) -> Iterator[Sequence[StatusReport]]:
    if connection.vendor == "postgresql":
        yield from (reports,) if reports else ()  # a fixed number of parameters, however many rows
        return
    size = max(1, (connection.features.max_query_params or _MAX_PARAMS) // len(COLUMNS))
    for start in range(0, len(reports), size):
        yield reports[start : start + size]


def _tail() -> str:
    quote = connection.ops.quote_name
    pk = quote(StatusReport._meta.pk.column)
    return f" ON CONFLICT ({quote('dedupe_key')}) DO NOTHING RETURNING {pk}, {quote('dedupe_key')}"


def _head() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in COLUMNS)
    return f"INSERT INTO {quote(StatusReport._meta.db_table)} ({columns}) "


def _postgresql(reports: Sequence[StatusReport]) -> tuple[str, list[Any]]:
    columns, values, moments = _pg_layout()
    rows = []
    for report in reports:
        row = dict(zip(columns, values(report), strict=True))
        for column, field in moments:
            row[column] = _moment(field, row[column])
        rows.append(row)
    return _pg_sql(), [json.dumps(rows, ensure_ascii=False)]


@functools.cache
def _pg_sql() -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in COLUMNS)
    types = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in COLUMNS)
    return f"{_head()}SELECT {names} FROM json_to_recordset(%s::json) AS v({types}){_tail()}"


@functools.cache
def _pg_layout() -> tuple[
    tuple[str, ...], Callable[[StatusReport], tuple[Any, ...]], tuple[tuple[str, models.Field[Any, Any]], ...]
]:
    """The row's column names, a getter of a report's values for them, and the columns that hold times.

    Text, numbers, flags and `raw` (already cleaned by ingest) are JSON as they are; times need `_moment`.
    """
    columns = tuple(f.column for f in COLUMNS)
    moments = tuple((f.column, f) for f in COLUMNS if isinstance(f, models.DateTimeField))
    return columns, operator.attrgetter(*(f.attname for f in COLUMNS)), moments


def _moment(field: models.Field[Any, Any], value: object) -> object:
    """An aware datetime as ISO text, which PostgreSQL reads exactly; anything else as Django prepares it."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    prepared = field.get_db_prep_save(value, connection)
    return prepared.isoformat() if isinstance(prepared, datetime) else prepared


def _values(reports: Sequence[StatusReport]) -> tuple[str, list[Any]]:
    row = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    sql = f"{_head()}VALUES {', '.join([row] * len(reports))}{_tail()}"
    return sql, [f.get_db_prep_save(getattr(r, f.attname), connection) for r in reports for f in COLUMNS]

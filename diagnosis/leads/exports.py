"""CSV exports of the queue and of the cases behind the causes and trends, streamed row by row.

A large export must not load every case into memory, so rows come from
`.iterator(chunk_size=...)` and go out through a `StreamingHttpResponse` as they are
written. Times are in the portal's time zone, named in the header, in a form
spreadsheets read as dates.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from diagnosis.leads import trends
from diagnosis.models import Case, Recipient

CHUNK_SIZE = 500
# A cell a spreadsheet would run as a formula. A signed plain number (+4915...) is safe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
_SIGNED_NUMBER = re.compile(r"^[+-]\d[\d .]*$")
# Where a spreadsheet may start a new cell or row when it reads the file with another
# separator than ours (German Excel splits on ";"): a formula may start after each of them.
_SEGMENT_BREAK = re.compile(r"([,;\t|\r\n])")


class _Echo:
    """A file-like object that hands back what is written, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value: object) -> str:
    """Text for one cell that no spreadsheet runs as a formula, whatever separator it splits on.

    Each piece that starts (after spaces) with a formula character gets an apostrophe
    before it, so it stays text; nothing else changes.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    # The split keeps the separators, at odd places; only the pieces between them are looked at.
    pieces = _SEGMENT_BREAK.split(str(value))
    return "".join(piece if i % 2 else _neutralised(piece) for i, piece in enumerate(pieces))


def _neutralised(piece: str) -> str:
    body = piece.lstrip(" ")
    if body.startswith(_FORMULA_START) and not _SIGNED_NUMBER.match(body):
        return piece[: len(piece) - len(body)] + "'" + body
    return piece


def stream_csv(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """A download that is written while the rows are read. UTF-8 with a BOM, for spreadsheets.

    The rows are written after the view has returned, so they are written in the
    language of the request (state names, results), not whatever is active by then.
    """
    writer = csv.writer(_Echo())
    language = translation.get_language()

    def lines() -> Iterator[str]:
        with translation.override(language):
            yield "\ufeff" + writer.writerow([str(name) for name in header])
            for row in rows:
                yield writer.writerow([safe_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _zone() -> dict[str, str]:
    """Read at export time, so the header names the zone the times are really in."""
    return {"zone": settings.TIME_ZONE}


def _numbers(case: Case) -> tuple[str, str, str]:
    recipients = list(case.recipients.all())
    return (
        " ".join(r.e164 for r in recipients),
        " ".join(sorted({r.region for r in recipients if r.region})),
        "; ".join(sorted({r.carrier for r in recipients if r.carrier})),
    )


def queue_header() -> list[str]:
    """The column names, in the language of the request; the values stay as stored."""
    zone = _zone()
    return [
        _("Case"),
        _("State"),
        _("Assigned to"),
        _("Customer"),
        _("Numbers"),
        _("Countries"),
        _("Carriers"),
        # Translators: CSV column; zone is a time zone name such as Asia/Shanghai.
        _("Opened (%(zone)s)") % zone,
        _("Last change (%(zone)s)") % zone,
        _("Wait deadline (%(zone)s)") % zone,
        _("Cause"),
        _("Outcome reached (%(zone)s)") % zone,
    ]


def queue_rows(cases: QuerySet[Case]) -> Iterator[list[object]]:
    """One row per case of the filtered queue, in the queue's order."""
    for case in cases.iterator(chunk_size=CHUNK_SIZE):
        yield [
            case.reference,
            case.get_state_display(),
            case.assigned_to.get_username() if case.assigned_to else "",
            case.reporter_name,
            *_numbers(case),
            case.created_at,
            case.updated_at,
            case.wait_deadline,
            case.cause,
            case.resolved_at,
        ]


def causes_header() -> list[str]:
    zone = _zone()
    return [
        _("Case"),
        _("State"),
        _("Opened (%(zone)s)") % zone,
        _("Outcome reached (%(zone)s)") % zone,
        _("Hours to outcome"),
        _("Result"),
        _("Cause"),
        _("Outcome"),
        _("Final status code"),
        _("Numbers"),
        _("Countries"),
        _("Carriers"),
    ]


def causes_cases(period: trends.Period) -> QuerySet[Case]:
    """Cases opened in the period or reaching their outcome in it: the rows behind the trend summary."""
    opened = Q(created_at__gte=period.start, created_at__lt=period.end)
    concluded = Q(resolved_at__gte=period.start, resolved_at__lt=period.end)
    return (
        Case.objects.filter(opened | concluded)
        .order_by("created_at", "pk")
        .prefetch_related(Prefetch("recipients", queryset=Recipient.objects.order_by("pk")))
    )


def causes_rows(period: trends.Period) -> Iterator[list[object]]:
    """One row per case, with its final status code looked up a chunk at a time."""
    cases = causes_cases(period).iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(itertools.islice(cases, CHUNK_SIZE)):
        statuses = trends.final_statuses(Case.objects.filter(pk__in=[case.pk for case in chunk]))
        for case in chunk:
            result, title = trends.outcome_of(case.guide_version, case.outcome) if case.outcome else ("", "")
            hours = (case.resolved_at - case.created_at).total_seconds() / 3600 if case.resolved_at else None
            final = statuses.get(case.pk)
            yield [
                case.reference,
                case.get_state_display(),
                case.created_at,
                case.resolved_at,
                f"{hours:.1f}" if hours is not None else "",
                str(trends.RESULT_LABELS.get(result, "")),
                case.cause,
                title,
                final.code if final else "",
                *_numbers(case),
            ]

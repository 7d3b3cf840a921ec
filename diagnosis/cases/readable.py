"""Stored values as people read them: times in the portal's format and zone, labels for codes.

What is stored (and exported, or sent as a machine-readable copy) keeps ISO times and codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext

from diagnosis.guide import DetailKind
from diagnosis.models import ReportChannel, ReportOrigin


def package(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The package as people read it: times in the portal's format and time zone, labels for
    stored codes. The stored package (and the email's machine-readable copy) keeps ISO times."""
    return {
        **stored,
        "sent_at": _when(stored.get("sent_at")),
        "reports": [
            {
                **report,
                "channel": _label(ReportChannel, report.get("channel")),
                "source": _label(ReportOrigin, report.get("source")),
                "updated_at": _when(report.get("updated_at")),
                "received_at": _when(report.get("received_at")),
            }
            for report in stored.get("reports", [])
        ],
        "checks": [
            {
                **check,
                "question": _guide_text(check.get("question")),
                "answer": _guide_text(check.get("answer")),
                "at": _when(check.get("at")),
            }
            for check in stored.get("checks", [])
        ],
        "details": [
            {
                **detail,
                "label": _guide_text(detail.get("label")),
                "value": _day(detail["value"]) if detail.get("kind") == DetailKind.DATE else detail["value"],
            }
            for detail in stored.get("details", [])
        ],
    }


def _guide_text(value: object) -> object:
    """A guide text the package stored in English (a question, an answer, a detail's label),
    in the reader's language: the English is the text's msgid. Other text stays as stored."""
    return gettext(value) if isinstance(value, str) and value else value


def time(moment: datetime) -> str:
    """A time as the portal's pages show times, in its time zone, with the zone's abbreviation:
    text kept or sent on its own (an email, a history entry) has no page to say which zone."""
    if timezone.is_naive(moment):
        return formats.date_format(moment, "DATETIME_FORMAT")
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


def _when(value: object) -> str | None:
    """An ISO time from a package as `time` writes it; anything unreadable as it was."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return time(datetime.fromisoformat(value))
    except ValueError:
        return value


def _day(value: str) -> str:
    try:
        return formats.date_format(date.fromisoformat(value), "DATE_FORMAT")
    except ValueError:
        return value


def _label(choices: Any, value: object) -> str:
    """A stored choice by its label; a value the portal does not know, as stored."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)

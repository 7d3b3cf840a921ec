"""The details an escalation outcome asks of the agent: checked here, for every way in.

The outcome declares them (`Node.details`); the workspace form and the service that sends
the escalation both check what was given with `clean`, so a value that reaches the
package has passed the same rules whoever sent it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from diagnosis.guide.graph import Detail, DetailKind, Node


class DetailsError(ValueError):
    """Details that cannot go into a package; `errors` holds a message per detail name."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = dict(errors)


def clean(node: Node, given: Mapping[str, object], *, today: date) -> dict[str, str]:
    """The node's details as the package stores them (dates as YYYY-MM-DD), or DetailsError."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for detail in node.details:
        try:
            value = _clean_one(detail, given.get(detail.name), today)
        except ValueError as exc:
            errors[detail.name] = str(exc)
        else:
            if value:
                values[detail.name] = value
    if errors:
        raise DetailsError(errors)
    return values


def _clean_one(detail: Detail, raw: object, today: date) -> str:
    # One line, however it was typed.
    value = raw.isoformat() if isinstance(raw, date) else " ".join(str(raw or "").split())
    if not value:
        if detail.required:
            raise ValueError(
                # Translators: label is a detail's name, such as "current carrier".
                _("Give the %(label)s: customer service needs it.") % {"label": str(detail.label).lower()}
            )
        return ""
    if detail.kind is DetailKind.DATE:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(_("Give a date such as 2026-11-01.")) from None
        if day > today:
            raise ValueError(_("The date cannot be in the future."))
        return day.isoformat()
    if len(value) > detail.max_length:
        raise ValueError(
            ngettext("Keep it to %(count)d character.", "Keep it to %(count)d characters.", detail.max_length)
            % {"count": detail.max_length}
        )
    return value

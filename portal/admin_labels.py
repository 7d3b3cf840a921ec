"""Admin controls that Django leaves without a name, named for screen readers.

The split date-and-time widget labels neither of its two inputs, and tabular inlines label
their inputs only through the column headings, which assistive technology does not tie to
the input. The visible page does not change.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.widgets import AdminSplitDateTime
from django.db import models
from django.forms import BaseInlineFormSet, Form
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext as _


class LabelledSplitDateTime(AdminSplitDateTime):
    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        parts = (_("Date"), _("Time"))
        for subwidget, part in zip(context["widget"]["subwidgets"], parts, strict=False):
            subwidget["attrs"]["aria-label"] = part
        return context


# For ModelAdmin.formfield_overrides.
LABELLED_DATETIMES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.DateTimeField: {"widget": LabelledSplitDateTime},
}


class LabelledInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form: Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["aria-label"] = _("Delete")


class LabelledInlineMixin:
    """For tabular inlines (with formset = LabelledInlineFormSet): each input named after its column."""

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if field is not None:
            field.widget.attrs.setdefault("aria-label", capfirst(db_field.verbose_name))
        return field

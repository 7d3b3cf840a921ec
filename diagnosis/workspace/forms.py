"""Forms of the agent workspace. Choices come from the guide and the catalogue."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from diagnosis.cases.queue import Sort, Tab
from diagnosis.guide import DetailKind, Node
from diagnosis.guide import details as outcome_details
from diagnosis.leads.trends import DEFAULT_DAYS, PERIOD_DAYS
from diagnosis.models import Case, StatusCode

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Casts below: `self.fields` holds copies of the fields each form declares, of the declared types.


class QueueForm(forms.Form):
    tab = forms.ChoiceField(choices=[(t.value, t.value) for t in Tab], required=False)
    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    sort = forms.ChoiceField(
        choices=[
            (Sort.OLDEST, _("Oldest first")),
            (Sort.NEWEST, _("Newest first")),
            (Sort.DEADLINE, _("Deadline first")),
        ],
        required=False,
        label=_("Sort"),
    )
    # Keyset paging cursors (queue.encode_cursor): the rows after or before one row.
    after = forms.CharField(required=False, max_length=200)
    before = forms.CharField(required=False, max_length=200)

    def values(self) -> tuple[Tab | None, str, Sort]:
        """The tab chosen (None for none: `queue.scope` decides), search text and sort;
        anything unreadable falls back to the defaults."""
        data = self.cleaned_data if self.is_valid() else {}
        return (
            Tab(data["tab"]) if data.get("tab") else None,
            data.get("q") or "",
            Sort(data.get("sort") or Sort.OLDEST),
        )

    def cursors(self) -> tuple[str, str]:
        """The `after` and `before` cursors as given; the queue ignores any it cannot read."""
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("after") or "", data.get("before") or ""


_code_rows: tuple[tuple[str, str], ...] = ()
# Rendered options by language: the summaries are English in the database, translated when shown.
_code_options: dict[str, SafeString] = {}


def _status_code_rows() -> tuple[tuple[str, str], ...]:
    """The documented codes and their (English) summaries, read once per process.

    The catalogue is static data (a migration loads it; only a deploy changes it), so the
    step form does not pay a query for it on every request. An empty read (a database
    emptied between tests) is not kept.
    """
    global _code_rows
    if not _code_rows:
        rows = StatusCode.objects.filter(documented=True, match=StatusCode.Match.EXACT).values_list(
            "code", "summary"
        )
        _code_rows = tuple(rows)
    return _code_rows


def status_code_choices() -> tuple[tuple[str, str], ...]:
    """The documented codes offered for an answer, each with its meaning in the active language."""
    choices = tuple((code, f"{code} · {gettext(summary)}") for code, summary in _status_code_rows())
    return (("", gettext("— no status code —")), *choices)


def status_code_options() -> SafeString:
    """`status_code_choices` as the step form's datalist options, rendered once per language."""
    language = get_language() or ""
    if language not in _code_options:
        choices = status_code_choices()[1:]
        options = format_html_join("", '<option value="{}">{}</option>', choices)
        if not choices:
            return options
        _code_options[language] = options
    return _code_options[language]


class StepForm(forms.Form):
    """The answer to one step: an option, the status code where the step asks for one, notes."""

    value = forms.ChoiceField(widget=forms.RadioSelect, label=_("Answer"))
    evidence = forms.CharField(required=False, max_length=32, label=_("Status code"))
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000, label=_("Notes")
    )

    def __init__(self, *args: Any, node: Node, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.node = node
        cast(forms.ChoiceField, self.fields["value"]).choices = [(a.value, a.label) for a in node.answers]
        self.fields["value"].error_messages["required"] = _("Choose an answer.")
        if node.evidence:
            self.fields["evidence"].help_text = _(
                "Pick the code from the report, or type one that is not listed."
            )
        else:
            del self.fields["evidence"]


class DetailsForm(forms.Form):
    """What an escalation outcome asks of the agent, one field per detail the guide declares."""

    def __init__(self, *args: Any, node: Node, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.node = node
        for detail in node.details:
            field: forms.Field
            if detail.kind is DetailKind.DATE:
                field = forms.DateField(
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                    input_formats=["%Y-%m-%d"],
                    error_messages={"invalid": _("Give a date such as 2026-11-01.")},
                )
            else:
                field = forms.CharField(max_length=detail.max_length)
            field.label, field.help_text, field.required = detail.label, detail.help_text, False
            self.fields[detail.name] = field

    def clean(self) -> dict[str, Any]:
        """The guide's own rules (required, no future date), each message next to its field."""
        data = super().clean() or {}
        try:
            outcome_details.clean(
                self.node,
                {name: data.get(name) for name in self.fields if name not in self.errors},
                today=timezone.localdate(),
            )
        except outcome_details.DetailsError as exc:
            for name, message in exc.errors.items():
                if name not in self.errors:
                    self.add_error(name, message)
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, label=_("Internal note")
    )


class ReplyForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), max_length=8000, label=_("Reply to the customer")
    )
    # One per rendered form: the same form sent twice is one reply (services.send_reply).
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["token"].initial = secrets.token_urlsafe(16)


class _ReadOnceChoices(ModelChoiceIterator):
    """The options from one plain read of the queryset, kept for the form's life.

    Django's default iterates with `.iterator()`, which on PostgreSQL opens a server-side
    cursor (DECLARE, FETCH, CLOSE: three round trips) on every render of a short list.
    """

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class _QuickSelect(forms.Select):
    """A select written in one pass: the default renders a template per option, which made
    the team's list the costliest part of the case page's header."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        chosen = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((str(v), " selected" if str(v) in chosen else "", label) for v, label in self.choices),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )


class _AgentField(forms.ModelChoiceField):  # type: ignore[type-arg]
    iterator = _ReadOnceChoices
    widget = _QuickSelect

    def label_from_instance(self, obj: Any) -> str:
        """People by their full name; the username only for someone who has none."""
        return str(obj.get_full_name() or obj.get_username())


class AssignForm(forms.Form):
    assignee: forms.ModelChoiceField[User] = _AgentField(
        queryset=None, required=False, label=_("Assign to"), empty_label=_("Nobody")
    )

    def __init__(self, *args: Any, agents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["assignee"]).queryset = agents


class TestSmsForm(forms.Form):
    recipient = forms.TypedChoiceField(coerce=int, label=_("Number"))

    def __init__(self, *args: Any, recipients: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["recipient"]).choices = [(r.pk, r.e164) for r in recipients]


class ManualReportForm(forms.Form):
    """A status the agent read on the console's Send Details page."""

    msg_id = forms.ChoiceField(label=_("Message id"))
    status = forms.CharField(max_length=32, label=_("Status code"))
    update_time = forms.DateTimeField(required=False, label=_("Update time (optional)"))

    def __init__(self, *args: Any, messages: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["msg_id"]).choices = [(m.msg_id, m.msg_id) for m in messages]


class EscalationAnswerForm(forms.Form):
    reference = forms.CharField(max_length=100, required=False, label=_("Customer service reference"))
    answer = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Their answer")
    )
    close = forms.BooleanField(required=False, label=_("Close the escalation"))


class SendDetailsUploadForm(forms.Form):
    file = forms.FileField(label=_("Send Details export (CSV)"))
    encoding = forms.ChoiceField(
        choices=[("utf-8-sig", "UTF-8"), ("gb18030", _("Chinese (GB18030)"))],
        initial="utf-8-sig",
        label=_("Encoding"),
    )
    timezone = forms.ChoiceField(label=_("Time zone of the times in the file"), initial="UTC")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from diagnosis.support.forms import timezone_choices

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["timezone"]).choices = timezone_choices()


def _last_days_now(days: int) -> str:
    return ngettext("Last %(n)d day", "Last %(n)d days", days) % {"n": days}


# Translated when the choice is shown, in the reader's language.
_last_days = lazy(_last_days_now, str)


class PeriodForm(forms.Form):
    """The period of the causes and trends section; anything else falls back to the default."""

    days = forms.TypedChoiceField(
        choices=[(days, _last_days(days)) for days in PERIOD_DAYS],
        coerce=int,
        required=False,
    )

    def value(self) -> int:
        return (self.cleaned_data.get("days") or DEFAULT_DAYS) if self.is_valid() else DEFAULT_DAYS


class ReassignForm(forms.Form):
    """Cases ticked in the queue, and the person who gets them all."""

    NOBODY = "nobody"

    case = forms.ModelMultipleChoiceField(
        queryset=Case.objects.none(),
        to_field_name="reference",
        label=_("Cases"),
        error_messages={
            "required": _("Tick at least one case in the queue first."),
            "invalid_choice": _("%(value)s is not a case reference."),
        },
    )
    assignee = forms.ChoiceField(
        label=_("Give them to"), error_messages={"required": _("Choose who gets the cases.")}
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {str(person.pk): person for person in staff}
        self._cases().queryset = Case.objects.select_related("assigned_to").order_by("created_at", "pk")
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", gettext("Choose a person")),
            *((pk, person.get_full_name() or person.get_username()) for pk, person in self.staff.items()),
            (self.NOBODY, gettext("Nobody: back to Unassigned")),
        ]

    def clean_assignee(self) -> Any:
        value = self.cleaned_data["assignee"]
        return None if value == self.NOBODY else self.staff[value]

    def chosen(self) -> list[Case]:
        """The cases to show as ticked: from the submitted form, or from the queue's selection."""
        # A bound form's data is the request's QueryDict.
        references = (
            cast(QueryDict, self.data).getlist("case") if self.is_bound else self.initial.get("case", [])
        )
        cases = self._cases().queryset
        assert cases is not None  # set in __init__
        return list(cases.filter(reference__in=references))

    def _cases(self) -> forms.ModelMultipleChoiceField[Case]:
        return cast("forms.ModelMultipleChoiceField[Case]", self.fields["case"])


class EraseForm(forms.Form):
    """A lead confirms an erasure by typing the case's reference: it cannot be undone."""

    reference = forms.CharField(label=_("Type the case reference to confirm"), max_length=12)

    def __init__(self, *args: Any, expected: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["reference"].widget.attrs.update(autocomplete="off", spellcheck="false")

    def clean_reference(self) -> str:
        value = str(self.cleaned_data["reference"]).strip().upper()
        if value != self.expected:
            raise forms.ValidationError(
                gettext("Type the reference exactly as shown: %(reference)s.") % {"reference": self.expected}
            )
        return value

"""The public ticket form. Every check gives a message written for the customer."""

from __future__ import annotations

import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from django import forms
from django.conf import settings
from django.forms import BoundField
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from diagnosis.delivery.numbers import NumberInfo
from diagnosis.support import tickets

CONFIRM_NUMBERS = "numbers_confirmed"


@dataclass(frozen=True)
class FieldWarning:
    """A warning shown next to a field, with the box that confirms the value is meant."""

    messages: list[str]
    name: str  # the box's form name
    value: str  # what the box sends: names what was confirmed
    confirmed: bool
    label: str


class WarnedBoundField(BoundField):
    """A field that may carry a warning beside its errors (`field.warning` in templates)."""

    @property
    def warning(self) -> FieldWarning | None:
        return getattr(self.form, "warnings", {}).get(self.name)


@cache
def timezone_choices() -> list[tuple[str, str]]:
    return [
        (name, name.replace("_", " "))
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name or name == "UTC"
    ]


class TicketForm(forms.Form):
    name = forms.CharField(max_length=120, label=gettext_lazy("Your name"))
    email = forms.EmailField(
        label=gettext_lazy("Your email"),
        help_text=gettext_lazy("We send the link to follow your ticket here."),
    )
    region = forms.ChoiceField(
        label=gettext_lazy("Country of the numbers"),
        required=False,
        help_text=gettext_lazy("Used for numbers written without a country code."),
    )
    numbers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("Recipient phone numbers"),
        help_text=gettext_lazy("One per line, with or without the country code."),
        # Django 5.2 takes bound_field_class on every field; the stubs' CharField lacks it.
        bound_field_class=WarnedBoundField,  # type: ignore[call-arg]
    )
    msg_ids = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label=gettext_lazy("Message ids (smsMsgId)"),
        help_text=gettext_lazy(
            "Optional but very helpful: the smsMsgId returned when the message was sent, one per line."
        ),
    )
    sent_at = forms.DateTimeField(
        required=False,
        label=gettext_lazy("When was it sent? (approximately)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    sent_tz = forms.ChoiceField(label=gettext_lazy("Time zone of that time"), required=False)
    sender = forms.CharField(
        max_length=64, required=False, label=gettext_lazy("Sender or signature (optional)")
    )
    template_id = forms.CharField(max_length=64, required=False, label=gettext_lazy("Template id (optional)"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=4000, label=gettext_lazy("What happened?")
    )
    screenshot = forms.FileField(
        required=False, label=gettext_lazy("Screenshot (optional, PNG or JPEG, up to 5 MB)")
    )
    # Honeypot: hidden from people; bots that fill every field give themselves away.
    # Out of the tab order too: its wrapper is hidden from screen readers (aria-hidden).
    website = forms.CharField(
        required=False,
        label=gettext_lazy("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `fields` holds copies of the fields declared above: these two are ChoiceFields.
        cast(forms.ChoiceField, self.fields["region"]).choices = [
            ("", _("— not needed, numbers start with + —")),
            *tickets.region_choices(),
        ]
        self.fields["region"].initial = tickets.default_region()
        cast(forms.ChoiceField, self.fields["sent_tz"]).choices = timezone_choices()
        self.fields["sent_tz"].initial = settings.TIME_ZONE
        if not self.is_bound:
            # portal.js puts the browser's own zone here; the server's stays without JavaScript.
            self.fields["sent_tz"].widget.attrs["data-browser-zone"] = ""
        self.parsed_numbers: list[NumberInfo] = []
        self.parsed_msg_ids: list[str] = []
        self.warnings: dict[str, FieldWarning] = {}

    def keep_errors_of(self, *names: str) -> None:
        """Check the data but show only these fields' errors: the others are not being submitted yet."""
        every = self.errors  # runs the checks once
        kept = {name: errors for name, errors in every.items() if name in names}
        self._errors = ErrorDict(kept, renderer=self.renderer)

    def clean_numbers(self) -> str:
        """Impossible numbers are refused; unknown ones are filed once the customer confirms them."""
        text: str = self.cleaned_data["numbers"]
        found, problems = tickets.parse_numbers(text, self.data.get("region") or None)
        if problems:
            raise forms.ValidationError(problems)
        if not found:
            raise forms.ValidationError(_("Give at least one phone number."))
        self.parsed_numbers = found
        unknown = tickets.unconfirmed_numbers(found)
        if unknown is not None:
            confirmed = self.data.get(CONFIRM_NUMBERS) == unknown.key
            self.warnings["numbers"] = FieldWarning(
                unknown.messages, CONFIRM_NUMBERS, unknown.key, confirmed, _("Yes, these numbers are right")
            )
            if not confirmed:
                raise forms.ValidationError(
                    # Translators: the quoted words are the label of the box below the numbers.
                    _("Correct the numbers, or tick “Yes, these numbers are right” below them."),
                    code="unconfirmed",
                )
        return text

    def clean_msg_ids(self) -> str:
        text: str = self.cleaned_data["msg_ids"]
        found, problems = tickets.parse_msg_ids(text)
        if problems:
            raise forms.ValidationError(problems)
        self.parsed_msg_ids = found
        return text

    def clean_screenshot(self) -> Any:
        upload = self.cleaned_data.get("screenshot")
        if upload:
            problem = tickets.screenshot_problem(upload)
            if problem:
                raise forms.ValidationError(problem)
        return upload

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("website"):
            raise forms.ValidationError(_("This submission looks automated."), code="honeypot")
        sent_at: datetime | None = data.get("sent_at")
        if sent_at is not None:
            zone = zoneinfo.ZoneInfo(data.get("sent_tz") or settings.TIME_ZONE)
            # The field read the time in the server's zone; take the same wall time in the chosen one.
            wall = timezone.make_naive(sent_at) if timezone.is_aware(sent_at) else sent_at
            aware = timezone.make_aware(wall, zone)
            if aware > timezone.now() + timedelta(minutes=5):
                self.add_error("sent_at", _("This time is in the future."))
            data["sent_at"] = aware
        return data


class TrackingMessageForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        label=gettext_lazy("Your answer or new information"),
    )
    # Names this one message: a second submit of the same form (a double click) is not sent again.
    once = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["once"].initial = secrets.token_urlsafe(16)


class FindTicketForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("The email address you used"))

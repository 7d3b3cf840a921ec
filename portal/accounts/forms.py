"""Forms of the code step, the account security page and the leads' unlock."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.accounts.lockout import Kind


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class RemoveAuthenticatorForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = forms.CharField(
        label=_("A code from your authenticator app (or a recovery code)"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )


class UnlockForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("account", _("Account")), ("address", pgettext_lazy("network address", "Address"))]
    )
    value = forms.CharField(max_length=255)

    def kind_value(self) -> tuple[Kind, str]:
        kind: Kind = "account" if self.cleaned_data["kind"] == "account" else "address"
        return kind, self.cleaned_data["value"]

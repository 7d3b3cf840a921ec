"""Forms of the code step, the account security page and the leads' unlock."""

from __future__ import annotations

from django import forms

from portal.accounts.lockout import Kind


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class RemoveAuthenticatorForm(forms.Form):
    password = forms.CharField(
        label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = forms.CharField(
        label="A code from your authenticator app (or a recovery code)",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )


class UnlockForm(forms.Form):
    kind = forms.ChoiceField(choices=[("account", "Account"), ("address", "Address")])
    value = forms.CharField(max_length=255)

    def kind_value(self) -> tuple[Kind, str]:
        kind: Kind = "account" if self.cleaned_data["kind"] == "account" else "address"
        return kind, self.cleaned_data["value"]

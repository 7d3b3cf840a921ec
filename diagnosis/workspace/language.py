"""Who reads which language: the switch on every page, and a staff member's preference.

A visitor's language comes from the switch (a cookie) or else the browser (LocaleMiddleware).
A signed-in staff member's preference, when set, wins over both; it is copied into the
session at sign-in so that reading it costs no query per request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from diagnosis.models import StaffPreference
from portal.accounts import mfa
from portal.home_panels import home_panels
from portal.http import AuthenticatedHttpRequest
from portal.languages import supported

SESSION_KEY = "staff_language"


class StaffLanguageMiddleware:
    """After LocaleMiddleware and the session: a staff member's own choice of language wins."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = supported(request.session.get(SESSION_KEY))
        if chosen:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return self.get_response(request)


@receiver(user_logged_in)
def remember_preference(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    preference = StaffPreference.objects.filter(user=user).values_list("language", flat=True).first()
    chosen = supported(preference)
    if chosen:
        request.session[SESSION_KEY] = chosen


def _save_preference(request: HttpRequest, code: str) -> None:
    StaffPreference.objects.update_or_create(user=request.user, defaults={"language": code})
    if code:
        request.session[SESSION_KEY] = code
    else:
        request.session.pop(SESSION_KEY, None)


@login_not_required
@mfa.allowed_during(mfa.Step.VERIFY, mfa.Step.SETUP)
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """The footer's switch: Django's set_language (cookie, safe `next`), and for staff also their
    preference, so the choice follows them to another browser."""
    response = set_language(request)
    chosen = supported(request.POST.get("language"))
    if chosen and request.user.is_authenticated:
        _save_preference(request, chosen)
    return response


# The preference on the staff home page -------------------------------------------------


class LanguagePreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the portal"),
        required=False,
        choices=[("", gettext_lazy("The same as my browser")), *settings.LANGUAGES],
    )


@receiver(home_panels)
def language_panel(sender: object, request: AuthenticatedHttpRequest, **kwargs: Any) -> SafeString:
    # The session holds the preference (copied at sign-in, kept by _save_preference).
    form = LanguagePreferenceForm(initial={"language": supported(request.session.get(SESSION_KEY)) or ""})
    return SafeString(
        render_to_string("diagnosis/partials/home_language.html", {"form": form}, request=request)
    )


@require_POST
def preference(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LanguagePreferenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the languages offered."))
        return redirect("home")
    code = form.cleaned_data["language"]
    _save_preference(request, code)
    response = redirect("home")
    if code:
        translation.activate(code)
    else:
        # Back to the browser's language: forget what the switch stored too.
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        translation.activate(translation.get_language_from_request(request))
    messages.success(request, _("Language saved."))
    return response

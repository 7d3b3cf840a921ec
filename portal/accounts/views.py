"""The code step, setting up an authenticator, account security, and the leads' unlock."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal import roles
from portal.accounts import lockout, mfa
from portal.accounts.forms import CodeForm, RemoveAuthenticatorForm, UnlockForm
from portal.http import AuthenticatedHttpRequest, PublicHttpRequest


def _next_url(request: AuthenticatedHttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


@mfa.allowed_during(mfa.Step.VERIFY)
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Second sign-in step: a code from the authenticator app or a recovery code."""
    if getattr(request, "mfa_step", None) != mfa.Step.VERIFY:
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mfa.check_code(request, form.cleaned_data["code"])
        except mfa.CodeRefused as refused:
            form.add_error("code", str(refused))
        else:
            return redirect(_next_url(request))
    return render(request, "accounts/verify.html", {"form": form, "next": _next_url(request)})


@mfa.allowed_during(mfa.Step.SETUP)
@never_cache
@require_http_methods(["GET", "POST"])
def setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Add an authenticator: scan the QR code, confirm with a first code, get recovery codes once."""
    if mfa.has_authenticator(request.user):
        messages.info(request, _("Your account already has an authenticator app."))
        return redirect("accounts:security")
    device = mfa.pending_authenticator(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.confirm_authenticator(request, device, form.cleaned_data["code"])
        if codes is not None:
            context = {"codes": codes, "next": _next_url(request), "first_time": True}
            return render(request, "accounts/recovery_codes.html", context)
        form.add_error(
            "code", _("That code did not work. Check the clock on your phone and try the next code.")
        )
    context = {
        "form": form,
        "qr_code": mfa.qr_code_svg(device),
        "secret": mfa.secret_text(device),
        "required": getattr(request, "mfa_step", None) == mfa.Step.SETUP,
        "next": _next_url(request),
    }
    return render(request, "accounts/setup.html", context)


@never_cache
@require_safe
def security(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Account security: whether an authenticator is set up, and what can be done about it."""
    context = {
        "has_authenticator": mfa.has_authenticator(request.user),
        "codes_left": mfa.recovery_codes_left(request.user),
        "short_codes": mfa.has_short_recovery_codes(request.user),
        "required": settings.STAFF_MFA_REQUIRED,
        "remove_form": RemoveAuthenticatorForm(),
    }
    return render(request, "accounts/security.html", context)


@never_cache
@require_POST
def recovery_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown once."""
    if not mfa.has_authenticator(request.user):
        return redirect("accounts:security")
    codes = mfa.issue_recovery_codes(request.user)
    mfa.logger.info("recovery codes replaced: user=%r", request.user.get_username())
    return render(
        request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("accounts:security")}
    )


@never_cache
@require_POST
def remove_authenticator(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Remove the authenticator after the password and a current code confirm it is really them."""
    form = RemoveAuthenticatorForm(request.POST)
    if form.is_valid():
        if not request.user.check_password(form.cleaned_data["password"]):
            username = request.user.get_username()
            mfa.logger.warning("authenticator removal refused, wrong password: user=%r", username)
            form.add_error("password", _("That password is not right."))
        else:
            try:
                mfa.check_code(request, form.cleaned_data["code"])
            except mfa.CodeRefused as refused:
                form.add_error("code", str(refused))
    if not form.is_valid():
        context = {
            "has_authenticator": True,
            "codes_left": mfa.recovery_codes_left(request.user),
            "short_codes": mfa.has_short_recovery_codes(request.user),
            "required": settings.STAFF_MFA_REQUIRED,
            "remove_form": form,
        }
        return render(request, "accounts/security.html", context)
    mfa.remove_authenticator(request)
    messages.success(
        request, _("The authenticator app and the recovery codes are removed from your account.")
    )
    return redirect("accounts:security")


@permission_required(roles.REVIEW_TEAM, raise_exception=True)
@never_cache
@require_safe
def lockouts(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Team leads: usernames and addresses currently refused after too many failed sign-ins."""
    context = {
        "lockouts": lockout.current_lockouts(),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "accounts/lockouts.html", context)


@permission_required(roles.REVIEW_TEAM, raise_exception=True)
@require_POST
def unlock(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UnlockForm(request.POST)
    if form.is_valid():
        kind, value = form.kind_value()
        lockout.unlock(kind, value, request.user)
        if kind == "account":
            done = _("Account %(value)s can sign in again.")
        else:
            # Translators: a network (IP) address whose sign-in lockout a team lead lifted.
            done = _("Address %(value)s can sign in again.")
        messages.success(request, done % {"value": value})
    return redirect("accounts:lockouts")


@login_not_required
@require_safe
def admin_sign_in(request: PublicHttpRequest) -> HttpResponse:
    """The admin's sign-in URL: the portal's own sign-in, which has the lockout and the code step.

    A signed-in user sent here lacks admin rights (the admin redirects them here too):
    a 403, not a redirect to the sign-in page that would send them straight back.
    """
    if request.user.is_authenticated:
        raise PermissionDenied
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("login") + (f"?{query}" if query else ""))

"""Staff one-time codes: an authenticator app (TOTP) and ten single-use recovery codes.

Signing in is two steps. The password step (axes-protected) signs the user in; until a
code from their authenticator (or a recovery code) verifies the session, the middleware
below lets them reach only the code step and sign out. Users without an authenticator
are held at the set-up step when `STAFF_MFA_REQUIRED` is on, and pass straight through
when it is off. Customers never have accounts, so they never meet any of this.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.audit import address
from portal.accounts.codes import new_recovery_code, normalise, recovery_digest
from portal.accounts.redirects import send_to
from portal.models import RecoveryCode, RecoveryCodes

logger = logging.getLogger("portal.security")

RECOVERY_CODE_COUNT = 10
# Whether the signed-in user had an authenticator when they signed in (so must give a code).
# Kept in the session so that ordinary pages cost no query to decide.
SESSION_HAS_AUTHENTICATOR = "accounts_has_authenticator"
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


class Step(StrEnum):
    VERIFY = "verify"
    SETUP = "setup"


def authenticator(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()


def has_authenticator(user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


@receiver(user_logged_in)
def remember_authenticator(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any
) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_HAS_AUTHENTICATOR] = has_authenticator(user)


def pending_step(request: HttpRequest) -> Step | None:
    """What a signed-in but unverified session must do before anything else, if anything."""
    user = request.user
    # is_verified comes from django-otp's OTPMiddleware.
    if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
        return None
    has_device = request.session.get(SESSION_HAS_AUTHENTICATOR)
    if has_device is None:  # a session from before this check existed
        has_device = request.session[SESSION_HAS_AUTHENTICATOR] = has_authenticator(user)
    if has_device:
        return Step.VERIFY
    return Step.SETUP if settings.STAFF_MFA_REQUIRED else None


View = Callable[..., HttpResponseBase]


def allowed_during(*steps: Step) -> Callable[[View], View]:
    """Mark a view as reachable by a session that still owes one of `steps`."""

    def mark(view: View) -> View:
        view.mfa_steps = frozenset(steps)  # type: ignore[attr-defined]
        return view

    return mark


class RequireVerifiedMiddleware:
    """Hold a session that owes a code (or a set-up) at that step, on every kind of request.

    Runs for every resolved view, the admin and htmx partials included.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        step = pending_step(request)
        if step is None:
            return None
        request.mfa_step = step  # type: ignore[attr-defined]  # the navigation hides itself
        if step in getattr(view_func, "mfa_steps", ()):
            return None
        return send_to(request, reverse(f"accounts:mfa-{step.value}"))


# Setting up -------------------------------------------------------------------------


def pending_authenticator(user: AbstractBaseUser) -> TOTPDevice:
    """The user's not yet confirmed authenticator: the same secret on every visit until confirmed."""
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def qr_code_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// address as an inline SVG QR code (segno writes no style attributes)."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, light="#fff", title=_("QR code to scan")
    )
    return mark_safe(svg)  # noqa: S308 - generated by segno from our own address


def secret_text(device: TOTPDevice) -> str:
    """The secret as typed into an app by hand: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def issue_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Replace the user's recovery codes with ten new ones; returns them to show once.

    Only their digests are stored, so they cannot be shown again.
    """
    device, _ = RecoveryCodes.objects.get_or_create(user=user, defaults={"name": RECOVERY_NAME})
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device.codes.all().delete()
        if device.short_codes:
            device.short_codes = False
            device.save(update_fields=["short_codes"])
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=device, digest=recovery_digest(c)) for c in codes
        )
    return codes


def recovery_codes_left(user: AbstractBaseUser) -> int:
    return RecoveryCode.objects.filter(device__user_id=user.pk).count()


def has_short_recovery_codes(user: AbstractBaseUser) -> bool:
    """Whether the user still holds codes from the previous version, weaker than today's."""
    return RecoveryCodes.objects.filter(user_id=user.pk, short_codes=True, codes__isnull=False).exists()


def confirm_authenticator(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a new authenticator with its first code: verifies the session and returns new recovery codes.

    None when the code is wrong (or throttled); nothing changes then.
    """
    if not device.verify_token(normalise(code)):
        logger.warning(
            "authenticator set-up code refused: user=%r address=%s",
            request.user.get_username(),
            address(request),
        )
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user_id=device.user_id, confirmed=False).delete()
    codes = issue_recovery_codes(device.user)
    otp_login(request, device)
    request.session[SESSION_HAS_AUTHENTICATOR] = True
    logger.info("authenticator set up: user=%r address=%s", request.user.get_username(), address(request))
    return codes


def remove_authenticator(request: HttpRequest) -> None:
    """Delete the user's authenticator and recovery codes; the session is no longer verified."""
    user = request.user
    TOTPDevice.objects.filter(user_id=user.pk).delete()
    RecoveryCodes.objects.filter(user_id=user.pk).delete()
    request.session.pop("otp_device_id", None)
    request.session[SESSION_HAS_AUTHENTICATOR] = False
    request.user.otp_device = None  # type: ignore[union-attr]
    logger.info("authenticator removed: user=%r address=%s", user.get_username(), address(request))


# Checking a code --------------------------------------------------------------------

_SIX_DIGITS = re.compile(r"^\d{6}$")


class CodeRefused(Exception):
    """The code did not verify; the message says what to do."""


def check_code(request: HttpRequest, code: str) -> TOTPDevice | RecoveryCodes:
    """Verify the session with a code from the authenticator or a recovery code (used up).

    django-otp throttles each device: after a wrong code the next try must wait 1, 2,
    4, ... seconds, so guessing six digits is hopeless. Raises CodeRefused.
    """
    user = request.user
    code = normalise(code)
    if _SIX_DIGITS.match(code):
        device: TOTPDevice | RecoveryCodes | None = authenticator(user)  # type: ignore[arg-type]
    else:
        device = RecoveryCodes.objects.filter(user_id=user.pk, confirmed=True).first()
    allowed, details = True, None
    if device is not None:
        with transaction.atomic():
            # Lock the row so two parallel guesses cannot both pass the throttle.
            device = type(device).objects.select_for_update().get(pk=device.pk)
            allowed, details = device.verify_is_allowed()
            if allowed and device.verify_token(code):
                otp_login(request, device)
                kind = "authenticator" if isinstance(device, TOTPDevice) else "recovery code"
                logger.info(
                    "code accepted (%s): user=%r address=%s", kind, user.get_username(), address(request)
                )
                return device
    logger.warning("code refused: user=%r address=%s", user.get_username(), address(request))
    if device is not None and not allowed and details and details.get("locked_until"):
        raise CodeRefused(_("Too many wrong codes in a row. Wait a few seconds, then try again."))
    raise CodeRefused(
        _("That code did not work. Check the clock on your phone, or use one of your recovery codes.")
    )

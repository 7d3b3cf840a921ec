"""A staff member sets up an authenticator in a real Chromium, then signs in with a code."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import totp

from portal.accounts.codes import recovery_digest
from portal.models import RecoveryCode

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_authenticator_setup_then_sign_in_with_a_recovery_code(page, settings, agent) -> None:
    settings.STAFF_MFA_REQUIRED = True
    page.goto("/cases/")
    _sign_in(page, "avery", "pw-avery")

    page.wait_for_url("**/accounts/security/setup/**")
    assert page.locator(".qr-code svg").is_visible()
    assert page.get_by_role("link", name="Case queue").count() == 0
    secret = page.locator(".secret-key").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Confirm").click()

    page.get_by_role("heading", name="Your recovery codes").wait_for()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    # Only digests are stored: the page is the one place the codes ever appear.
    stored = RecoveryCode.objects.filter(device__user=agent).values_list("digest", flat=True)
    assert sorted(stored) == sorted(recovery_digest(code) for code in codes)
    page.get_by_role("link", name="I have saved them, continue").click()
    page.wait_for_url("**/cases/")
    page.get_by_role("button", name="Sign out").click()

    page.goto("/cases/")
    _sign_in(page, "avery", "pw-avery")
    page.wait_for_url("**/accounts/code/**")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("That code did not work").wait_for()
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/cases/")
    assert page.get_by_role("link", name="Account security").is_visible()

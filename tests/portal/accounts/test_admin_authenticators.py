"""What the admin may do with someone's authenticator: remove it, never read its key."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(agent: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=agent, name="Authenticator app", confirmed=True)


def test_the_admin_never_shows_an_authenticators_key(
    client: Client, admin_user: User, device: TOTPDevice
) -> None:
    client.force_login(admin_user)
    for view in ("config", "qrcode"):
        response = client.get(reverse(f"admin:otp_totp_totpdevice_{view}", args=[device.pk]))
        assert response.status_code == 403, view
    change = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert device.key not in change.content.decode()
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403


def test_an_admin_removes_a_lost_authenticator(client: Client, admin_user: User, device: TOTPDevice) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()

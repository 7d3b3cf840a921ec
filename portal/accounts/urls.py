from __future__ import annotations

from django.urls import path

from portal.accounts import views

app_name = "accounts"

urlpatterns = [
    path("code/", views.verify, name="mfa-verify"),
    path("security/", views.security, name="security"),
    path("security/setup/", views.setup, name="mfa-setup"),
    path("security/recovery-codes/", views.recovery_codes, name="recovery-codes"),
    path("security/remove/", views.remove_authenticator, name="remove-authenticator"),
    path("lockouts/", views.lockouts, name="lockouts"),
    path("lockouts/unlock/", views.unlock, name="unlock"),
]

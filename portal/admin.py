from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.http import HttpRequest
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.admin_labels import LABELLED_DATETIMES
from portal.models import BeatProcess, Heartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by background processes: visible to administrators, never edited."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["component", "at"]


@admin.register(BeatProcess)
class BeatProcessAdmin(ReadOnlyAdmin):
    """Where to find a second beat that /healthz reports: host, pid and start time."""

    list_display = ["beat_id", "last_tick"]
    ordering = ["-last_tick"]


class AuthenticatorAdmin(TOTPDeviceAdmin):
    """Administrators remove a lost authenticator; only its owner adds one, by scanning its key."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, AuthenticatorAdmin)


class LabelledUserAdmin(UserAdmin):
    formfield_overrides = LABELLED_DATETIMES


admin.site.unregister(User)
admin.site.register(User, LabelledUserAdmin)

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from portal.accounts.codes import recovery_digest


class Heartbeat(models.Model):
    """The last sign of life of a background component, read by /healthz.

    One row per component, overwritten in place: beat stamps `beat` each time it
    publishes the heartbeat task, a worker stamps `worker` each time it runs it.
    """

    class Component(models.TextChoices):
        WORKER = "worker", _("Celery worker")
        BEAT = "beat", _("Celery beat")

    component = models.CharField(primary_key=True, max_length=16, choices=Component.choices)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(component__in=["worker", "beat"]),
                name="portal_heartbeat_component_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_component_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class BeatProcess(models.Model):
    """A Celery beat process seen ticking, so /healthz can tell when two are running.

    Each beat names itself by host, pid and start time and upserts its row on every
    tick; health counts the names seen within two heartbeat intervals. A beat that
    stops ticking drops out of that count, and its row is pruned soon after.
    """

    beat_id = models.CharField(primary_key=True, max_length=255)
    last_tick = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.beat_id} at {self.last_tick:%Y-%m-%d %H:%M:%S}"


class PeriodicSlot(models.Model):
    """When the current slot of a beat-scheduled task began (see `portal.periodic`).

    A run claims its slot by moving `started_at` forward, and only if the previous
    slot began at least half an interval ago; the copy a second beat publishes for
    the same tick finds the slot taken and skips.
    """

    name = models.CharField(primary_key=True, max_length=100)
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} since {self.started_at:%Y-%m-%d %H:%M:%S}"


class AccessRight(models.Model):
    """Holder for the portal's role permissions; it has no table of its own.

    Django attaches permissions to a model. These ones describe what a role may do
    across the whole portal rather than on one kind of object, so they live here and
    are granted to the role groups by migration `0002_create_roles`.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("work_cases", "Can work cases in the support queue"),
            ("assign_cases", "Can assign cases to any agent"),
            ("review_team", "Can review the team dashboard"),
        ]

    def __str__(self) -> str:
        return "Portal access rights"


class RecoveryCodes(TimestampMixin, ThrottlingMixin, Device):
    """A staff member's single-use recovery codes, as a django-otp device.

    Replaces django-otp's static device, which stores its codes in plain text. Only
    SHA-256 digests are kept (see `portal.accounts.codes`); wrong codes are throttled
    like any other django-otp device.
    """

    # Set on codes carried over from django-otp's static tokens (8 characters, about 40
    # bits): they still work, and the security page asks for new ones. (Annotated because
    # django-otp is untyped, so mypy cannot infer fields on its subclasses.)
    short_codes: models.BooleanField[bool, bool] = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("recovery code set")
        constraints = [models.UniqueConstraint(fields=["user"], name="portal_recoverycodes_one_per_user")]

    def get_throttle_factor(self) -> int:
        return 1  # the same as django-otp's static device

    def verify_token(self, token: str) -> bool:
        """Use up the matching code: one DELETE, so a code works once even for two parallel requests."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        used, _ = self.codes.filter(digest=recovery_digest(token)).delete()
        if not used:
            self.throttle_increment()
            return False
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    """One unused recovery code, by its digest; the row is deleted when the code is used."""

    device = models.ForeignKey(RecoveryCodes, related_name="codes", on_delete=models.CASCADE)
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="portal_recoverycode_unique_per_device")
        ]

    def __str__(self) -> str:
        return f"Recovery code of device {self.device_id}"

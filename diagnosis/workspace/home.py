"""The agent's panel on the staff home page: updates on their cases and the email preference."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from diagnosis.cases import live
from diagnosis.models import StaffNotification, StaffPreference
from portal import roles
from portal.home_panels import home_panels
from portal.http import AuthenticatedHttpRequest


@receiver(home_panels)
def notifications_panel(
    sender: object, request: AuthenticatedHttpRequest, **kwargs: Any
) -> SafeString | None:
    # The home page sends its panels only to signed-in staff.
    if not request.user.has_perm(roles.WORK_CASES):
        return None
    preference = StaffPreference.objects.filter(user=request.user).first()
    context = {
        "notifications": unread_notifications(request.user.pk),
        "email_when_case_resumes": bool(preference and preference.email_when_case_resumes),
        # The list asks for news with this token (workspace.live_views.notifications_changes).
        "notifications_token": live.notifications_token(request.user.pk),
        "live_seconds": settings.LIVE_UPDATE_SECONDS,
    }
    return SafeString(
        render_to_string("diagnosis/partials/home_notifications.html", context, request=request)
    )


def unread_notifications(user_id: int) -> list[StaffNotification]:
    """The newest ten unread, each with its case (for the link)."""
    return list(
        StaffNotification.objects.filter(user_id=user_id, read_at__isnull=True).select_related("case")[:10]
    )

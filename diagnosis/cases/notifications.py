"""Telling staff about their cases: portal notifications, and emails for those who asked."""

from __future__ import annotations

from django.conf import settings

from diagnosis.cases import outbox
from diagnosis.models import Case, StaffNotification, StaffPreference


def tell_assignee(case_id: int) -> None:
    """A portal notification for the assigned agent, and an email if they asked for one."""
    case = Case.objects.select_related("assigned_to").get(pk=case_id)
    agent = case.assigned_to
    if agent is None:
        return
    text = f"{case.reference} resumed: a status report arrived."
    StaffNotification.objects.create(user=agent, case=case, text=text)
    wants_email = StaffPreference.objects.filter(user=agent, email_when_case_resumes=True).exists()
    if wants_email and agent.email:
        context = {"case": case, "text": text, "portal_url": settings.PORTAL_BASE_URL}
        language = (
            StaffPreference.objects.filter(user=agent).values_list("language", flat=True).first()
            or settings.LANGUAGE_CODE
        )
        subject, body = outbox.render_email("case_resumed", context, language=language)
        outbox.queue_email(case=case, to=agent.email, subject=subject, body=body)

"""Telling staff about their cases: portal notifications, and emails for those who asked.

A notification's `text` is stored in English (a worker has no reader); pages word it in the
reader's language when they show it (`stored_sentences.shown`, the `worded` filter).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_noop

from diagnosis.cases import outbox
from diagnosis.delivery.stored_sentences import sentence
from diagnosis.models import Case, StaffNotification, StaffPreference

RESUMED = sentence(gettext_noop("%(reference)s resumed: a status report arrived."))


def tell_assignee(case_id: int) -> None:
    """A portal notification for the assigned agent, and an email if they asked for one."""
    case = Case.objects.select_related("assigned_to").get(pk=case_id)
    agent = case.assigned_to
    if agent is None:
        return
    StaffNotification.objects.create(user=agent, case=case, text=RESUMED.english(reference=case.reference))
    preference = StaffPreference.objects.filter(user=agent).first()
    wants_email = bool(preference and preference.email_when_case_resumes)
    if wants_email and agent.email:
        # The email reads in the agent's own language.
        language = (preference.language if preference else "") or settings.LANGUAGE_CODE
        context = {"case": case, "portal_url": settings.PORTAL_BASE_URL}
        subject, body = outbox.render_email("case_resumed", context, language=language)
        outbox.queue_email(case=case, to=agent.email, subject=subject, body=body)

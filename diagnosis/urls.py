from __future__ import annotations

from django.urls import path, register_converter

from diagnosis.leads import imports as lead_imports
from diagnosis.leads import views as lead_views
from diagnosis.workspace import language, live_views, views
from diagnosis.workspace.converters import ReferenceConverter

register_converter(ReferenceConverter, "ref")

app_name = "diagnosis"

urlpatterns = [
    path("cases/", views.case_list, name="case-list"),
    path("cases/export.csv", lead_views.queue_export, name="case-export"),
    path("cases/<ref:reference>/", views.case_detail, name="case-detail"),
    path("cases/<ref:reference>/part/<slug:region>/", views.case_part, name="case-part"),
    path("cases/<ref:reference>/changes/", live_views.case_changes, name="case-changes"),
    path("cases/<ref:reference>/step/", views.case_step, name="case-step"),
    path("cases/<ref:reference>/revise/<slug:node>/", views.case_revise, name="case-revise"),
    path("cases/<ref:reference>/escalate/", views.case_escalate, name="case-escalate"),
    path("cases/<ref:reference>/claim/", views.case_claim, name="case-claim"),
    path("cases/<ref:reference>/assign/", views.case_assign, name="case-assign"),
    path("cases/<ref:reference>/note/", views.case_note, name="case-note"),
    path("cases/<ref:reference>/reply/", views.case_reply, name="case-reply"),
    path("cases/<ref:reference>/test-sms/", views.case_test_sms, name="case-test-sms"),
    path("cases/<ref:reference>/test-messages/", views.case_test_messages, name="case-test-messages"),
    path("cases/<ref:reference>/screenshot/", views.case_screenshot, name="case-screenshot"),
    path("cases/<ref:reference>/manual-report/", views.case_manual_report, name="case-manual-report"),
    path(
        "cases/<ref:reference>/escalations/<int:escalation_id>/answer/",
        views.escalation_answer,
        name="escalation-answer",
    ),
    path("notifications/changes/", live_views.notifications_changes, name="notifications-changes"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/language/", language.preference, name="language-preference"),
    path("language/", language.switch, name="language-switch"),
    path("leads/", lead_views.lead_dashboard, name="lead-dashboard"),
    path("leads/export.csv", lead_views.causes_export, name="lead-export"),
    path("leads/reassign/", lead_views.reassign, name="lead-reassign"),
    path("leads/cases/<ref:reference>/close/", lead_views.case_close, name="lead-case-close"),
    path("leads/cases/<ref:reference>/reopen/", lead_views.case_reopen, name="lead-case-reopen"),
    path("leads/cases/<ref:reference>/erase/", lead_views.case_erase, name="lead-case-erase"),
    path("leads/import/", lead_imports.upload, name="send-details-import"),
    path("leads/import/<int:pk>/", lead_imports.detail, name="send-details-import-detail"),
]

from __future__ import annotations

from django.urls import path

from diagnosis.support import views as support_views

app_name = "support"

urlpatterns = [
    path("new/", support_views.ticket_new, name="ticket-new"),
    path("new/check/<slug:field>/", support_views.ticket_check, name="ticket-check"),
    path("new/self-help/", support_views.self_help_answer, name="self-help"),
    path("t/<str:token>/", support_views.tracking, name="tracking"),
    path("t/<str:token>/message/", support_views.tracking_message, name="tracking-message"),
    path("find/", support_views.find_ticket, name="find-ticket"),
]

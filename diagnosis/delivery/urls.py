from __future__ import annotations

from django.urls import path

from diagnosis.delivery import callback

urlpatterns = [
    path("hooks/sms-status/<str:token>/", callback.status_report, name="status-callback"),
]

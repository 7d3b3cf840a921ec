from __future__ import annotations

from django.urls import path

from diagnosis import views

app_name = "diagnosis"

urlpatterns = [
    path("cases/", views.case_list, name="case-list"),
    path("leads/", views.lead_dashboard, name="lead-dashboard"),
]

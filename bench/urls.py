"""The portal's URLs plus the bare baseline views under `/bench/`."""

from __future__ import annotations

from django.urls import include, path

from bench import baseline

urlpatterns = [
    path("bench/list/<str:kind>/", baseline.case_rows, name="bench-list"),
    path("bench/case/<str:reference>/", baseline.case_row, name="bench-case"),
    path("bench/case-full/<str:reference>/", baseline.case_full, name="bench-case-full"),
    path("bench/tracking/<str:token>/", baseline.tracking_row, name="bench-tracking"),
    path("bench/dashboard/", baseline.dashboard_rows, name="bench-dashboard"),
    path("bench/step/<str:reference>/", baseline.step_update, name="bench-step"),
    path("bench/insert/", baseline.insert_one, name="bench-insert"),
    path("bench/insert-batch/", baseline.insert_batch, name="bench-insert-batch"),
    path("", include("portal.urls")),
]

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # The apps' pages, included by name: the project shell imports nothing from them.
    path("", include("diagnosis.delivery.urls")),
    path("support/", include("diagnosis.support.urls")),
    path("", include("diagnosis.urls")),
]

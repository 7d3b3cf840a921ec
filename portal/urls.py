from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views
from portal.accounts import mfa
from portal.accounts import views as accounts_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path(
        "accounts/logout/",
        mfa.allowed_during(mfa.Step.VERIFY, mfa.Step.SETUP)(auth_views.LogoutView.as_view()),
        name="logout",
    ),
    path("accounts/", include("portal.accounts.urls")),
    # The admin has its own sign-in form; everyone signs in through the portal's, which
    # has the lockout and the code step.
    path("admin/login/", accounts_views.admin_sign_in),
    path("admin/", admin.site.urls),
    # The apps' pages, included by name: the project shell imports nothing from them.
    path("", include("diagnosis.delivery.urls")),
    path("support/", include("diagnosis.support.urls")),
    path("", include("diagnosis.urls")),
]

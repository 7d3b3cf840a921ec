"""Request types for view annotations."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    user: AbstractBaseUser  # type: ignore[assignment]


class PublicHttpRequest(HtmxHttpRequest):
    user: AbstractBaseUser | AnonymousUser  # type: ignore[assignment]

"""Response headers that no view should have to remember: Permissions-Policy and no-store.

The Content-Security-Policy comes from django-csp (`CONTENT_SECURITY_POLICY` in settings);
these two are small enough to write here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

# Browser features the portal never uses, switched off for its pages and anything they
# might embed, so injected markup cannot ask for the camera, the location and so on.
# Only names Chromium knows: an unknown one is logged as an error on every page.
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "browsing-topics",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "gamepad",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "local-fonts",
    "magnetometer",
    "microphone",
    "midi",
    "otp-credentials",
    "payment",
    "picture-in-picture",
    "screen-wake-lock",
    "serial",
    "usb",
    "window-management",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)

Middleware = Callable[[HttpRequest], HttpResponseBase]


def permissions_policy(get_response: Middleware) -> Middleware:
    """Deny every powerful browser feature on every response."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    return middleware


def no_store(get_response: Middleware) -> Middleware:
    """Tell browsers and proxies to keep no copy of any page the portal renders.

    Staff pages and exports hold customers' numbers and messages; a tracking page is
    reached by a private link; every form carries a CSRF token. Nothing here is worth a
    stored copy on a shared computer or in a proxy. Static files never reach this
    middleware (WhiteNoise answers them first), so they keep their long cache lifetimes.
    """

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        patch_cache_control(response, no_store=True)
        return response

    return middleware

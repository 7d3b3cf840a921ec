"""The portal's languages (settings.LANGUAGES): which code a request or a stored value means."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def supported(code: str | None) -> str | None:
    """`code` as one of settings.LANGUAGES ("zh-CN" -> "zh-hans"), or None when it is not one."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def active() -> str:
    """The active language as one of settings.LANGUAGES; the default one otherwise."""
    return supported(translation.get_language()) or settings.LANGUAGE_CODE


def name(code: str) -> str:
    """The language's name in its own words ("简体中文"), whatever the active language."""
    return dict(settings.LANGUAGES).get(supported(code) or "", code)

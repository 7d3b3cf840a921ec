"""The staff home page's panels: apps add theirs through a signal, so the shell imports none of them."""

from __future__ import annotations

from typing import cast

from django.dispatch import Signal
from django.http import HttpRequest
from django.utils.safestring import SafeString

# Receivers get `request` and return a rendered panel (or None to add nothing).
home_panels = Signal()


def panels(request: HttpRequest) -> list[SafeString]:
    # Receivers return SafeString panels; the stubs type every receiver's result as str.
    return [cast(SafeString, html) for _, html in home_panels.send(sender=None, request=request) if html]

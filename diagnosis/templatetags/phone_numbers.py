"""`{{ number|international }}`: a stored E.164 number written the way people read it."""

from __future__ import annotations

from django import template

from diagnosis.delivery import numbers

register = template.Library()


@register.filter
def international(e164: str) -> str:
    return numbers.international(e164 or "")

"""Stored phone-number facts written the way people read them.

`{{ number|international }}`: an E.164 number in international format, the same in every
language. `{{ recipient.number_type|number_type }}`: "mobile", in the reader's language.
"""

from __future__ import annotations

from django import template

from diagnosis.delivery import numbers

register = template.Library()


@register.filter
def international(e164: str) -> str:
    return numbers.international(e164 or "")


@register.filter
def number_type(name: str) -> str:
    return numbers.type_label(name or "")

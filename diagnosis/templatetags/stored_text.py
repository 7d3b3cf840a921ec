"""`{{ text|worded }}`: a sentence background work stored in English, in the reader's language."""

from __future__ import annotations

from django import template

from diagnosis.delivery import stored_sentences

register = template.Library()


@register.filter
def worded(stored: str) -> str:
    return stored_sentences.shown(stored or "")

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """`{{ counts|get_item:tab }}`: look a key up in a dict from a template."""
    try:
        return mapping[key]
    except (KeyError, TypeError):
        return ""

"""A `<time>` element as one value, so a translated sentence can hold it as a placeholder."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def time_element(moment: date | datetime | None, shown: str = "DATETIME_FORMAT") -> SafeString | str:
    """`<time datetime="…">…</time>` for `moment`, shown with the `date` filter's format `shown`,
    in the current time zone as `{{ moment|date:… }}` gives; empty for no moment.

    Use it with `as`: `{% time_element when "SHORT_DATETIME_FORMAT" as when %}`, then
    `{% blocktranslate %}… on {{ when }}{% endblocktranslate %}`.
    """
    if moment is None or moment == "":
        return ""
    if isinstance(moment, datetime) and timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return format_html('<time datetime="{}">{}</time>', date_filter(moment, "c"), date_filter(moment, shown))

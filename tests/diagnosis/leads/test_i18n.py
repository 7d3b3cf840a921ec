"""The lead pages in another language: country names, CSV headers, cached labels and dates."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from diagnosis.delivery.region_names import region_name
from diagnosis.leads import countries, exports, trends
from diagnosis.models import Case


def test_region_names_follow_the_active_language() -> None:
    with translation.override("zh-hans"):
        assert region_name("CN") == "中国"
        assert region_name("de") == "德国"
        assert countries.country_label("DE") == "德国 (DE, +49)"
    with translation.override("en"):
        assert region_name("DE") == "Germany"
        assert region_name("CN") == "China"
        assert region_name("ZZ") == "ZZ"  # no name anywhere: the code


def test_names_the_library_lacks_or_gets_wrong_are_corrected_and_others_fall_back_to_english() -> None:
    with translation.override("zh-hans"):
        assert region_name("XK") == "科索沃"  # not in the library
        assert region_name("WS") == "萨摩亚"  # the library says "*zh"
        assert region_name("HK") == "中国香港"
    assert region_name("XK", "fr") == "Kosovo"  # a language the portal has no names in


def test_a_cached_country_label_is_worked_out_in_the_language_it_is_shown_in() -> None:
    label = countries.country_label_lazy("DE")
    with translation.override("zh-hans"):
        assert str(label).startswith("德国")
    with translation.override("en"):
        assert str(label).startswith("Germany")


def test_export_headers_are_in_the_language_of_the_request() -> None:
    with translation.override("en"):
        english = exports.queue_header()
    with translation.override("zh-hans"):
        chinese = exports.queue_header()
        expected = [translation.gettext("Case"), translation.gettext("Countries")]
    assert english[0] == "Case" and english[5] == "Countries"
    assert [chinese[0], chinese[5]] == expected  # translated once the catalogue has them


@pytest.mark.django_db
def test_a_chinese_export_writes_its_header_under_that_language(
    client: Client, lead: User, make_case: Callable[..., Case]
) -> None:
    make_case()
    client.force_login(lead)
    # The locale middleware leaves the request's language active: put back what was there after.
    with translation.override(translation.get_language()):
        response = client.get("/leads/export.csv", HTTP_ACCEPT_LANGUAGE="zh-hans")
        body = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    header = next(csv.reader(io.StringIO(body[1:])))
    with translation.override("zh-hans"):
        assert header == [str(name) for name in exports.causes_header()]


def test_day_labels_follow_the_active_language() -> None:
    week = (date(2026, 11, 3), date(2026, 11, 9))
    buckets = trends.Buckets(unit="week", spans=(week,), marked=(), index={})
    with translation.override("en"):
        assert buckets.labels == ("3–9 Nov",)
    with translation.override("zh-hans"):
        label = buckets.labels[0]
    # Month names come from Django's own catalogue; the order is ours ("11月3日–9日" once compiled).
    assert "Nov" not in label and "3" in label and "9" in label

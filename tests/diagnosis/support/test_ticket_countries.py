"""The ticket form's country list: country names with calling codes, in name order."""

from __future__ import annotations

import html
import re
import unicodedata

import phonenumbers
import pytest
from django.test import Client, override_settings
from django.utils import translation

from diagnosis.support import tickets

OPTION_RE = re.compile(r'<option value="([^"]*)"( selected)?>([^<]*)</option>')


def region_options(client: Client) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of every option of the rendered country select."""
    page = client.get("/support/new/").content.decode()
    select = re.search(r'<select name="region"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, "the ticket form has no country select"
    return [(value, html.unescape(label), bool(sel)) for value, sel, label in OPTION_RE.findall(select[1])]


def folded(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


@pytest.mark.django_db
def test_the_country_list_names_countries_with_their_calling_codes(client: Client) -> None:
    options = region_options(client)
    labels = [label for _, label, _ in options]

    for country in ("United States (+1)", "United Kingdom (+44)", "China (+86)", "Germany (+49)"):
        assert country in labels
    assert ("DE", "Germany (+49)") in [(value, label) for value, label, _ in options]
    for city in ("New Jersey", "Birmingham", "Beijing"):
        assert not any(city in label for label in labels), city
    assert options[0][0] == "" and "numbers start with +" in options[0][1]
    countries = labels[1:]
    assert countries == sorted(countries, key=folded)
    # An accented first letter sorts with its plain letter, not after Z.
    assert countries.index("Åland Islands (+358)") < countries.index("Albania (+355)")


@pytest.mark.django_db
def test_the_configured_phone_region_is_preselected(client: Client) -> None:
    def selected(configured: str) -> list[tuple[str, str]]:
        with override_settings(PHONE_REGION=configured):
            return [(value, label) for value, label, chosen in region_options(client) if chosen]

    assert selected("DE") == [("DE", "Germany (+49)")]
    # Unset or not a region phonenumbers knows: no country is assumed.
    assert [value for value, _ in selected("")] == [value for value, _ in selected("ZZ")] == [""]


def test_every_supported_region_has_a_name_not_just_its_code() -> None:
    labels = dict(tickets.region_choices())

    assert set(labels) == set(phonenumbers.SUPPORTED_REGIONS)
    for region, label in labels.items():
        code = phonenumbers.country_code_for_region(region)
        assert label.endswith(f" (+{code})")
        assert label.removesuffix(f" (+{code})") != region, f"{region} has no name"
    for region, name in {
        "US": "United States",
        "GB": "United Kingdom",
        "CN": "China",
        "DE": "Germany",
        "FR": "France",
        "IN": "India",
        "BR": "Brazil",
        "JP": "Japan",
        "BL": "St. Barthélemy",  # the names of regions.csv, as the leads' pages write them
    }.items():
        assert labels[region].startswith(name + " (+")
    with translation.override("zh-hans"):
        chinese = dict(tickets.region_choices())
    assert chinese["CN"] == "中国 (+86)" and chinese["WS"] == "萨摩亚 (+685)"

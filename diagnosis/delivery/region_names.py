"""Names of the regions phone numbers belong to, in the active language ("DE" -> "Germany", "德国").

English names come from diagnosis/data/regions.csv (as browsers name regions in English,
Unicode CLDR). Other languages take the localised names `phonenumbers` ships
(`phonenumbers.geodata.locale`), so no country name has to go through the message
catalogue; a region without a name there falls back to its English name, then its code.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from django.utils.translation import get_language
from phonenumbers import geocoder

REGIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "regions.csv"
# Django's language code -> the language phonenumbers files its names under.
_LIBRARY_LANGUAGES = {
    "zh-hans": "zh",
    "zh-cn": "zh",
    "zh-hant": "zh_Hant",
    "zh-tw": "zh_Hant",
    "zh-hk": "zh_Hant",
}


@cache
def english_names() -> dict[str, str]:
    with REGIONS_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["region"]: row["name"] for row in csv.DictReader(handle)}


def _library_language(language: str) -> str:
    language = language.lower()
    return _LIBRARY_LANGUAGES.get(language, language.split("-")[0])


def region_name(code: str) -> str:
    """The region's name in the active language; its English name, or its code, when none is known."""
    region = code.upper()
    english = english_names().get(region, region)
    language = _library_language(get_language() or "en")
    if language == "en":
        return english
    # The library's table behind `country_name_for_number`, which needs no example number.
    return geocoder._region_display_name(region, language) or english

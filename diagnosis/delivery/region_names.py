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


# Names phonenumbers lacks or gets wrong (as of 9.0: typos, dated names, "*zh" for Samoa),
# by the library's language code. These win over the library's.
_CORRECTIONS = {
    "zh": {
        "AC": "阿森松岛",
        "AS": "美属萨摩亚",
        "BA": "波斯尼亚和黑塞哥维那",
        "BD": "孟加拉国",
        "BQ": "荷兰加勒比区",
        "BZ": "伯利兹",
        "CC": "科科斯（基林）群岛",
        "CI": "科特迪瓦",
        "CZ": "捷克",
        "DM": "多米尼克",
        "ER": "厄立特里亚",
        "FK": "福克兰群岛",
        "GW": "几内亚比绍",
        "HK": "中国香港",
        "KG": "吉尔吉斯斯坦",
        "MK": "北马其顿",
        "MO": "中国澳门",
        "MS": "蒙特塞拉特",
        "NC": "新喀里多尼亚",
        "PF": "法属波利尼西亚",
        "PR": "波多黎各",
        "SJ": "斯瓦尔巴和扬马延",
        "SL": "塞拉利昂",
        "TA": "特里斯坦-达库尼亚",
        "TC": "特克斯和凯科斯群岛",
        "TK": "托克劳",
        "TW": "中国台湾",
        "WS": "萨摩亚",
        "XK": "科索沃",
    },
}


@cache
def english_names() -> dict[str, str]:
    with REGIONS_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["region"]: row["name"] for row in csv.DictReader(handle)}


def library_language(language: str) -> str:
    """phonenumbers' code for a Django language ("zh-hans" -> "zh")."""
    language = language.lower()
    return _LIBRARY_LANGUAGES.get(language, language.split("-")[0])


def region_name(code: str, language: str | None = None) -> str:
    """The region's name in `language` (default: the active one); its English name, or its
    code, when none is known."""
    region = code.upper()
    english = english_names().get(region, region)
    lang = library_language(language or get_language() or "en")
    if lang == "en":
        return english
    # The library's table behind `country_name_for_number`, which needs no example number
    # (that one finds no name for regions sharing a calling code, such as Saint Barthélemy).
    named = _CORRECTIONS.get(lang, {}).get(region) or geocoder._region_display_name(region, lang)
    return named or english

"""English names of the regions phone numbers belong to ("DE" -> "Germany").

diagnosis/data/regions.csv holds one row per region `phonenumbers` knows, named as
browsers name them in English (Unicode CLDR). It was generated once rather than read
from a country package at run time, which would be one more dependency for a table of
some 250 lines; a region missing from it is shown by its code.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import phonenumbers

REGIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "regions.csv"
UNKNOWN = "Unknown"


@cache
def _names() -> dict[str, str]:
    with REGIONS_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["region"]: row["name"] for row in csv.DictReader(handle)}


def country_name(region: str) -> str:
    """The region's English name, or its code when the table has no name for it."""
    return _names().get(region.upper(), region) if region else UNKNOWN


def country_label(region: str) -> str:
    """Name, code and calling code, e.g. "Germany (DE, +49)": the code is what the reports show."""
    if not region:
        return UNKNOWN
    code = phonenumbers.country_code_for_region(region)
    name = country_name(region)
    if name == region:
        return f"{region} (+{code})" if code else region
    return f"{name} ({region}, +{code})" if code else f"{name} ({region})"

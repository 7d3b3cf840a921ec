"""Names of the regions phone numbers belong to ("DE" -> "Germany"), in the active language.

diagnosis/data/regions.csv holds one row per region `phonenumbers` knows, named as
browsers name them in English (Unicode CLDR); other languages take the names
`phonenumbers` ships (`diagnosis.delivery.region_names`). A region without a name is
shown by its code.
"""

from __future__ import annotations

import phonenumbers
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

from diagnosis.delivery.region_names import REGIONS_FILE, region_name

__all__ = ["REGIONS_FILE", "country_label", "country_label_lazy", "country_name", "region_name"]

UNKNOWN = gettext_lazy("Unknown")


def country_name(region: str) -> str:
    """The region's name in the active language, or its code when no name is known."""
    return region_name(region) if region else gettext("Unknown")


def country_label(region: str) -> str:
    """Name, code and calling code, e.g. "Germany (DE, +49)": the code is what the reports show."""
    if not region:
        return gettext("Unknown")
    code = phonenumbers.country_code_for_region(region)
    name = country_name(region)
    if name == region:
        return f"{region} (+{code})" if code else region
    return f"{name} ({region}, +{code})" if code else f"{name} ({region})"


# The label worked out when it is shown, in the language of the page: for summaries kept in the cache.
country_label_lazy = lazy(country_label, str)

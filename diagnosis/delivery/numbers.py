"""Phone numbers: any common notation in, E.164 and what is known about the number out.

A number is kept when it is *possible* (the right length for its country). Whether it is
also *known* (in the numbering plan of the `phonenumbers` data) is only reported: plans
change faster than the library's data, so a number it does not know yet may be in use.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult, carrier, number_type

_TYPE_NAMES = {value: name.lower() for name, value in vars(PhoneNumberType).items() if name.isupper()}
# The stored type names (above), as people read them.
TYPE_LABELS = {
    "fixed_line": gettext_lazy("landline"),
    "mobile": gettext_lazy("mobile"),
    "fixed_line_or_mobile": gettext_lazy("landline or mobile"),
    "toll_free": gettext_lazy("toll-free"),
    "premium_rate": gettext_lazy("premium rate"),
    "shared_cost": gettext_lazy("shared cost"),
    "voip": gettext_lazy("VoIP"),
    "personal_number": gettext_lazy("personal number"),
    "pager": gettext_lazy("pager"),
    "uan": gettext_lazy("universal access number"),
    "voicemail": gettext_lazy("voicemail"),
    "unknown": gettext_lazy("unknown type"),
}


def type_label(name: str) -> str:
    """A stored number type ("mobile") in the reader's language; an unknown name as stored."""
    label = TYPE_LABELS.get(name or "unknown")
    return str(label) if label is not None else name


class InvalidNumber(ValueError):
    """Raised with a message that can be shown next to the field."""


@dataclass(frozen=True)
class NumberInfo:
    e164: str
    region: str
    number_type: str
    carrier: str
    # False when the number has the right length but is not in the library's numbering plan.
    known: bool = True


def normalise(raw: str, default_region: str | None = None) -> NumberInfo:
    """Parse `raw` (with `default_region` for national notation) as E.164.

    Raises `InvalidNumber` only for what cannot be a number: unreadable text, an unknown
    country code, the wrong number of digits for the country, or a local number without
    its area code. A possible number (`phonenumbers.is_possible_number`) that
    the numbering plan does not list comes back with `known=False`.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidNumber(_("Enter a phone number."))
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, (default_region or "").upper() or None)
    except NumberParseException as exc:
        raise InvalidNumber(_parse_reason(exc, international=text.startswith("+"))) from None
    known = phonenumbers.is_valid_number(parsed)
    if not known:
        possible = phonenumbers.is_possible_number_with_reason(parsed)
        # "Local only" is a number dialled without its area code: no E.164 can be made of it.
        if possible == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
            raise InvalidNumber(_("This number is missing its area code."))
        if possible != ValidationResult.IS_POSSIBLE:
            raise InvalidNumber(_("This number has the wrong number of digits for its country."))
    # An unknown number has no region of its own; its country code still names the main one.
    # A parsed number always has a country code; 0, like None, names no region ("ZZ").
    region = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
        parsed.country_code or 0
    )
    return NumberInfo(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        # Countries only: not "ZZ" (unknown) nor "001" (non-geographic codes such as +800).
        region=region if len(region) == 2 and region.isalpha() and region != "ZZ" else "",
        number_type=_TYPE_NAMES.get(number_type(parsed), "unknown") if known else "unknown",
        carrier=carrier.name_for_number(parsed, "en") if known else "",
        known=known,
    )


def _parse_reason(exc: NumberParseException, *, international: bool) -> str:
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        if international:
            return _("The country code is not recognised.")
        return _("Add the country code (for example +49) or choose a country.")
    if exc.error_type == NumberParseException.NOT_A_NUMBER:
        return _("This does not look like a phone number.")
    if (
        exc.error_type == NumberParseException.TOO_SHORT_NSN
        or exc.error_type == NumberParseException.TOO_SHORT_AFTER_IDD
    ):
        return _("This number is too short.")
    return _("This number is too long.")


def looks_like_number(text: str) -> bool:
    """Cheap test for search boxes: mostly digits, with phone punctuation."""
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 6 and all(ch.isdigit() or ch in "+-() ./" for ch in text.strip())


def international(e164: str) -> str:
    """The number as people read it across borders ("+86 138 0013 8000"); unchanged if unreadable."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

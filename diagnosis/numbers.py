"""Phone numbers: any common notation in, E.164 and what is known about the number out."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, carrier, number_type

_TYPE_NAMES = {value: name.lower() for name, value in vars(PhoneNumberType).items() if name.isupper()}


class InvalidNumber(ValueError):
    """Raised with a message that can be shown next to the field."""


@dataclass(frozen=True)
class NumberInfo:
    e164: str
    region: str
    number_type: str
    carrier: str


def normalise(raw: str, default_region: str | None = None) -> NumberInfo:
    """Parse `raw` (with `default_region` for national notation) and validate it."""
    text = (raw or "").strip()
    if not text:
        raise InvalidNumber("Enter a phone number.")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, (default_region or "").upper() or None)
    except NumberParseException as exc:
        raise InvalidNumber(_parse_reason(exc, international=text.startswith("+"))) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidNumber("This number has the wrong number of digits for its country.")
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber("This is not a valid number in its country's numbering plan.")
    return NumberInfo(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(parsed) or "",
        number_type=_TYPE_NAMES.get(number_type(parsed), "unknown"),
        carrier=carrier.name_for_number(parsed, "en"),
    )


def _parse_reason(exc: NumberParseException, *, international: bool) -> str:
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        if international:
            return "The country code is not recognised."
        return "Add the country code (for example +49) or choose a country."
    if exc.error_type == NumberParseException.NOT_A_NUMBER:
        return "This does not look like a phone number."
    if (
        exc.error_type == NumberParseException.TOO_SHORT_NSN
        or exc.error_type == NumberParseException.TOO_SHORT_AFTER_IDD
    ):
        return "This number is too short."
    return "This number is too long."


def looks_like_number(text: str) -> bool:
    """Cheap test for search boxes: mostly digits, with phone punctuation."""
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 6 and all(ch.isdigit() or ch in "+-() ./" for ch in text.strip())

from __future__ import annotations

import pytest

from diagnosis.delivery.numbers import InvalidNumber, looks_like_number, normalise


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+49 151 23456789", None, "+4915123456789"),
        ("0049 151 23456789", None, "+4915123456789"),
        ("0151 23456789", "de", "+4915123456789"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("+86 138 0013 8000", None, "+8613800138000"),
    ],
)
def test_common_notations_become_e164(raw: str, region: str | None, e164: str) -> None:
    assert normalise(raw, region).e164 == e164


def test_country_and_type_are_derived() -> None:
    info = normalise("+8613800138000")
    assert (info.region, info.number_type) == ("CN", "mobile")
    assert info.carrier  # phonenumbers knows China Mobile's prefixes


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("", None, "Enter a phone number"),
        ("hello", None, "does not look like a phone number"),
        ("0151 23456789", None, "Add the country code"),
        ("+999 1234567", None, "country code is not recognised"),
        ("+49 1", None, "too short"),
        ("+49 151 234567890123456789", None, "too long"),
        ("+1 415 555 012", None, "wrong number of digits"),
        ("+44 7700 9001234", None, "wrong number of digits"),
        ("+1 555 0123", None, "missing its area code"),
    ],
)
def test_bad_numbers_say_why(raw: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidNumber, match=reason):
        normalise(raw, region)


def test_looks_like_number() -> None:
    assert looks_like_number("+49 (151) 234-567")
    assert not looks_like_number("SMS-7K3Q9M")
    assert not looks_like_number("2ea20735-f856")


@pytest.mark.parametrize(
    ("raw", "region", "e164", "country"),
    [
        ("+44 7700 900123", None, "+447700900123", "GB"),
        ("07700 900123", "GB", "+447700900123", "GB"),
        ("+1 200 555 0123", None, "+12005550123", "US"),
        ("+49 1512345", None, "+491512345", "DE"),
        ("+882 1234 5678", None, "+88212345678", ""),
    ],
)
def test_possible_numbers_the_plan_does_not_list_are_kept_and_marked_unknown(
    raw: str, region: str | None, e164: str, country: str
) -> None:
    info = normalise(raw, region)

    assert (info.e164, info.region, info.known) == (e164, country, False)
    assert (info.number_type, info.carrier) == ("unknown", "")


def test_known_numbers_say_so() -> None:
    assert normalise("+49 151 23456789").known
    # A non-geographic code has no country: the region stays empty rather than "001".
    assert normalise("+800 1234 5678").region == ""

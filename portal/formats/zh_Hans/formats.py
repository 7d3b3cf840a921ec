"""The portal's way of writing times in Simplified Chinese: 24-hour clock, year first."""

from __future__ import annotations

DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "n月j日"
SHORT_DATETIME_FORMAT = "n月j日 H:i"

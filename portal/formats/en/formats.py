"""The portal's one way of writing times in English: 24-hour clock, month names, no dots.

Every page, email and escalation package writes times through these names (a bare
`{{ moment }}`, `|date:"DATETIME_FORMAT"`, `formats.date_format`), so they all agree.
Only the console-matching panels keep the console's own `Y-m-d H:i:s`.
"""

from __future__ import annotations

DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "M j"
SHORT_DATETIME_FORMAT = "M j, H:i"

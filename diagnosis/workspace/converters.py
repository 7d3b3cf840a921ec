from __future__ import annotations

from diagnosis.models import REFERENCE_PATTERN


class ReferenceConverter:
    """Case references as customers quote them: SMS- and six unambiguous characters."""

    regex = REFERENCE_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value

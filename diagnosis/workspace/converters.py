from __future__ import annotations


class ReferenceConverter:
    """Case references as customers quote them: SMS- and six unambiguous characters."""

    regex = "SMS-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value

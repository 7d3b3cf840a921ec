"""Sentences that background work stores in English, worded in the reader's language when shown.

A worker has no reader, so what it writes for people (why an import failed, why a row was
rejected) is stored in English. Each such sentence is declared here with its msgid; the
stored English is the msgid filled in, and `shown` reads the values back out of it and
fills in the translation instead. A stored text that is a msgid of its own reads as its
translation; one that is neither is shown as stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Sentence:
    msgid: str
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = _PLACEHOLDER.split(self.msgid)
        # Literal text and placeholders alternate: each placeholder matches any text.
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        object.__setattr__(self, "pattern", re.compile(regex, re.S))

    def english(self, **values: object) -> str:
        """The sentence as stored."""
        return self.msgid % values


_SENTENCES: list[Sentence] = []


def sentence(msgid: str) -> Sentence:
    """Declare a stored sentence; pass the msgid through gettext_noop so makemessages finds it."""
    declared = Sentence(msgid)
    _SENTENCES.append(declared)
    # The most literal first: "(the file ends mid-character)" is a sentence of its own, not
    # the value of a placeholder in a more general one.
    _SENTENCES.sort(key=lambda each: each.pattern.groups)
    return declared


def shown(stored: str) -> str:
    """`stored` in the active language."""
    if not stored:
        return stored
    # A msgid of its own ("the message id is empty") may also fit a general sentence ("the
    # %(field)s is empty"); its own translation is the better one.
    translated = gettext(stored)
    if translated != stored:
        return translated
    for declared in _SENTENCES:
        found = declared.pattern.fullmatch(stored)
        if found:
            return gettext(declared.msgid) % found.groupdict()
    return stored

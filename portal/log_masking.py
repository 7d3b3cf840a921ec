"""Secrets and personal data are masked in every log record, whatever handler prints it.

What is masked:

- the token in secret paths (`/hooks/sms-status/<token>/`, `/support/t/<token>/`): it is
  the only key to a callback address or a customer's ticket;
- phone numbers in E.164 form: the country code and the last 3 digits stay, enough to
  tell numbers apart while reading a log (`+49*********789`);
- email addresses: the first letter stays (`r***@***`).

How: `install()` sets a log record factory (`logging.setLogRecordFactory`), so a record
is masked when it is created, before any handler sees it. Filters on handlers would
have to be added to every handler of every process: Celery's worker and beat replace
the root logger's handlers with their own (`worker_hijack_root_logger`), gunicorn keeps
its own access and error handlers, pytest adds capture handlers, and a handler added
later would print unmasked text. A factory covers all of them.

The factory formats the message with its arguments at once (as a handler would) and
renders an exception's traceback into `exc_text`, masking both; `exc_info` is then
dropped, so no handler can print the raw exception, whose text may quote values (a
database error repeats the row it refused). Fields given as `extra` (Django adds the
request, the SQL and its parameters) are masked as they are set on the record.

`portal/__init__.py` calls `install()`, so every process that loads the portal (web
server, manage.py, Celery worker and beat, the test suite) masks its logs from the start.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import phonenumbers

TOKEN_MASK = "[token]"
# Paths whose last segment is a secret; bench's own tracking probe is included.
TOKEN_PATH = re.compile(r"(/(?:hooks/sms-status|support/t|bench/tracking)/)([^/\s?#'\"<>]+)")
# A `+` and 7 to 15 digits, each optionally followed by one space, dash, dot or bracket
# ("+49 151 2345-6789" too). Too short to catch time-zone offsets ("+01:00", "+0100").
# Only an ASCII digit next to it makes it part of a longer run: a digit of another script
# ("𝟎", "٣") does not, and must not keep a number from being masked.
PHONE = re.compile(r"(?<![0-9+])\+(?:\d[ \-.()]?){6,14}\d(?![0-9])")
# Unicode letters count (an address may be "zoë@example.com"); the domain needs a dot, so
# worker names such as "celery@host" stay readable.
EMAIL = re.compile(r"(?<![\w.%+-])([\w%+-])[\w.%+-]*@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")
# What a record has before any `extra` is applied: these are not masked on assignment.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
}


def _country_code(digits: str) -> str:
    """The leading 1 to 3 digits that are a calling code (country codes are prefix-free)."""
    for length in (1, 2, 3):
        if int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[:length]
    return ""


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    country = _country_code(digits)
    return f"+{country}{'*' * (len(digits) - len(country) - 3)}{digits[-3:]}"


def _mask_email(match: re.Match[str]) -> str:
    return f"{match.group(1)}***@***"


def mask(text: str) -> str:
    """`text` with secret path segments, phone numbers and email addresses masked."""
    if not text:
        return text
    text = TOKEN_PATH.sub(lambda m: m.group(1) + TOKEN_MASK, text)
    if "+" in text:
        text = PHONE.sub(_mask_phone, text)
    if "@" in text:
        text = EMAIL.sub(_mask_email, text)
    return text


class _MaskedObject:
    """Stands in for an `extra` object whose text would leak (Django's request, say): prints
    masked, and hands every attribute through to the object, for handlers that use it."""

    def __init__(self, wrapped: object, text: str) -> None:
        object.__setattr__(self, "_wrapped", wrapped)
        object.__setattr__(self, "_text", text)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_wrapped"), name)

    def __str__(self) -> str:
        return str(object.__getattribute__(self, "_text"))

    __repr__ = __str__


def mask_value(value: Any) -> Any:
    """A masked copy of an `extra` value: strings and their containers masked, other objects
    wrapped only when their text would show something to mask."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list | tuple):
        return type(value)(mask_value(item) for item in value)
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    try:
        text = str(value)
    except Exception:  # a broken __str__ must not break logging
        return value
    masked = mask(text)
    return value if masked == text else _MaskedObject(value, masked)


class _MaskedAttributes(dict[str, Any]):
    """A record's `__dict__` that masks what `Logger.makeRecord` sets from `extra`.

    makeRecord assigns each extra as `record.__dict__[key] = value`, after the factory has
    returned; this is the one place such values pass through.
    """

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value if key in _STANDARD_ATTRIBUTES else mask_value(value))


def _exception_text(exc_info: Any) -> str:
    return logging.Formatter().formatException(exc_info)


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # bad arguments: keep what there is, masked, instead of losing the record
        message = f"{record.msg} {record.args!r}"
    record.msg, record.args = mask(message), ()
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = _exception_text(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    record.__dict__ = _MaskedAttributes(record.__dict__)
    return record


def install() -> None:
    """Mask every log record this process creates from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "masks_records", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _mask_record(current(*args, **kwargs))

    factory.masks_records = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def masking_factory_installed() -> bool:
    return bool(getattr(logging.getLogRecordFactory(), "masks_records", False))

"""Tokens, phone numbers and email addresses never reach a log line, whatever prints it."""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st
from pytest_django import Settings

from diagnosis.cases import outbox
from diagnosis.models import Case, Recipient, StatusSource
from portal.log_masking import EMAIL, PHONE, TOKEN_MASK, mask, masking_factory_installed
from tests import log_audit
from tests.diagnosis.conftest import ticket

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cr3t-Token_value-0123456789abcdefghijklmnopq"
FORM = "application/x-www-form-urlencoded"


# --- The masker --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"Not Found: /support/t/{TOKEN}/", f"Not Found: /support/t/{TOKEN_MASK}/"),
        (f"Bad Request: /hooks/sms-status/{TOKEN}/", f"Bad Request: /hooks/sms-status/{TOKEN_MASK}/"),
        (
            f"GET https://x.example/support/t/{TOKEN}/message/?sent=1",
            f"GET https://x.example/support/t/{TOKEN_MASK}/message/?sent=1",
        ),
        ("to +4915123456789.", "to +49********789."),
        ("call +49 151 2345-6780 now", "call +49********780 now"),
        (
            'Key (e164)=(+14155550123) already exists; "to": "+8613800000000"',
            'Key (e164)=(+1*******123) already exists; "to": "+86********000"',
        ),
        ("Email 7 to rosa.lima@example.com failed", "Email 7 to r***@*** failed"),
        ("<zoë@beispiel.de>", "<z***@***>"),
    ],
)
def test_the_masker_hides_tokens_numbers_and_addresses(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-30 04:05:14,123 INFO 2026-11-20T10:30:00+01:00 took +0100 and +00:00",
        "case 1234567890 report 98765432101234 msg_id=abc+def id=+12",
        "celery@wt-logs ready; support@localhost",
        "/support/find/ /support/new/ /hooks/",
    ],
)
def test_the_masker_leaves_timestamps_ids_and_other_paths_alone(text: str) -> None:
    assert mask(text) == text


E164 = st.builds(
    lambda code, rest: f"+{code}{rest}",
    st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
    st.text("0123456789", min_size=6, max_size=12),
).filter(lambda number: 8 <= len(number) <= 16)
# Text around a number: anything, as long as it does not run on into the number's digits.
AROUND = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


@given(before=AROUND, number=E164, after=AROUND)
@example(before="𝟎", number="+1000000", after="")  # a digit of another script is no part of it
def test_any_e164_number_in_any_message_keeps_only_its_country_code_and_last_3_digits(
    before: str, number: str, after: str
) -> None:
    if before.endswith(("+", *"0123456789")) or after[:1].isdigit():
        return
    masked = mask(before + number + after)
    assert number not in masked
    assert not PHONE.search(masked)
    if re.match(r"[ \-.()]\d", after):
        return  # it reads on into what follows ("+1000000.0"), which is masked with it

    digits = number[1:]
    code = next(digits[:n] for n in (1, 2, 3) if int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    expected = "+" + code + "*" * (len(digits) - len(code) - 3) + digits[-3:]
    assert expected in masked


@given(
    local=st.from_regex(r"[a-z][a-z0-9._+-]{0,20}", fullmatch=True),
    domain=st.from_regex(r"[a-z0-9-]{1,15}\.(de|com|co\.uk)", fullmatch=True),
)
def test_any_email_address_keeps_only_its_first_letter(local: str, domain: str) -> None:
    masked = mask(f"Email to {local}@{domain} failed")

    assert masked == f"Email to {local[0]}***@*** failed"
    assert not EMAIL.search(masked)


# --- Every record, whatever the handler ----------------------------------------------------


class EveryField(logging.Formatter):
    """Prints every attribute of the record too, as a JSON log formatter would."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{super().format(record)} {vars(record)!r}"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A plain handler of its own on the root logger, added after start-up, with every field."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(EveryField("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def test_the_masking_factory_is_installed_in_the_test_process() -> None:
    assert masking_factory_installed()


def test_arguments_extras_exceptions_and_stacks_are_masked(stream: io.StringIO) -> None:
    logger = logging.getLogger("tests.masking")
    extra = {
        "request_path": f"/support/t/{TOKEN}/",
        "params": ("+4915123456789", 3),
        "who": {"to": "rosa@example.com"},
    }
    try:
        raise ValueError(
            "DETAIL: Key (to)=(+4915123456789) "
            f'{{"email": "rosa@example.com", "path": "/hooks/sms-status/{TOKEN}/"}}'
        )
    except ValueError:
        logger.exception(
            "Could not store %s for %s", "+4915123456789", "rosa@example.com", extra=extra, stack_info=True
        )

    output = stream.getvalue()
    assert "Could not store +49********789 for r***@***" in output
    assert "ValueError: DETAIL: Key (to)=(+49********789)" in output and "Traceback" in output
    assert f"/support/t/{TOKEN_MASK}/" in output and f"/hooks/sms-status/{TOKEN_MASK}/" in output
    assert TOKEN not in output and "4915123456789" not in output and "rosa@example.com" not in output


@pytest.mark.django_db
def test_a_database_error_is_logged_without_the_number_it_quotes(stream: io.StringIO) -> None:
    case = Case.objects.create(
        reporter_name="R", reporter_email="r@example.com", current_node="report_returned"
    )
    Recipient.objects.create(case=case, e164="+4915123456789")
    try:
        with transaction.atomic():
            Recipient.objects.create(case=case, e164="+4915123456789")
    except IntegrityError:
        logging.getLogger("tests.masking").exception("Could not add the number")

    output = stream.getvalue()
    assert "IntegrityError" in output and "+49********789" in output
    assert "4915123456789" not in output


# --- Through the portal's own code paths --------------------------------------------------


@pytest.mark.django_db
def test_a_callback_with_a_bad_body_logs_its_address_masked(
    client: Client, caplog: pytest.LogCaptureFixture, stream: io.StringIO
) -> None:
    source = StatusSource.objects.create(name="huawei-eu")

    response = client.post(source.callback_path(), data="to=+4915123456789&status=", content_type=FORM)

    assert response.status_code == 400
    logged = caplog.text + stream.getvalue()
    assert f"/hooks/sms-status/{TOKEN_MASK}/" in logged
    assert source.token not in logged and "4915123456789" not in logged


@pytest.mark.django_db
def test_a_tracking_page_that_is_not_found_logs_its_address_masked(
    client: Client, caplog: pytest.LogCaptureFixture, stream: io.StringIO
) -> None:
    assert client.get(f"/support/t/{TOKEN}/").status_code == 404

    logged = caplog.text + stream.getvalue()
    assert f"Not Found: /support/t/{TOKEN_MASK}/" in logged
    assert TOKEN not in logged


@pytest.mark.django_db
def test_a_failed_email_logs_the_recipient_masked(
    client: Client, settings: Settings, caplog: pytest.LogCaptureFixture, stream: io.StringIO
) -> None:
    client.post("/support/new/", ticket(email="rosa.lima@example.com"))
    email = Case.objects.get().emails.get()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2

    assert outbox.deliver(email.pk) is False

    logged = caplog.text + stream.getvalue()
    assert f"Email {email.pk} to r***@*** failed" in logged
    assert "rosa.lima@example.com" not in logged and not mail.outbox


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Other processes: Celery's hijacked root logger, gunicorn's access log -----------------


def _child_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
        "ALLOWED_HOSTS": "127.0.0.1",
    }


def test_celery_worker_and_beat_logging_is_masked() -> None:
    """Celery replaces the root logger's handlers with its own (worker_hijack_root_logger)."""
    script = (
        "import logging, django; django.setup()\n"
        "from portal.celery import app\n"
        "app.conf.worker_hijack_root_logger = True  # as in production (the tests switch it off)\n"
        "app.log.setup(loglevel='INFO', colorize=False, redirect_stdouts=True)\n"
        "logging.getLogger('celery.worker').warning(\n"
        f"    'report to +4915123456789 at /hooks/sms-status/{TOKEN}/')\n"
        "print('Email to rosa@example.com from a task print')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=_child_env(), capture_output=True, text=True, timeout=60
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"report to +49********789 at /hooks/sms-status/{TOKEN_MASK}/" in output
    assert "Email to r***@*** from a task print" in output
    assert TOKEN not in output and "4915123456789" not in output and "rosa@example.com" not in output


def test_gunicorn_access_and_error_logs_are_masked(tmp_path: Path) -> None:
    port = _closed_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--access-logfile",
                "-",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=_child_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            status = _get_when_up(f"http://127.0.0.1:{port}/hooks/sms-status/{TOKEN}/")
        finally:
            server.terminate()
            server.wait(timeout=20)

    output = log.read_text()
    assert status == 405  # the callback takes POST only; no database needed
    assert f'"GET /hooks/sms-status/{TOKEN_MASK}/ HTTP/1.1" 405' in output  # gunicorn's access log
    assert f"Method Not Allowed (GET): /hooks/sms-status/{TOKEN_MASK}/" in output  # Django's request log
    assert TOKEN not in output


def _get_when_up(url: str) -> int:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# --- The audit of a whole suite's log --------------------------------------------------------


def test_the_log_audit_finds_leaks_and_ignores_masked_text(tmp_path: Path) -> None:
    log = tmp_path / "suite.log"
    log.write_text(
        "2026-11-30 04:05:14,123 INFO django.request Not Found: /support/t/[token]/\n"
        "2026-11-30 04:05:14,124 WARNING diagnosis Email 3 to r***@*** failed; +49********789\n"
        "2026-11-30 04:05:15,000 INFO x took +0100 at 2026-11-20T10:30:00+01:00 id 123456789012\n"
        f"2026-11-30 04:05:16,000 WARNING django.request Bad Request: /hooks/sms-status/{TOKEN}/\n"
        "2026-11-30 04:05:17,000 INFO x to +49 151 23456789\n"
        "2026-11-30 04:05:18,000 INFO x mail rosa@example.com\n"
    )

    leaks = log_audit.audit(log)

    assert [(leak.line, leak.kind) for leak in leaks] == [
        (4, "token path"),
        (5, "phone number"),
        (6, "email address"),
    ]
    assert log_audit.main([str(log)]) == 1
    clean = tmp_path / "clean.log"
    clean.write_text("2026-11-30 04:05:14,123 INFO django.request Not Found: /support/t/[token]/\n")
    assert log_audit.main([str(clean)]) == 0

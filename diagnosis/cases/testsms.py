"""Sending a test SMS from a case, so the agent can watch its status report arrive.

The message goes out through the configured Huawei Cloud SMS application with a
`statusCallback` pointing back at this portal (a dedicated status source). Its
`smsMsgId` is kept as one of the case's test messages, apart from the customer's
message ids: its report shows on the case's test panel and never drives a proposal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext

from diagnosis.cases import history, services
from diagnosis.huawei import sms_api
from diagnosis.models import Case, EventKind, Recipient, StatusSource, TestMessage, digest_matches

TEST_SOURCE_NAME = "portal-test-sms"


class TestSmsError(services.CaseError):
    """Why the test SMS could not be sent; shown to the agent."""


def _test_source_token() -> str:
    """The test source's token, derived from SECRET_KEY rather than stored: the database keeps
    only its hash, yet every test SMS needs the raw token in its statusCallback."""
    key = hmac.new(settings.SECRET_KEY.encode(), b"portal-test-sms status source", hashlib.sha256)
    return base64.urlsafe_b64encode(key.digest()).rstrip(b"=").decode()


def callback_url() -> str:
    token = _test_source_token()
    source, _ = StatusSource.objects.get_or_create(name=TEST_SOURCE_NAME, defaults={"token": token})
    if not source.is_active:
        raise TestSmsError(
            gettext("The status source %(name)s is revoked; test reports could not come back.")
            % {"name": repr(TEST_SOURCE_NAME)}
        )
    if not digest_matches(token, source.token_hash):
        # SECRET_KEY changed (or the source predates this scheme): re-key it. Reports for test
        # messages sent before now are refused; the agent can send another test.
        source.token = token
        source.save(update_fields=["token_hash"])
    source.token = token
    return settings.PORTAL_BASE_URL + source.callback_path()


def send_test_sms(case_id: int, *, recipient_id: int, actor: User) -> str:
    """Send one test SMS to a number of the case; returns the new message id."""
    if not settings.SMS_TEST_TEMPLATE_ID or not settings.SMS_SENDER:
        raise TestSmsError(
            gettext("Test messages need SMS_SENDER and SMS_TEST_TEMPLATE_ID to be configured.")
        )
    case = Case.objects.get(pk=case_id)
    recipient = Recipient.objects.filter(case=case, pk=recipient_id).first()
    if recipient is None:
        raise TestSmsError(gettext("Choose one of the case's numbers."))
    try:
        client = sms_api.client_from_settings()
        response = client.send(
            sender=settings.SMS_SENDER,
            to=[recipient.e164],
            template_id=settings.SMS_TEST_TEMPLATE_ID,
            template_paras=list(settings.SMS_TEST_TEMPLATE_PARAS) or None,
            status_callback=callback_url(),
            extend=case.reference,
        )
    except sms_api.SmsNotConfigured:
        raise TestSmsError(
            gettext("The SMS application is not configured (SMS_API_URL, SMS_APP_KEY, SMS_APP_SECRET).")
        ) from None
    except sms_api.SmsApiError as exc:
        raise TestSmsError(
            gettext("The SMS platform refused the test message: %(code)s %(description)s")
            % {"code": exc.code, "description": exc.description}
        ) from None
    except ValueError as exc:
        raise TestSmsError(str(exc)) from None
    accepted = [r for r in response.results if r.status == "000000"]
    if not accepted:
        status = response.results[0].status if response.results else response.code
        raise TestSmsError(
            gettext("The SMS platform did not accept the test message (status %(status)s).")
            % {"status": status}
        )
    msg_id = accepted[0].sms_msg_id
    with transaction.atomic():
        TestMessage.objects.get_or_create(
            case=case, msg_id=msg_id, defaults={"recipient": recipient, "sent_by": actor}
        )
        services.add_note(
            case.pk,
            text=history.TEST_SMS_SENT.english(number=recipient.e164, msg_id=msg_id),
            actor=actor,
            kind=EventKind.TEST_SMS,
        )
    return msg_id

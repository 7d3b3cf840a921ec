"""Cases, their answers and history, status reports, escalations, the status-code catalogue.

Rules that must always hold are database constraints, not just code: unique
references and reports, one live answer per check, one open escalation per case
and reason, states from a fixed set.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from diagnosis.guide import CURRENT_VERSION, Guide, Node, get_guide
from portal import languages

# Crockford-style alphabet: no 0/O, 1/I/L or U, so a reference read over the phone is unambiguous.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6
REFERENCE_PREFIX = "SMS-"
# A whole reference as a regular expression (URLs, searches, tests).
REFERENCE_PATTERN = f"{REFERENCE_PREFIX}[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}"


def wait_deadline_after(start: datetime) -> datetime:
    """When a wait for a report on a message sent at `start` ends: 72 hours plus a grace for EXPIRED.

    The one place the wait's length is read from settings; `Case.wait_deadline_for` decides
    the start, and bulk loaders that write rows without models call this directly.
    """
    limit = timedelta(hours=settings.DIAGNOSIS_WAIT_HOURS, minutes=settings.DIAGNOSIS_WAIT_GRACE_MINUTES)
    return start + limit


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def new_tracking_token() -> str:
    """A fresh 256-bit URL token (tracking links and callback addresses)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a URL token: its SHA-256, in hex.

    The tokens are 256-bit random values, so the hash cannot be reversed or the token
    guessed by trying: a slow password hash (PBKDF2, Argon2) only helps secrets people
    choose, and would cost every callback and tracking page a deliberate delay for nothing.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def digest_matches(token: str, stored: str) -> bool:
    """Whether `token` hashes to `stored`, compared in constant time."""
    return hmac.compare_digest(token_digest(token), stored)


class CaseState(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for report")
    ESCALATED = "escalated", _("Escalated")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATES = (CaseState.NEW, CaseState.IN_PROGRESS, CaseState.WAITING, CaseState.ESCALATED)
OPEN_STATE_VALUES = [state.value for state in OPEN_STATES]

# The queue's deadline order puts cases without a deadline last by reading theirs as this
# far-off time: one plain sort key, the same on every database, that an index can hold.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


def deadline_order() -> models.Func:
    return Coalesce("wait_deadline", models.Value(NO_DEADLINE, output_field=models.DateTimeField()))


class Case(models.Model):
    """One report of a missing SMS, worked through the guide version it started with."""

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    reporter_name = models.CharField(max_length=120)
    reporter_email = models.EmailField()
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the SMS was sent (approximately).")
    )
    sender = models.CharField(
        max_length=64, blank=True, help_text=_("Sender id, signature or channel number.")
    )
    template_id = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    # Phone-side checks the customer already did on the ticket form ({node id: answer value}).
    customer_answers = models.JSONField(default=dict, blank=True)
    # Stored under MEDIA_ROOT, outside the web root; served only to staff by a view.
    screenshot = models.FileField(upload_to="screenshots/%Y/%m/", blank=True)
    # The customer's language (a code from settings.LANGUAGES): every email and tracking page
    # of the case uses it. No choices, so adding a language needs no migration.
    # db_default too: bulk loaders (COPY) that name their columns need no value for it.
    language = models.CharField(max_length=16, default="en", db_default="en")

    state = models.CharField(max_length=16, choices=CaseState, default=CaseState.NEW)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
    )
    guide_version = models.CharField(max_length=16, default=CURRENT_VERSION, editable=False)
    current_node = models.CharField(max_length=64, editable=False)
    outcome = models.CharField(max_length=64, blank=True, editable=False, help_text=_("Outcome node id"))
    cause = models.CharField(max_length=64, blank=True, editable=False)
    # Bumped by every transition; forms carry it so a stale page cannot overwrite newer work.
    revision = models.PositiveIntegerField(default=0, editable=False)

    # The 72-hour wait, as stored deadlines read by the waiting sweep (diagnosis.tasks).
    waiting_since = models.DateTimeField(null=True, blank=True, editable=False)
    wait_deadline = models.DateTimeField(null=True, blank=True, editable=False)
    next_poll_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set while the case is closed (services._set_state); tracking links and the retention
    # rule count from it (support.tickets.tracking_link_open, cases.retention).
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the customer's personal data was replaced by placeholders (cases.erasure); set once.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the customer last wrote, while the assignee has not opened the case since (null once
    # seen): the queue's "Customer replied" marker and the navigation's count (cases.unseen_replies).
    unseen_message_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=CaseState.values), name="diagnosis_case_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.WAITING) | Q(wait_deadline__isnull=False),
                name="diagnosis_case_waiting_has_deadline",
            ),
        ]
        indexes = [
            # The queue: by state, oldest first; and "mine".
            models.Index(fields=["state", "created_at"], name="diagnosis_case_state_age"),
            models.Index(fields=["assigned_to", "state"], name="diagnosis_case_assignee_state"),
            # The default queue tab: open cases nobody has claimed, in (created_at, id) order,
            # the queue's keyset; also what its count reads.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(assigned_to__isnull=True, state__in=OPEN_STATE_VALUES),
                name="diagnosis_case_unassigned_key",
            ),
            # "Mine": an agent's open cases, in the same order.
            models.Index(
                fields=["assigned_to", "created_at", "id"],
                condition=Q(state__in=OPEN_STATE_VALUES),
                name="diagnosis_case_mine_key",
            ),
            # The queue sorted by deadline (cases without one last), in any tab.
            models.Index(deadline_order(), F("created_at"), F("id"), name="diagnosis_case_deadline_key"),
            # Trends and exports select cases opened or settled in a period.
            models.Index(fields=["created_at"], name="diagnosis_case_created"),
            # The lead dashboard: open cases by state and holder, and how many are untouched,
            # counted by an index-only scan of open work alone; the untouched list, oldest first.
            models.Index(
                fields=["state", "assigned_to", "updated_at"],
                condition=Q(state__in=OPEN_STATE_VALUES),
                name="diagnosis_case_open_holder",
            ),
            models.Index(
                fields=["updated_at"],
                condition=Q(state__in=[CaseState.NEW, CaseState.IN_PROGRESS]),
                name="diagnosis_case_untouched",
            ),
            models.Index(
                fields=["resolved_at"], condition=Q(resolved_at__isnull=False), name="diagnosis_case_resolved"
            ),
            # The waiting sweep reads only waiting cases, soonest deadline first.
            models.Index(
                fields=["wait_deadline"], condition=Q(state=CaseState.WAITING), name="diagnosis_case_wait_due"
            ),
            models.Index(
                fields=["next_poll_at"], condition=Q(state=CaseState.WAITING), name="diagnosis_case_poll_due"
            ),
            # The retention rule reads closed cases not yet erased, longest closed first.
            models.Index(
                fields=["closed_at"],
                condition=Q(state=CaseState.CLOSED, erased_at__isnull=True),
                name="diagnosis_case_erase_due",
            ),
            # The navigation's count of an agent's cases with a customer message not seen yet.
            models.Index(
                fields=["assigned_to"],
                condition=Q(unseen_message_at__isnull=False),
                name="diagnosis_case_unseen_message",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def guide(self) -> Guide:
        return get_guide(self.guide_version)

    @property
    def reader_language(self) -> str:
        """What the customer reads in: `language`, or the default for one no longer offered."""
        return languages.supported(self.language) or settings.LANGUAGE_CODE

    @property
    def node(self) -> Node:
        return self.guide[self.current_node]

    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def awaits_details(self) -> bool:
        """At an escalation outcome that asks the agent for details, not yet reached (or sent)."""
        node = self.node
        return bool(node.details) and self.outcome != node.id and self.state != CaseState.CLOSED

    def is_waiting(self) -> bool:
        return self.state == CaseState.WAITING

    def wait_deadline_for(self, now: datetime) -> datetime:
        """The wait limit after sending; from now when the send time is unknown (or in the future)."""
        start = self.sent_at if self.sent_at and self.sent_at <= now else now
        return wait_deadline_after(start)


class TrackingLink(models.Model):
    """One private link to a case that was sent to its customer; only the token's hash is kept.

    A case gets a new link each time one is sent (on filing, and whenever someone asks for
    the links of an email address). Earlier links keep working: anyone may ask for links for
    any address, so a request must never break a link the customer already has.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tracking_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"link to {self.case_id} made {self.created_at:%Y-%m-%d %H:%M}"

    @classmethod
    def issue(cls, case: Case) -> str:
        """Make a new link for `case` and return its raw token, which exists only in the caller's hands."""
        token = new_tracking_token()
        cls.objects.create(case=case, token_hash=token_digest(token))
        return token

    @classmethod
    def find_case(cls, token: str) -> Case | None:
        """The case a link's token opens, looked up by hash; None for any other string."""
        link = cls.objects.select_related("case").filter(token_hash=token_digest(token)).first()
        return link.case if link is not None and digest_matches(token, link.token_hash) else None


class Recipient(models.Model):
    """A phone number the case is about, normalised to E.164 with what phonenumbers knows of it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="recipients")
    e164 = models.CharField(max_length=16)
    region = models.CharField(max_length=2, blank=True, help_text=_("ISO country code"))
    number_type = models.CharField(max_length=24, blank=True)
    carrier = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "e164"], name="diagnosis_recipient_unique")]
        indexes = [models.Index(fields=["e164"], name="diagnosis_recipient_e164")]

    def __str__(self) -> str:
        return self.e164


class Message(models.Model):
    """A sent SMS the case is about, by the platform's `smsMsgId`."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    msg_id = models.CharField(max_length=64)
    recipient = models.ForeignKey(Recipient, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "msg_id"], name="diagnosis_message_unique")]
        # Pattern ops: the same index answers report matching (=) and the queue's search
        # by the start of a message id (LIKE 'x%') under any collation.
        indexes = [
            models.Index(
                fields=["msg_id"], opclasses=["varchar_pattern_ops"], name="diagnosis_message_msg_prefix"
            )
        ]

    def __str__(self) -> str:
        return self.msg_id


class TestMessage(models.Model):
    """A test SMS an agent sent from the case. Kept apart from `Message`: its report is the
    agent's own check, never evidence about the customer's message."""

    __test__ = False  # not a test case, whatever its name says to pytest

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="test_messages")
    msg_id = models.CharField(max_length=64)
    recipient = models.ForeignKey(
        Recipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "msg_id"], name="diagnosis_test_message_unique")
        ]
        indexes = [models.Index(fields=["msg_id"], name="diagnosis_test_message_msg_id")]

    def __str__(self) -> str:
        return self.msg_id


class AnswerRecord(models.Model):
    """An answer to one step. Revising supersedes it; rows are never deleted."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="answers")
    node = models.CharField(max_length=64)
    value = models.CharField(max_length=32)
    evidence = models.CharField(
        max_length=64, blank=True, help_text=_("Status code, where the step asks for one")
    )
    notes = models.TextField(blank=True)
    # Null for the system (a wait ended by a report or the deadline).
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    answered_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["answered_at", "pk"]
        constraints = [
            # Two agents answering the same step at once cannot both win.
            models.UniqueConstraint(
                fields=["case", "node"],
                condition=Q(superseded_at__isnull=True),
                name="diagnosis_answer_one_live",
            ),
        ]
        indexes = [models.Index(fields=["case", "answered_at"], name="diagnosis_answer_case_time")]

    def __str__(self) -> str:
        return f"{self.node} = {self.value}"


class ReportChannel(models.TextChoices):
    CALLBACK = "callback", _("Status-report callback")
    IMPORT = "import", _("Send Details import")
    MANUAL = "manual", _("Entered by an agent")


class ReportOrigin(models.TextChoices):
    """The report's own `source` field: who produced it. Other values are stored as sent."""

    PLATFORM = "1", _("SMS platform")
    CARRIER = "2", _("SMS center (carrier)")
    HUAWEI = "3", _("Huawei platform")


@functools.lru_cache(maxsize=1024)
def _second_stamp(moment: datetime) -> str:
    """A report time to the second, in UTC. Cached: a batch's reports often share their update time."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


class StatusReport(models.Model):
    """One delivery status report, as received, kept as evidence."""

    msg_id = models.CharField(max_length=64)
    status = models.CharField(max_length=32)
    status_desc = models.CharField(max_length=500, blank=True)
    # 0 when the value sent was not a whole number; see `parts_inconsistent`.
    total = models.PositiveSmallIntegerField(default=1)
    sequence = models.PositiveSmallIntegerField(default=1)
    # Part numbers that do not add up (sequence 0, past total, unreadable): kept as evidence all the same.
    # A database default too: bulk loaders (COPY) that predate the flag leave it out.
    parts_inconsistent = models.BooleanField(default=False, db_default=False)
    # The platform's `source`, as sent: values beyond the documented ones are kept, not refused.
    origin = models.CharField(max_length=16, choices=ReportOrigin, blank=True)
    # Absent when the platform built the report itself (e.g. EXPIRED after 72 hours).
    updated_at = models.DateTimeField(null=True, blank=True)
    extend = models.CharField(max_length=128, blank=True)
    to_number = models.CharField(max_length=24, blank=True, help_text=_("E.164 when the report carried `to`"))
    org_code = models.CharField(max_length=32, blank=True)
    channel = models.CharField(max_length=16, choices=ReportChannel)
    raw = models.JSONField(default=dict, help_text=_("The payload as received, extra fields included"))
    received_at = models.DateTimeField(default=timezone.now)
    # message id + part + status + update time: a redelivered report maps to the same key.
    dedupe_key = models.CharField(max_length=160, unique=True, editable=False)
    # When waiting cases were matched against this report; empty until then. Callbacks store
    # reports empty, and beat's frequent matcher fills it (cases.matching.match_unmatched).
    matched_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["msg_id", "received_at"], name="diagnosis_report_msg"),
            models.Index(fields=["to_number"], name="diagnosis_report_to", condition=~Q(to_number="")),
            # Only the few reports still to match: the catch-up reads them oldest first.
            models.Index(
                fields=["received_at"],
                name="diagnosis_report_unmatched",
                condition=Q(matched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.msg_id}: {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.dedupe_key:
            self.dedupe_key = self.make_dedupe_key(self.msg_id, self.sequence, self.status, self.updated_at)
        super().save(*args, **kwargs)

    @staticmethod
    def make_dedupe_key(
        msg_id: str, sequence: int, status: str, updated_at: datetime | None, *, unread_time: str = ""
    ) -> str:
        """The same for every delivery of one report, however its update time was written.

        The time counts to the second, so `08:00:05.123Z` and `08:00:05Z` are one report.
        A time that could not be read counts by a digest of its text: delivered again, it
        gives the same key, yet it is never taken for a report that came without a time.
        """
        if updated_at:
            stamp = _second_stamp(updated_at)
        elif unread_time:
            stamp = "?" + hashlib.sha256(unread_time.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        else:
            stamp = "-"
        return f"{msg_id}|{sequence}|{status}|{stamp}"

    def origin_label(self) -> str:
        """The report's origin in words; a `source` value the portal does not know shows as sent."""
        if not self.origin or self.origin in ReportOrigin.values:
            return self.get_origin_display()
        return gettext("unknown origin (%(origin)s)") % {"origin": self.origin}

    def parts_label(self) -> str:
        """The part this report is for, when that is worth showing ("" for a one-part SMS)."""
        if self.parts_inconsistent:
            return gettext("part %(sequence)s of %(total)s as sent: the numbers do not add up") % {
                "sequence": self.sequence or "?",
                "total": self.total or "?",
            }
        if self.total > 1:
            return gettext("part %(sequence)s/%(total)s") % {"sequence": self.sequence, "total": self.total}
        return ""

    def unread_update_time(self) -> str:
        """The update time as sent, when it was there but could not be read."""
        if self.updated_at is not None or not isinstance(self.raw, dict):
            return ""
        value = self.raw.get("updateTime")
        return "" if value in (None, "") else str(value)


def new_source_token() -> str:
    return secrets.token_urlsafe(24)


class StatusSource(models.Model):
    """A configured sender of status reports: its secret URL token and optional push AK/SK.

    Only the token's hash is stored. The token itself is known while the source object that
    made it is alive (`token`), so its callback address is shown once, at creation.
    """

    name = models.CharField(max_length=80, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    push_access_key = models.CharField(max_length=128, blank=True, help_text=_("Push AK, when signing is on"))
    push_secret_key = models.CharField(max_length=128, blank=True, help_text=_("Push SK, when signing is on"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_report_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(push_access_key="", push_secret_key="")
                | (~Q(push_access_key="") & ~Q(push_secret_key="")),
                name="diagnosis_source_ak_sk_pair",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.token_hash:
            self.token = new_tracking_token()
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def signs_pushes(self) -> bool:
        return bool(self.push_access_key and self.push_secret_key)

    @property
    def token(self) -> str:
        """The raw token, only on the object that was given or made it (never read from the database)."""
        raw: str | None = self.__dict__.get("_raw_token")
        if raw is None:
            raise TokenUnavailable(f"The callback token of {self.name!r} is only known when it is created.")
        return raw

    @token.setter
    def token(self, raw: str) -> None:
        self.__dict__["_raw_token"] = raw
        self.token_hash = token_digest(raw)

    @classmethod
    def active_for_token(cls, token: str) -> StatusSource | None:
        """The active source whose token this is, looked up by hash."""
        source = cls.objects.filter(token_hash=token_digest(token), revoked_at__isnull=True).first()
        return source if source is not None and digest_matches(token, source.token_hash) else None

    def callback_path(self) -> str:
        return f"/hooks/sms-status/{self.token}/"


class TokenUnavailable(Exception):
    """The raw token was asked for where only its hash is known."""


class RejectedPayload(models.Model):
    """A callback body we could not accept, kept for inspection (never for a wrong token)."""

    source = models.ForeignKey(StatusSource, null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=500)
    content_type = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.reason}"


class StatusCode(models.Model):
    """The catalogue: what a status code means and which branch of the guide it leads to."""

    class Match(models.TextChoices):
        EXACT = "exact", _("Exact code")
        PREFIX = "prefix", _("Code family (prefix)")

    class Branch(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        PENDING = "pending", _("Not final yet")
        TIMEOUT = "timeout", _("Timed out")
        NUMBER_INVALID = "number_invalid", _("Number problem")
        CARRIER_BLOCK = "carrier_block", _("Blocked by carrier or filter")
        FREQUENCY_LIMIT = "frequency_limit", _("Rate or quota limit")
        NOT_SUPPORTED = "not_supported", _("Not supported")
        REQUEST_ERROR = "request_error", _("Send request or account setup")
        UNKNOWN = "unknown", _("Unknown")

    code = models.CharField(max_length=32, primary_key=True)
    match = models.CharField(max_length=8, choices=Match.choices, default=Match.EXACT)
    branch = models.CharField(max_length=16, choices=Branch.choices)
    final = models.BooleanField(default=True, help_text=_("False for intermediate states such as ACCEPTD"))
    origin = models.CharField(max_length=16, blank=True)
    summary = models.CharField(max_length=200)
    advice = models.TextField(blank=True)
    # False for codes first met in a report: kept and routed as unknown, never dropped.
    documented = models.BooleanField(default=True)
    first_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    branch__in=[
                        "delivered",
                        "pending",
                        "timeout",
                        "number_invalid",
                        "carrier_block",
                        "frequency_limit",
                        "not_supported",
                        "request_error",
                        "unknown",
                    ]
                ),
                name="diagnosis_code_branch_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_branch_display()})"

    # The catalogue keeps English (the CSV is the source of truth); pages show these. Their
    # msgids come from diagnosis.delivery.catalogue_texts, generated from the CSV.
    @property
    def translated_summary(self) -> str:
        """The summary in the active language (the stored English when it has no translation)."""
        return gettext(self.summary) if self.summary else ""

    @property
    def translated_advice(self) -> str:
        """The advice in the active language (the stored English when it has no translation)."""
        return gettext(self.advice) if self.advice else ""


class Escalation(models.Model):
    """A hand-over to the SMS provider's customer service for one E outcome."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalations")
    reason = models.CharField(max_length=64, help_text=_("The cause of the E outcome"))
    package = models.JSONField(default=dict, help_text=_("Everything sent to customer service"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.CharField(max_length=200, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    provider_answer = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "reason"],
                condition=Q(closed_at__isnull=True),
                name="diagnosis_escalation_one_open",
            ),
        ]
        indexes = [
            models.Index(
                fields=["opened_at"], condition=Q(closed_at__isnull=True), name="diagnosis_escalation_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.reason}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def title(self) -> str:
        """The outcome's name in the case's guide (its reason is that outcome's cause)."""
        outcomes = self.case.guide.outcomes()
        return next((n.title for n in outcomes if n.cause == self.reason), self.reason.replace("_", " "))


class AppendOnlyError(Exception):
    pass


class EventKind(models.TextChoices):
    CREATED = "created", _("Case opened")
    STATE = "state", _("State changed")
    ANSWERED = "answered", _("Step answered")
    REVISED = "revised", _("Answer revised")
    ASSIGNED = "assigned", _("Assigned")
    NOTE = "note", _("Note")
    CUSTOMER_MESSAGE = "customer_message", _("Message from the customer")
    REPLY = "reply", _("Reply to the customer")
    WAIT_STARTED = "wait_started", _("Waiting for report")
    WAIT_ENDED = "wait_ended", _("Wait ended")
    ESCALATED = "escalated", _("Escalated")
    OUTCOME = "outcome", _("Outcome reached")
    TEST_SMS = "test_sms", _("Test SMS sent")
    ERASED = "erased", _("Personal data erased")


class Event(models.Model):
    """The case's history. Append-only: rows are never changed or deleted, with one exception.

    Erasing a customer's personal data (`cases.erasure`) replaces the summary and data of
    the case's events through `redact`; nothing else of an event can change. Events go
    only with their case, when a superuser deletes it in the admin.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(default=timezone.now)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="diagnosis_event_kind_valid"),
            # A reply form carries a one-time token: the same form sent twice is one reply.
            models.UniqueConstraint(
                F("case"),
                KeyTextTransform("token", "data"),
                condition=Q(kind=EventKind.REPLY),
                name="diagnosis_event_reply_once",
            ),
        ]
        indexes = [models.Index(fields=["case", "at"], name="diagnosis_event_case_time")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("events are append-only")

    def redact(self, summary: str, data: dict[str, Any]) -> None:
        """Replace the summary and data with their erased copies; kind, actor, time and case stay.

        The one change an event allows, for erasing personal data. A redaction that
        would add text longer than the summary column, or an event not yet stored, is refused.
        """
        if self.pk is None or self._state.adding:
            raise AppendOnlyError("only a stored event can be redacted")
        if len(summary) > 300:
            raise AppendOnlyError("a redacted summary must fit the summary column")
        Event.objects.filter(pk=self.pk).update(summary=summary, data=data)
        self.summary, self.data = summary, data


class OutboundEmail(models.Model):
    """An email to send, written in the same transaction as the change that causes it.

    A sender first claims the row (`claimed_until`, a lease longer than any SMTP
    exchange), sends, then stamps `sent_at`: delivery is at-least-once, so a crash
    between sending and stamping can repeat a message but never lose one.
    """

    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="emails")
    # Set for the email that carries an escalation; sending it stamps the escalation as sent.
    escalation = models.ForeignKey(
        "Escalation", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Until when a sender holds the row (see `outbox.deliver`); null when nobody does.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="diagnosis_email_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


class StaffNotification(models.Model):
    """Something a staff member should know about one of their cases (shown on their home page)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                condition=Q(read_at__isnull=True),
                name="diagnosis_notice_unread",
            )
        ]

    def __str__(self) -> str:
        return self.text


class StaffPreference(models.Model):
    """Per-person choices; absent means the defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    email_when_case_resumes = models.BooleanField(
        default=False, help_text=_("Also email me when a case of mine resumes because its report arrived.")
    )
    # A code from settings.LANGUAGES; empty follows the browser.
    language = models.CharField(max_length=16, blank=True, default="", db_default="")

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class Deflection(models.Model):
    """A ticket that was never filed because a self-help check solved the problem."""

    msg_id = models.CharField(max_length=64)
    solved_by = models.CharField(max_length=64, help_text=_("The phone check that helped"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="diagnosis_deflection_time")]

    def __str__(self) -> str:
        return f"{self.msg_id} solved by {self.solved_by}"


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Stopped")


class SendDetailsImport(models.Model):
    """An uploaded Send Details export, imported in the background (`cases.send_details_imports`).

    The file stays in storage until the import ends. A worker claims the row with a lease
    (`claimed_until`, renewed with every stored batch); a row whose lease ran out, or that
    no worker took, is handed out again, and the counters of stored batches commit with them.
    """

    file = models.FileField(upload_to="send-details/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=20)
    timezone_name = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=ImportState.choices, default=ImportState.QUEUED)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    rows_estimate = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [[line, reason], ...]: the first `send_details.MAX_REJECTIONS`; `rejected` counts them all.
    rejections = models.JSONField(default=list, blank=True)
    # Ids of the waiting cases the import resumed.
    resumed = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(state__in=["queued", "running"]),
                name="diagnosis_import_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state in (ImportState.DONE, ImportState.FAILED)

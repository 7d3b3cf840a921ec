"""Customers' tickets: filing, self-help before filing, tracking, and abuse limits.

Customers never log in. They reach their ticket through an unguessable tracking
token; the quotable case reference alone opens nothing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import phonenumbers
from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from PIL import Image

from diagnosis.cases import outbox, services
from diagnosis.delivery import case_reports, numbers
from diagnosis.delivery.region_names import library_language, region_name
from diagnosis.guide import GUIDES, Guide, Kind, Node, Result, engine, get_guide
from diagnosis.guide.evidence import ReportFact, Standing
from diagnosis.models import (
    Case,
    CaseState,
    Deflection,
    Event,
    EventKind,
    StatusCode,
    TrackingLink,
)
from portal import languages
from portal.client_address import address_bucket

# The shape every documented smsMsgId has: a UUID, an underscore, a decimal sequence.
MSG_ID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}_\d{1,12}$"
)
MAX_NUMBERS = 20
MAX_MSG_IDS = 20
SCREENSHOT_MAX_BYTES = 5 * 1024 * 1024
SCREENSHOT_TYPES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}
# Phone and desktop screenshots stay far below this (a 5K screen is 15 million pixels).
SCREENSHOT_MAX_PIXELS = 40_000_000


def split_entries(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n,;]+", text or "") if part.strip()]


def parse_numbers(text: str, region: str | None) -> tuple[list[numbers.NumberInfo], list[str]]:
    """Every possible number normalised, and a reason for each one that cannot be a number.

    Numbers the numbering plan does not list are among the found ones, marked
    `known=False`: see `unconfirmed_numbers`.
    """
    found, problems = [], []
    entries = split_entries(text)
    if len(entries) > MAX_NUMBERS:
        return [], [
            ngettext(
                "Give at most %(count)d number per ticket.",
                "Give at most %(count)d numbers per ticket.",
                MAX_NUMBERS,
            )
            % {"count": MAX_NUMBERS}
        ]
    for entry in entries:
        try:
            found.append(numbers.normalise(entry, region))
        except numbers.InvalidNumber as exc:
            # Translators: a number as the customer typed it, then why it cannot be a number.
            problems.append(_("%(entry)s: %(problem)s") % {"entry": entry, "problem": exc})
    return found, problems


@dataclass(frozen=True)
class NumberWarning:
    """Numbers of the right length that the numbering plan does not list, for the customer to confirm.

    `key` names exactly these numbers: a confirmation given for them does not carry over
    to other numbers typed afterwards.
    """

    messages: list[str]
    key: str


def unconfirmed_numbers(found: list[numbers.NumberInfo]) -> NumberWarning | None:
    """What to ask the customer about numbers the library does not know, if any."""
    unknown = [info for info in found if not info.known]
    if not unknown:
        return None
    messages = [
        _(
            "%(number)s has the right length for %(country)s, but it is not in the list of number "
            "ranges we know. New ranges are opened often, so it may well be right."
        )
        % {"number": numbers.international(info.e164), "country": _country_name(info.region)}
        for info in unknown
    ]
    return NumberWarning(messages, ",".join(info.e164 for info in unknown))


def _country_name(region: str) -> str:
    name = region_name(region) if region else ""
    # Translators: stands for a country name in "… has the right length for %(country)s".
    return name or _("its country")


def parse_msg_ids(text: str) -> tuple[list[str], list[str]]:
    found, problems = [], []
    entries = split_entries(text)
    if len(entries) > MAX_MSG_IDS:
        return [], [
            ngettext(
                "Give at most %(count)d message id per ticket.",
                "Give at most %(count)d message ids per ticket.",
                MAX_MSG_IDS,
            )
            % {"count": MAX_MSG_IDS}
        ]
    for entry in entries:
        if MSG_ID_RE.match(entry):
            found.append(entry)
        else:
            problems.append(
                _("%(entry)s: this does not look like a message id (smsMsgId), which reads like %(example)s.")
                % {"entry": entry[:60], "example": "2ea20735-f856-4376-afbf-570bd70a46ee_11840135"}
            )
    return found, problems


def screenshot_extension(upload: UploadedFile) -> str | None:
    """ ".png" or ".jpg" judged by the file's first bytes (never its name), else None."""
    head = upload.read(8)
    upload.seek(0)
    return next((ext for magic, ext in SCREENSHOT_TYPES.items() if head.startswith(magic)), None)


def screenshot_problem(upload: UploadedFile) -> str | None:
    """Why a screenshot is refused: too large in bytes or in pixels, or not a PNG or JPEG image."""
    if upload.size and upload.size > SCREENSHOT_MAX_BYTES:
        return _("The screenshot is larger than %(size)d MB.") % {
            "size": SCREENSHOT_MAX_BYTES // (1024 * 1024)
        }
    if screenshot_extension(upload) is None:
        return _("The screenshot must be a PNG or JPEG image.")
    try:
        return _image_problem(upload)
    finally:
        upload.seek(0)


def _image_problem(upload: UploadedFile) -> str | None:
    """Pillow reads the header for the real size before any pixel is decoded.

    A few hundred kilobytes of PNG can unpack to gigabytes (a "pixel flood"), so the
    pixel count is checked first; then the file's structure is verified (every PNG
    chunk's checksum) and a JPEG is decoded at 1/8 scale, which costs little.
    """
    millions = SCREENSHOT_MAX_PIXELS // 1_000_000
    too_many = _("The screenshot has more than %(millions)d million pixels. Please send a smaller one.") % {
        "millions": millions
    }
    unreadable = _("The screenshot could not be read as a PNG or JPEG image. Please take it again.")
    try:
        with Image.open(upload, formats=["PNG", "JPEG"]) as image:
            width, height = image.size
            if width * height > SCREENSHOT_MAX_PIXELS:
                return too_many
            image.verify()
        if image.format == "JPEG":
            upload.seek(0)
            with Image.open(upload, formats=["JPEG"]) as jpeg:
                jpeg.draft("L", (max(width // 8, 1), max(height // 8, 1)))
                jpeg.load()
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours
        return too_many
    except (OSError, SyntaxError, ValueError, EOFError):
        return unreadable
    return None


def _name_order(label: str) -> str:
    """Alphabetical as people expect: case and accents ignored ("Åland" among the As)."""
    decomposed = unicodedata.normalize("NFKD", label)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def region_choices(language: str | None = None) -> list[tuple[str, str]]:
    """Countries by name with their calling code ("Germany (+49)"), for the country select,
    named in `language` (default: the active one)."""
    return _region_choices(library_language(language or translation.get_language() or settings.LANGUAGE_CODE))


@cache
def _region_choices(lang: str) -> list[tuple[str, str]]:
    choices = [
        (region, f"{region_name(region, lang)} (+{phonenumbers.country_code_for_region(region)})")
        for region in phonenumbers.SUPPORTED_REGIONS
    ]
    return sorted(choices, key=lambda choice: _name_order(choice[1]))


def default_region() -> str:
    """The PHONE_REGION setting when it names a region phonenumbers knows, else none."""
    region = (settings.PHONE_REGION or "").upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else ""


# --- Self-help before filing ---------------------------------------------------------
#
# When a report already says DELIVRD, the customer can do the guide's phone checks
# before filing. Questions, answer labels and where each answer leads all come from
# the guide, and the answers are the guide's own values: the agent is later offered
# them at the same steps (`engine.propose`).


@dataclass(frozen=True)
class SelfHelp:
    """Where the customer's answers lead along the guide's phone checks."""

    answers: dict[str, str]  # node id → the guide's answer value, only answers on the path
    step: Node | None  # the phone check to ask next, if any
    outcome: Node | None  # the outcome the answers reached, if any

    @property
    def solved(self) -> Node | None:
        """The resolved outcome reached: the customer needs no ticket."""
        return self.outcome if self.outcome and self.outcome.result is Result.RESOLVED else None


def _delivered_route(guide: Guide) -> dict[str, str]:
    """The answers the engine itself proposes from the start once a DELIVRD report is stored."""
    delivered = engine.CaseEvidence.of(
        [ReportFact("DELIVRD", StatusCode.Branch.DELIVERED, True, datetime.now(UTC), msg_id="delivered")]
    )
    answers: dict[str, str] = {}
    node = guide[guide.start]
    while (proposal := engine.propose(node, delivered)) is not None:
        answer = node.answer(proposal.value)
        assert answer is not None  # the engine proposes only the node's own answers
        answers[node.id] = answer.value
        node = guide[answer.next]
    return answers


def phone_checks(guide: Guide) -> tuple[Node, ...]:
    """The checks the guide asks after a DELIVRD report, up to its outcomes, in order.

    Raises ValueError when one lacks the customer's question or an answer lacks its
    customer label, so a guide change that forgets them fails at import.
    """
    found: list[Node] = []
    queue = [engine.walk(guide, _delivered_route(guide)).current]
    while queue:
        node = queue.pop(0)
        if node.kind is Kind.CHECK and node not in found:
            found.append(node)
            queue.extend(guide[answer.next] for answer in node.answers)
    for node in found:
        if not node.customer_question or not all(answer.customer_label for answer in node.answers):
            raise ValueError(
                f"guide {guide.version}, node {node.id}: a phone check needs a customer question "
                "and a customer label on every answer"
            )
    return tuple(found)


PHONE_CHECKS = {version: phone_checks(guide) for version, guide in GUIDES.items()}


def current_checks() -> tuple[Node, ...]:
    """The phone checks of the guide in use."""
    return PHONE_CHECKS[get_guide().version]


def self_help(given: dict[str, str], guide: Guide | None = None) -> SelfHelp:
    """Follow the customer's answers along the guide's edges, exactly as the agent's would go.

    Answers the guide does not offer, or that are off the path, are dropped, so the
    step they stand for is simply asked again.
    """
    guide = guide or get_guide()
    route = _delivered_route(guide)
    checks = {node.id for node in PHONE_CHECKS[guide.version]}
    path = engine.walk(guide, {**{n: v for n, v in given.items() if n in checks}, **route})
    answers = {node.id: answer.value for node, answer in path.steps if node.id in checks}
    current = path.current
    if current.kind is Kind.OUTCOME:
        return SelfHelp(answers, None, current)
    return SelfHelp(answers, current if current.id in checks else None, None)


def delivered_message(msg_ids: list[str]) -> str | None:
    """The first of the ticket's message ids that every part reached the phone, by the agent's verdict.

    One delivered message is enough while the others are still unknown; but once any of
    them failed, the agent's verdict is the failure, so the phone checks are not offered.
    """
    found = case_reports.messages_verdict(msg_ids)
    if found.standing is Standing.FAILED:
        return None
    delivered = {m.msg_id for m in found.messages if m.standing is Standing.DELIVERED}
    return next((msg_id for msg_id in msg_ids if msg_id in delivered), None)


def record_deflection(msg_id: str, check: Node) -> Deflection:
    """Count a ticket the check made unnecessary; the leads' dashboard groups them by check."""
    return Deflection.objects.create(msg_id=msg_id, solved_by=check.id)


# --- Filing -------------------------------------------------------------------------


# Abuse limits, counted per hour in the cache (Redis in production). Each endpoint has
# its own bucket per client address (portal.client_address), and emails are capped per
# recipient. Filing never depends on the email address typed into the form: anyone can
# type anyone's address, so a count per email could be used up by a stranger.


def _within(key: str, limit: int) -> bool:
    """Count one use under the key and say whether it stays within the hourly limit."""
    django_cache.add(key, 0, timeout=3600)
    try:
        count = django_cache.incr(key)
    except ValueError:  # expired between add and incr
        django_cache.set(key, 1, timeout=3600)
        count = 1
    return count <= limit


def may_file(address: str) -> bool:
    """Count one ticket filed from the client's address; False once it filed too many this hour."""
    return _within(f"ticket-rate:file:{address_bucket(address)}", settings.TICKET_LIMIT_PER_IP_PER_HOUR)


def may_find(address: str) -> bool:
    """Count one find-my-tickets request from the client's address; its own bucket, apart from filing."""
    return _within(f"ticket-rate:find:{address_bucket(address)}", settings.FIND_TICKET_LIMIT_PER_IP_PER_HOUR)


def may_self_help(address: str) -> bool:
    """Count one self-help answer from the client's address (each may record a deflection)."""
    return _within(
        f"ticket-rate:self-help:{address_bucket(address)}", settings.SELF_HELP_LIMIT_PER_IP_PER_HOUR
    )


def may_email(to: str) -> bool:
    """Count one email the public forms would send to this address; False beyond the hourly cap.

    What is over the cap is skipped, never queued for later, so nobody can use the
    forms to flood an inbox. The address is hashed: the cache holds no email addresses.
    """
    digest = hashlib.sha256(to.strip().lower().encode()).hexdigest()
    return _within(f"ticket-rate:email-to:{digest}", settings.CUSTOMER_EMAILS_PER_ADDRESS_PER_HOUR)


@dataclass(frozen=True)
class Ticket:
    name: str
    email: str
    numbers: list[numbers.NumberInfo]
    msg_ids: list[str]
    sent_at: datetime | None
    sender: str
    template_id: str
    description: str
    screenshot: UploadedFile | None
    self_help: dict[str, str]
    # The customer's language (a code from settings.LANGUAGES); empty: the active one.
    language: str = ""


@dataclass(frozen=True)
class Filed:
    """A filed ticket, its first private link's token (shown once, on the confirmation
    redirect), and whether the link was emailed (not when the address had too many emails)."""

    case: Case
    token: str
    emailed: bool


def file_ticket(ticket: Ticket) -> Filed:
    """Open the case through the guide engine and email the customer their private link.

    The ticket is filed even when the email is over the address's cap; only the email is
    skipped. The email is rendered here, at enqueue, so the raw token lives only in the
    outgoing email's body and in the returned value; the database keeps its hash (TrackingLink).
    """
    with transaction.atomic():
        case = services.open_case(
            services.NewCase(
                reporter_name=ticket.name,
                reporter_email=ticket.email,
                numbers=ticket.numbers,
                msg_ids=ticket.msg_ids,
                sent_at=ticket.sent_at,
                sender=ticket.sender,
                template_id=ticket.template_id,
                description=ticket.description,
            )
        )
        # Every email and tracking page of the case speaks the language the ticket was filed in.
        case.language = ticket.language or languages.active()
        changed = ["language"]
        if ticket.self_help or ticket.screenshot:
            case.customer_answers = ticket.self_help
            if ticket.screenshot:
                extension = screenshot_extension(ticket.screenshot)
                case.screenshot.save(f"{case.reference}{extension}", ticket.screenshot, save=False)
            changed += ["customer_answers", "screenshot"]
        case.save(update_fields=[*changed, "updated_at"])
        token = TrackingLink.issue(case)
        emailed = may_email(case.reporter_email)
        if emailed:
            context = {
                "case": case,
                "tracking_url": tracking_url(token),
                "numbers": [info.e164 for info in ticket.numbers],
            }
            subject, body = outbox.render_email("ticket_received", context, language=case.reader_language)
            outbox.queue_email(case=case, to=case.reporter_email, subject=subject, body=body)
        return Filed(case, token, emailed)


def tracking_path(token: str) -> str:
    return f"/support/t/{token}/"


def tracking_url(token: str) -> str:
    return settings.PORTAL_BASE_URL + tracking_path(token)


def resend_links(email: str) -> int:
    """Email fresh tracking links to the address's recent tickets; the caller says the same either way.

    Every request counts against the address's email cap, known or not, so the cap tells
    nothing about whether the address has tickets. Each link is new: the old ones cannot
    be rebuilt from their hashes, and they stay valid.
    """
    if not may_email(email):
        return 0
    mine = Case.objects.filter(reporter_email__iexact=email.strip())
    cases = list(with_open_tracking(mine, timezone.now()).order_by("-created_at")[:5])
    if cases:
        links = [(c.reference, tracking_url(TrackingLink.issue(c))) for c in cases]
        # In the language of the latest ticket: the customer's most recent choice.
        subject, body = outbox.render_email(
            "ticket_links", {"links": links}, language=cases[0].reader_language
        )
        outbox.queue_email(to=cases[0].reporter_email, subject=subject, body=body)
    return len(cases)


# --- Tracking -------------------------------------------------------------------------

STATE_WORDS = {
    CaseState.NEW: gettext_lazy("We have your report and a support agent will look at it soon."),
    CaseState.IN_PROGRESS: gettext_lazy("A support agent is working on your report."),
    CaseState.WAITING: gettext_lazy(
        "We are waiting for the mobile network to report what happened to the message."
    ),
    CaseState.ESCALATED: gettext_lazy("We have asked the SMS provider's customer service to investigate."),
    CaseState.RESOLVED: gettext_lazy("We found the cause; see our reply below."),
    CaseState.CLOSED: gettext_lazy("This ticket is closed."),
}


def tracking_link_open(case: Case, now: datetime) -> bool:
    """Whether the customer's tracking link still opens the ticket (and takes messages).

    It stops TRACKING_LINK_DAYS_AFTER_CLOSE days after the case was closed, and at once
    when the customer's data is erased. A reopened case has no close time, so it opens again.
    """
    if case.erased_at is not None:
        return False
    if case.state != CaseState.CLOSED or case.closed_at is None:
        return True
    return now < case.closed_at + timedelta(days=settings.TRACKING_LINK_DAYS_AFTER_CLOSE)


def with_open_tracking(cases: QuerySet[Case], now: datetime) -> QuerySet[Case]:
    """The cases whose tracking link still opens: `tracking_link_open` as a query."""
    expired = now - timedelta(days=settings.TRACKING_LINK_DAYS_AFTER_CLOSE)
    return cases.filter(erased_at__isnull=True).exclude(state=CaseState.CLOSED, closed_at__lte=expired)


@dataclass(frozen=True)
class TrackingView:
    case: Case
    state_words: str
    asked_now: str
    conversation: list[Event]
    next_update: datetime | None


def tracking_view(case: Case) -> TrackingView:
    """What the customer sees: no staff names beyond first names, no internal notes."""
    node = case.node
    conversation = list(
        case.events.filter(kind__in=[EventKind.REPLY, EventKind.CUSTOMER_MESSAGE])
        .select_related("actor")
        .order_by("at", "pk")
    )
    asked = node.customer_text if node.kind is not Kind.WAIT or case.is_waiting() else ""
    return TrackingView(
        case=case,
        state_words=str(STATE_WORDS[CaseState(case.state)]),
        asked_now=asked,
        conversation=conversation,
        next_update=case.next_poll_at if case.is_waiting() else None,
    )


def add_customer_message(case_id: int, text: str) -> Event:
    return services.add_note(case_id, text=text, actor=None, kind=EventKind.CUSTOMER_MESSAGE)


def add_customer_message_once(case_id: int, text: str, once: str) -> Event | None:
    """Add the customer's message; None when the form that carried `once` was already sent.

    Browsers send a form twice on a double click; the second one finds its key taken.
    """
    key = f"tracking-message:{case_id}:{once}"
    if once and not django_cache.add(key, 1, timeout=24 * 3600):
        return None
    try:
        return add_customer_message(case_id, text)
    except Exception:
        if once:  # not sent: the customer may try the same form again
            django_cache.delete(key)
        raise

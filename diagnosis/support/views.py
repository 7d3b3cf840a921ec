"""Public pages for customers: file a ticket, self-help first, follow it by private link.

None of these views needs a login; each is explicitly marked public. A tracking
token is the only key to a ticket, and an unknown one is a plain 404.
"""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from diagnosis.cases import services
from diagnosis.guide import Node
from diagnosis.models import Case
from diagnosis.support import tickets, tracked
from diagnosis.support.forms import FindTicketForm, TicketForm, TrackingMessageForm
from portal import languages
from portal.client_address import client_ip
from portal.http import PublicHttpRequest

CHECKED_FIELDS = {"numbers", "msg_ids", "email"}


class SelfHelpState(TypedDict, total=False):
    """What the ticket form shows of the phone checks; empty until the form names a message."""

    delivered: str | None
    answers: dict[str, str]
    step: Node | None
    solved: Node | None
    params: str  # what an answer button posts: the message ids and the answers, nothing else
    refused: str  # why the answer was not taken (too many from this address)


def _self_help(request: PublicHttpRequest, msg_ids: list[str], *, answering: bool = False) -> SelfHelpState:
    """Where the customer is in the phone checks: the answers carried in the form, plus the one
    just chosen when `answering` (only for the step being asked, and only an answer offered there)."""
    state = tickets.self_help({key[3:]: v for key, v in request.POST.dict().items() if key.startswith("sh_")})
    delivered = tickets.delivered_message(msg_ids) if request.method == "POST" else None
    node, _sep, value = request.POST.get("selfhelp", "").partition(":")
    asked, solved = state.step, None
    if answering and delivered and asked is not None and node == asked.id:
        state = tickets.self_help({**state.answers, node: value})
        if state.solved is not None:
            tickets.record_deflection(delivered, asked)
            solved = state.solved
    # A resolved outcome reached earlier (not just now) has nothing left to ask: filing goes ahead.
    return {
        "delivered": delivered,
        "answers": state.answers,
        "step": state.step,
        "solved": solved,
        "params": ",".join(["msg_ids", "selfhelp", *(f"sh_{node.id}" for node in tickets.current_checks())]),
    }


@login_not_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: PublicHttpRequest) -> HttpResponse:
    if "selfhelp" in request.POST:  # an answer from a page served before answers had their own address
        return self_help_answer(request)
    form = TicketForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return render(request, "support/ticket_form.html", {"form": form, "help": {}})
    valid = form.is_valid()
    help_state = _self_help(request, form.parsed_msg_ids) if valid or form.parsed_msg_ids else {}
    if not valid:
        return render(request, "support/ticket_form.html", {"form": form, "help": help_state})
    delivered = help_state.get("delivered")
    # The checks are offered once; after that the customer decides ("Still missing? File the ticket.").
    wants_help = (
        delivered
        and request.POST.get("selfhelp_offered") != delivered
        and not {"skip_selfhelp", "file"} & set(request.POST)
    )
    if help_state.get("solved") or (wants_help and help_state.get("step")):
        return render(request, "support/ticket_form.html", {"form": form, "help": help_state})
    if not tickets.may_file(client_ip(request)):
        form.add_error(
            None,
            _(
                "Several tickets were filed from your network in the last hour. "
                "Please wait a while before filing another."
            ),
        )
        return render(request, "support/ticket_form.html", {"form": form, "help": help_state}, status=429)
    data = form.cleaned_data
    filed = tickets.file_ticket(
        tickets.Ticket(
            name=data["name"],
            email=data["email"],
            numbers=form.parsed_numbers,
            msg_ids=form.parsed_msg_ids,
            sent_at=data.get("sent_at"),
            sender=data["sender"],
            template_id=data["template_id"],
            description=data["description"],
            screenshot=data.get("screenshot"),
            self_help=help_state.get("answers", {}),
            language=languages.active(),
        )
    )
    # The raw token is in this redirect and in the email, nowhere else (the database keeps its hash).
    unsent = "" if filed.emailed else "&unsent=1"
    return redirect(tickets.tracking_path(filed.token) + "?filed=1" + unsent)


@login_not_required
@require_POST
@vary_on_headers("HX-Request")
def self_help_answer(request: PublicHttpRequest) -> HttpResponse:
    """One phone check answered, judged on the message ids and the answers only.

    htmx swaps the answer into the self-help region. Without JavaScript the whole form
    comes here (the button's formaction) and the page comes back with what was typed,
    the answer, and no complaint about ticket fields nobody has submitted yet.
    """
    form = TicketForm(request.POST)
    form.keep_errors_of("msg_ids")
    status = 200
    if tickets.may_self_help(client_ip(request)):
        help_state = _self_help(request, form.parsed_msg_ids, answering=True)
    else:
        help_state = _self_help(request, form.parsed_msg_ids)
        help_state["refused"] = _(
            "Many answers came from your network in the last hour, so we did not take this one. "
            "Please wait a while, or file your ticket below."
        )
        status = 429
    context = {"form": form, "help": help_state, "answered": True}
    if request.htmx:
        return render(request, "support/ticket_form.html#self-help-answer", context, status=status)
    return render(request, "support/ticket_form.html", context, status=status)


@login_not_required
@require_POST
@vary_on_headers("HX-Request")
def ticket_check(request: PublicHttpRequest, field: str) -> HttpResponse:
    """Inline validation of one field as the customer types (htmx)."""
    if field not in CHECKED_FIELDS:
        raise Http404
    form = TicketForm(request.POST)
    form.is_valid()
    context = {
        "form": form,
        "field": form[field],
        "help": _self_help(request, form.parsed_msg_ids) if field == "msg_ids" else None,
    }
    return render(request, "support/ticket_form.html#checked-field", context)


def _tracked_case(token: str) -> tracked.TrackedCase | None:
    """The case a tracking link opens, None once the link has expired; unknown links are 404."""
    found = tracked.find(token)
    if found is None:
        raise Http404("No ticket at this address.")
    return found if tickets.tracking_link_open(found.case, timezone.now()) else None


def _link_expired(request: PublicHttpRequest) -> HttpResponse:
    return render(request, "support/tracking_closed.html", status=410)


def _case_language(request: PublicHttpRequest, case: Case) -> str:
    """The language of the tracking page: the case's, unless the visitor chose one.

    A language cookie (the language switch sets it) means the customer changed their mind:
    the page follows their choice, and so does the case's language for its next emails.
    """
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        chosen = languages.active()  # LocaleMiddleware activated the cookie's language
        if chosen != case.language:
            Case.objects.filter(pk=case.pk).update(language=chosen)
            case.language = chosen
        return chosen
    return case.reader_language


@login_not_required
@require_http_methods(["GET"])
def tracking(request: PublicHttpRequest, token: str) -> HttpResponse:
    found = _tracked_case(token)
    if found is None:
        return _link_expired(request)
    with translation.override(_case_language(request, found.case)):
        context = {
            "token": token,
            "view": tickets.tracking_view(found.case),
            "numbers": found.numbers,
            "form": TrackingMessageForm(),
            "filed": "filed" in request.GET,
            "sent": "sent" in request.GET,
            "unsent": "unsent" in request.GET,
            "link": tickets.tracking_url(token),
        }
        return _rendered(request, "support/tracking.html", context)


def _rendered(request: PublicHttpRequest, template: str, context: dict[str, object]) -> HttpResponse:
    """The page in the active language, labelled with it (LocaleMiddleware keeps this header)."""
    response = render(request, template, context)
    response["Content-Language"] = translation.get_language()
    return response


@login_not_required
@require_POST
def tracking_message(request: PublicHttpRequest, token: str) -> HttpResponse:
    found = _tracked_case(token)
    if found is None:
        return _link_expired(request)
    with translation.override(_case_language(request, found.case)):
        form = TrackingMessageForm(request.POST)
        if form.is_valid():
            try:
                data = form.cleaned_data
                tickets.add_customer_message_once(found.case.pk, data["text"], data["once"])
            except services.CaseError as exc:
                form.add_error("text", str(exc))
            else:
                return redirect(tickets.tracking_path(token) + "?sent=1#conversation")
        context = {
            "token": token,
            "view": tickets.tracking_view(found.case),
            "numbers": found.numbers,
            "form": form,
        }
        return _rendered(request, "support/tracking.html", context)


@login_not_required
@require_http_methods(["GET", "POST"])
def find_ticket(request: PublicHttpRequest) -> HttpResponse:
    form = FindTicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not tickets.may_find(client_ip(request)):
            form.add_error(
                None,
                _(
                    "Many searches came from your network in the last hour. "
                    "Please wait a while and try again."
                ),
            )
            return render(request, "support/find.html", {"form": form, "done": False}, status=429)
        # The same answer whether the address is known, unknown or over its email cap.
        tickets.resend_links(form.cleaned_data["email"])
        return render(request, "support/find.html", {"form": form, "done": True})
    return render(request, "support/find.html", {"form": form, "done": False})

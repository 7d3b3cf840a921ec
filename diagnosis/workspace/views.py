"""The agent workspace. Views are thin: read the request, call domain code, render.

htmx requests get named partials of the same templates; every form also works as
an ordinary POST that redirects back to the case page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from diagnosis.cases import (
    access,
    casefile,
    escalations,
    live,
    matching,
    queue,
    services,
    testsms,
    unseen_replies,
)
from diagnosis.delivery import ingest
from diagnosis.guide import Kind
from diagnosis.guide.engine import GuideError
from diagnosis.models import Case, Escalation, StaffNotification, StaffPreference
from diagnosis.workspace import queue_rows
from diagnosis.workspace.forms import (
    AssignForm,
    DetailsForm,
    EscalationAnswerForm,
    ManualReportForm,
    NoteForm,
    QueueForm,
    ReplyForm,
    StepForm,
    TestSmsForm,
    status_code_options,
)
from portal import languages, roles
from portal.http import AuthenticatedHttpRequest

work_cases = permission_required(roles.WORK_CASES, raise_exception=True)

T = TypeVar("T")


def _case(reference: str) -> Case:
    return get_object_or_404(Case.objects.select_related("assigned_to"), reference=reference)


def _workable(request: AuthenticatedHttpRequest, reference: str) -> Case:
    case = _case(reference)
    if not access.can_work(request.user, case):
        raise PermissionDenied(_("Claim this case (or ask a lead to assign it) before working on it."))
    return case


def _wants_partial(request: AuthenticatedHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_safe
@work_cases
@vary_on_headers("HX-Request")
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = QueueForm(request.GET)
    chosen, text, sort = form.values()
    after, before = form.cursors()
    search = queue.parse_search(text, settings.PHONE_REGION or None)
    tab = queue.scope(chosen, search)
    page = queue.page(tab, request.user, search, sort, after=after, before=before)
    queue_rows.label(page.object_list)
    context = {
        "form": form,
        "tab": tab,
        # Kept by the search form: a search with no tab chosen looks through every case.
        "chosen_tab": chosen or "",
        "everywhere": chosen is None and bool(search.kind),
        "tabs": [(t, queue.TAB_LABELS[t]) for t in queue.Tab],
        "tab_labels": queue.TAB_LABELS,
        "counts": queue.tab_counts(request.user),
        "search": search,
        "summary": queue.summary(request.user, search),
        "sort": sort,
        "page": page,
        # Tab, search and sort for the pager's links, which add a cursor.
        "links_query": urlencode({"tab": chosen or "", "q": search.text, "sort": sort}),
    }
    template = (
        "diagnosis/case_list.html#queue-results" if _wants_partial(request) else "diagnosis/case_list.html"
    )
    return render(request, template, context)


def _once(build: Callable[[], T]) -> Callable[[], T]:
    """A context value built when a template first uses it, then kept (templates call callables)."""
    return functools.cache(build)


def _proposed_step_form(file: casefile.CaseFile) -> StepForm:
    proposal = file.proposal
    initial = {"value": proposal.value, "evidence": proposal.evidence} if proposal else {}
    return StepForm(node=file.node, initial=initial)


def proposed_reply(file: casefile.CaseFile) -> str:
    """The reply the current step proposes, in the customer's language (`Case.language`),
    whatever the language of the agent's screen."""
    with translation.override(file.case.reader_language):
        return str(file.node.customer_text)


def customer_language(case: Case) -> dict[str, str]:
    """The customer's language for the case page: its code and its own name (e.g. 简体中文)."""
    code = case.reader_language
    return {"code": code, "name_local": languages.name(code)}


# The note and the reply share a field name; distinct ids keep each label on its own box.
_TEXT_IDS = {"note": "id_note_%s", "reply": "id_reply_%s"}


def _detail_context(request: AuthenticatedHttpRequest, case: Case, **extra: object) -> dict[str, object]:
    """The case page's context; `extra` replaces a form with its bound, invalid copy.

    The case file and the forms load on first use, so a region rendered alone (`case_part`)
    costs only the queries of what it shows.
    """
    file = casefile.load(case)
    context: dict[str, object] = {
        "file": file,
        "case": case,
        "can_work": access.can_work(request.user, case),
        "can_claim": access.can_claim(request.user, case),
        "can_assign": access.can_assign(request.user),
        # The permission cache is filled by can_assign above: no extra query.
        "can_erase": access.can_erase(request.user),
        "step_form": _once(lambda: _proposed_step_form(file)),
        "details_form": _once(lambda: DetailsForm(node=file.node)),
        "code_options": status_code_options,
        "note_form": _once(lambda: NoteForm(auto_id=_TEXT_IDS["note"])),
        "reply_form": _once(
            lambda: ReplyForm(initial={"text": proposed_reply(file)}, auto_id=_TEXT_IDS["reply"])
        ),
        "test_sms_form": _once(lambda: TestSmsForm(recipients=file.recipients)),
        "manual_report_form": _once(lambda: ManualReportForm(messages=file.messages)),
        "escalation_form": _once(EscalationAnswerForm),
        "customer_language": _once(lambda: customer_language(case)),
    }
    if context["can_assign"]:
        context["assign_form"] = _once(
            lambda: AssignForm(agents=access.agents(), initial={"assignee": case.assigned_to_id})
        )
    context.update(extra)
    return context


def _page(request: AuthenticatedHttpRequest, case: Case, **extra: object) -> HttpResponse:
    """The whole case page. Its first response carries the header, the current step and the
    path; the other panels load themselves right after it (partials/lazy_panel.html), unless
    ?panels=all asks for everything at once (the link offered without JavaScript).
    """
    context = _detail_context(request, case, lazy=request.GET.get("panels") != "all", **extra)
    # What the page's poller asks with (live_views.case_changes). Read with the case row when
    # the view used `live.with_stamp`, so that anything committed after it is news.
    stamp = live.stamp_of(case) if hasattr(case, "live_event_at") else live.case_stamp(case.reference)
    context.update(live=stamp, live_seconds=settings.LIVE_UPDATE_SECONDS)
    return render(request, "diagnosis/case_detail.html", context)


@require_safe
@work_cases
def case_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    # The live stamp is read with the case row, before anything the page shows.
    case = get_object_or_404(live.with_stamp(Case.objects.select_related("assigned_to")), reference=reference)
    # Before rendering, so the navigation's count already leaves this case out.
    unseen_replies.seen(case, request.user)
    return _page(request, case)


# Regions of the case page that refresh alone. Each is a partial of case_detail.html named
# like its element's id, so the case-changed event can name the region that answered.
REGIONS = frozenset(
    {
        "case-header",
        "step-panel",
        "path-panel",
        "reports",
        "reply-form",
        "conversation",
        "delivery-checks",
        "escalations",
        "note-form",
        "timeline",
    }
)
# Parts fetched once by the page after its first response, not refreshed on their own:
# their region (the path panel) renders them again.
LAZY_PARTS = frozenset({"replaced-answers"})


@require_safe
@work_cases
@vary_on_headers("HX-Request")
def case_part(request: AuthenticatedHttpRequest, reference: str, region: str) -> HttpResponse:
    """One region of the case page, fetched again by htmx when the case changed."""
    if region not in REGIONS and region not in LAZY_PARTS:
        raise Http404("The case page has no such part.")
    case = _case(reference)
    if not _wants_partial(request):
        return redirect("diagnosis:case-detail", reference=case.reference)
    if region == "conversation":
        # The assignee, already on the page, sees a message the refreshed thread brings.
        unseen_replies.seen(case, request.user)
    return render(request, f"diagnosis/case_detail.html#{region}", _detail_context(request, case))


def _region(request: AuthenticatedHttpRequest, case: Case, region: str, **extra: object) -> HttpResponse:
    """A form's region again, e.g. with its errors: alone for htmx, else on the whole page."""
    if not _wants_partial(request):
        return _page(request, case, **extra)
    return render(request, f"diagnosis/case_detail.html#{region}", _detail_context(request, case, **extra))


def _answered(
    request: AuthenticatedHttpRequest, case: Case, region: str, *, changed: bool = True, **extra: object
) -> HttpResponse:
    """The answer to a case-page form that did its work (or left a message saying why not).

    htmx gets the region the form targeted, plus the messages out of band; after a change,
    a case-changed event naming that region makes every other region fetch itself again.
    Without JavaScript: back to the case page, at the region.
    """
    if not request.htmx:
        anchor = "#step" if region == "step-panel" else f"#{region}"
        return HttpResponseRedirect(reverse("diagnosis:case-detail", args=[case.reference]) + anchor)
    context = _detail_context(request, case, region_template=f"diagnosis/case_detail.html#{region}", **extra)
    response = render(request, "diagnosis/case_change_response.html", context)
    if changed:
        trigger_client_event(response, "case-changed", {"region": region})
    return response


@require_POST
@work_cases
def case_step(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = _workable(request, reference)
    if request.POST.get("node") != case.current_node or case.node.kind is not Kind.CHECK:
        messages.warning(
            request, _("The case moved on while you were answering; here is where it stands now.")
        )
        return _answered(request, case, "step-panel")
    form = StepForm(request.POST, node=case.node)
    if form.is_valid():
        try:
            data = form.cleaned_data
            case = services.answer_step(case.pk, node=case.current_node, actor=request.user, **data)
        except GuideError as exc:
            form.add_error("evidence" if getattr(exc, "field", None) == "status_code" else "value", str(exc))
        except services.CaseError as exc:
            form.add_error(None, str(exc))
        else:
            return _answered(request, case, "step-panel", step_just_answered=True)
    return _region(request, case, "step-panel", step_form=form)


@require_POST
@work_cases
def case_escalate(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """The details an escalation outcome asks for; the escalation is sent only with them."""
    case = _workable(request, reference)
    if request.POST.get("node") != case.current_node or not case.awaits_details:
        messages.warning(request, _("The case moved on while you were writing; here is where it stands now."))
        return _answered(request, case, "step-panel")
    form = DetailsForm(request.POST, node=case.node)
    if form.is_valid():
        try:
            case = services.send_escalation(case.pk, details=form.cleaned_data, actor=request.user)
        except services.DetailsError as exc:
            for name, message in exc.errors.items():
                form.add_error(name, message)
        except services.CaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Escalation sent to customer service."))
            return _answered(request, case, "step-panel", step_just_answered=True)
    return _region(request, case, "step-panel", details_form=form)


@require_http_methods(["GET", "POST"])
@work_cases
@vary_on_headers("HX-Request")
def case_revise(request: AuthenticatedHttpRequest, reference: str, node: str) -> HttpResponse:
    case = _workable(request, reference)
    if node not in case.guide or case.guide[node].kind is not Kind.CHECK:
        raise PermissionDenied(_("Only checks can be revised."))
    try:
        discarded = services.discarded_by_revision(case, node)
    except GuideError as exc:
        messages.error(request, str(exc))
        return _answered(request, case, "step-panel", changed=False)
    step = case.guide[node]
    form = StepForm(
        request.POST or None, node=step, initial={"value": services.live_answers(case)[node].value}
    )
    if request.method == "POST" and form.is_valid():
        try:
            case = services.revise_answer(case.pk, node=node, actor=request.user, **form.cleaned_data)
        except GuideError as exc:
            form.add_error("value", str(exc))
        except services.CaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(ref)s revised.") % {"ref": step.ref})
            return _answered(request, case, "step-panel")
    extra = {"revise_node": step, "revise_form": form, "discarded": discarded}
    return _region(request, case, "step-panel", **extra)


@require_POST
@work_cases
def case_claim(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """Claim from the queue (then open the case) or from the case page's header."""
    case = _case(reference)
    try:
        case = services.assign(case.pk, assignee=request.user, actor=request.user, claim=True)
    except services.CaseError as exc:
        messages.error(request, str(exc))
        # Someone else claimed it: the page is out of date either way.
        case.refresh_from_db()
    else:
        messages.success(request, _("You claimed %(reference)s.") % {"reference": case.reference})
    if request.htmx.target == "case-header":
        return _answered(request, case, "case-header")
    url = reverse("diagnosis:case-detail", args=[case.reference])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@work_cases
def case_assign(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    if not access.can_assign(request.user):
        raise PermissionDenied(_("Only team leads assign cases."))
    case = _case(reference)
    form = AssignForm(request.POST, agents=access.agents())
    if not form.is_valid():
        messages.error(request, _("Choose an agent from the list."))
        return _answered(request, case, "case-header", changed=False)
    try:
        case = services.assign(case.pk, assignee=form.cleaned_data["assignee"], actor=request.user)
    except services.CaseError as exc:
        messages.error(request, str(exc))
        return _answered(request, case, "case-header", changed=False)
    messages.success(request, _("Assignment saved."))
    return _answered(request, case, "case-header")


def _done(
    request: AuthenticatedHttpRequest,
    case: Case,
    region: str,
    said: str,
    *,
    changed: bool = True,
    level: int = messages.SUCCESS,
    **extra: object,
) -> HttpResponse:
    """A note or reply that went through: htmx gets its region back with an empty form and
    `said` inside it (read out by screen readers); without JavaScript, `said` is a message."""
    if not request.htmx:
        messages.add_message(request, level, said)
    return _answered(request, case, region, changed=changed, confirmation=said, **extra)


@require_POST
@work_cases
def case_note(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = _workable(request, reference)
    form = NoteForm(request.POST, auto_id=_TEXT_IDS["note"])
    if form.is_valid():
        try:
            services.add_note(case.pk, text=form.cleaned_data["text"], actor=request.user)
        except services.CaseError as exc:
            form.add_error("text", str(exc))
        else:
            return _done(request, case, "note-form", _("Note added. It is in the timeline."))
    return _region(request, case, "note-form", note_form=form)


@require_POST
@work_cases
def case_reply(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """A reply is sent once: the form's token and a check for the same words just sent
    (services.send_reply) turn a double click or a resubmission into a message, not a second email."""
    case = _workable(request, reference)
    form = ReplyForm(request.POST, auto_id=_TEXT_IDS["reply"])
    if form.is_valid():
        data = form.cleaned_data
        empty = ReplyForm(auto_id=_TEXT_IDS["reply"])
        try:
            services.send_reply(case.pk, text=data["text"], actor=request.user, token=data["token"])
        except services.ReplyAlreadySent as exc:
            return _done(
                request, case, "reply-form", str(exc), changed=False, level=messages.INFO, reply_form=empty
            )
        except services.CaseError as exc:
            form.add_error("text", str(exc))
        else:
            said = _("Reply sent to %(name)s (%(email)s).") % {
                "name": case.reporter_name,
                "email": case.reporter_email,
            }
            return _done(request, case, "reply-form", said, reply_form=empty)
    return _region(request, case, "reply-form", reply_form=form)


def _test_panel(request: AuthenticatedHttpRequest, case: Case, **extra: object) -> HttpResponse:
    tests = casefile.load_tests(case)
    context = {
        "case": case,
        "tests": tests,
        "tests_settled": all(t.settled for t in tests),
        "can_work": access.can_work(request.user, case),
        "test_sms_form": TestSmsForm(recipients=list(case.recipients.order_by("pk"))),
        **extra,
    }
    return render(request, "diagnosis/partials/test_sms_panel.html", context)


@require_safe
@work_cases
def case_test_messages(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    """The test panel alone: the page polls it until every test message has a final status."""
    return _test_panel(request, _case(reference))


@require_POST
@work_cases
def case_test_sms(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = _workable(request, reference)
    form = TestSmsForm(request.POST, recipients=list(case.recipients.all()))
    sent, error = "", ""
    if not form.is_valid():
        error = _("Choose one of the case's numbers.")
    else:
        try:
            sent = testsms.send_test_sms(
                case.pk, recipient_id=form.cleaned_data["recipient"], actor=request.user
            )
        except services.CaseError as exc:
            error = str(exc)
    if request.htmx:
        return _test_panel(request, case, test_sent=sent, test_error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("Test SMS sent (message id %(test_sent)s). Its status report will appear below.")
            % {"test_sent": sent},
        )
    return redirect("diagnosis:case-detail", reference=case.reference)


@require_POST
@work_cases
def case_manual_report(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = _workable(request, reference)
    form = ManualReportForm(request.POST, messages=list(case.messages.all()))
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = ingest.record_manual(data["msg_id"], data["status"], update_time=data["update_time"])
        except ingest.ReportError as exc:
            messages.error(request, _("That status could not be recorded: %(problem)s.") % {"problem": exc})
        else:
            matching.match_stored(result)
            messages.success(
                request,
                _("Status %(status)s recorded for %(msg_id)s.")
                % {"status": data["status"].upper(), "msg_id": data["msg_id"]},
            )
    else:
        messages.error(request, _("Give the message id and the status code shown on the console."))
    return redirect("diagnosis:case-detail", reference=case.reference)


@require_POST
@permission_required(roles.ASSIGN_CASES, raise_exception=True)
def escalation_answer(request: AuthenticatedHttpRequest, reference: str, escalation_id: int) -> HttpResponse:
    case = _case(reference)
    escalation = get_object_or_404(Escalation, pk=escalation_id, case=case)
    form = EscalationAnswerForm(request.POST)
    if form.is_valid():
        escalations.record_answer(escalation.pk, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Customer service's answer recorded."))
    return redirect("diagnosis:case-detail", reference=case.reference)


@require_POST
@work_cases
def notifications_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    StaffNotification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("home")


@require_POST
@work_cases
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    wants = request.POST.get("email_when_case_resumes") == "on"
    StaffPreference.objects.update_or_create(user=request.user, defaults={"email_when_case_resumes": wants})
    messages.success(request, _("Preference saved."))
    return redirect("home")


@require_safe
@work_cases
def case_screenshot(request: AuthenticatedHttpRequest, reference: str) -> FileResponse:
    """The customer's screenshot, for staff only; uploads are never served from the web root."""
    case = _case(reference)
    if not case.screenshot:
        raise Http404("This case has no screenshot.")
    content_type = "image/png" if case.screenshot.name.endswith(".png") else "image/jpeg"
    return FileResponse(case.screenshot.open("rb"), content_type=content_type)

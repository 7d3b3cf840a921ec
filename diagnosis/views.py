"""The agent workspace. Views are thin: read the request, call domain code, render.

htmx requests get named partials of the same templates; every form also works as
an ordinary POST that redirects back to the case page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from diagnosis import access, casefile, queue, services
from diagnosis.engine import GuideError
from diagnosis.forms import AssignForm, NoteForm, QueueForm, ReplyForm, StepForm, status_code_choices
from diagnosis.guide import Kind
from diagnosis.models import Case
from portal import roles
from portal.http import AuthenticatedHttpRequest

work_cases = permission_required(roles.WORK_CASES, raise_exception=True)


def _case(reference: str) -> Case:
    return get_object_or_404(Case.objects.select_related("assigned_to"), reference=reference)


def _workable(request: AuthenticatedHttpRequest, reference: str) -> Case:
    case = _case(reference)
    if not access.can_work(request.user, case):
        raise PermissionDenied("Claim this case (or ask a lead to assign it) before working on it.")
    return case


def _wants_partial(request: AuthenticatedHttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_safe
@work_cases
@vary_on_headers("HX-Request")
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = QueueForm(request.GET)
    tab, text, sort = form.values()
    search = queue.parse_search(text, settings.PHONE_REGION or None)
    page = Paginator(queue.cases(tab, request.user, search, sort), queue.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "tab": tab,
        "tabs": [(t, queue.TAB_LABELS[t]) for t in queue.Tab],
        "counts": queue.tab_counts(request.user),
        "search": search,
        "sort": sort,
        "page": page,
    }
    template = (
        "diagnosis/case_list.html#queue-results" if _wants_partial(request) else "diagnosis/case_list.html"
    )
    return render(request, template, context)


def _detail_context(request: AuthenticatedHttpRequest, case: Case, **extra: object) -> dict[str, object]:
    file = casefile.load(case)
    context: dict[str, object] = {
        "file": file,
        "case": case,
        "can_work": access.can_work(request.user, case),
        "can_claim": access.can_claim(request.user, case),
        "can_assign": access.can_assign(request.user),
        "note_form": NoteForm(),
        "reply_form": ReplyForm(initial={"text": file.node.customer_text}),
    }
    if file.node.kind is Kind.CHECK and "step_form" not in extra:
        proposal = file.proposal
        initial = {"value": proposal.value, "evidence": proposal.evidence} if proposal else {}
        context["step_form"] = StepForm(node=file.node, initial=initial)
    if file.node.evidence or "revise_node" in extra:
        context["code_choices"] = status_code_choices()
    if context["can_assign"]:
        agents = (
            get_user_model()
            .objects.filter(groups__permissions__codename="work_cases")
            .distinct()
            .order_by("first_name")
        )
        context["assign_form"] = AssignForm(agents=agents, initial={"assignee": case.assigned_to_id})
    context.update(extra)
    return context


@require_safe
@work_cases
def case_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    return render(request, "diagnosis/case_detail.html", _detail_context(request, _case(reference)))


def _after_change(request: AuthenticatedHttpRequest, case: Case, **extra: object) -> HttpResponse:
    """htmx: the new step plus out-of-band path, header and timeline. Otherwise back to the page."""
    if request.htmx:
        case.refresh_from_db()
        return render(request, "diagnosis/case_step_response.html", _detail_context(request, case, **extra))
    return HttpResponseRedirect(reverse("diagnosis:case-detail", args=[case.reference]) + "#step")


def _step_error(
    request: AuthenticatedHttpRequest, case: Case, template_partial: str, **extra: object
) -> HttpResponse:
    template = (
        f"diagnosis/case_detail.html#{template_partial}" if request.htmx else "diagnosis/case_detail.html"
    )
    return render(request, template, _detail_context(request, case, **extra))


@require_POST
@work_cases
def case_step(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = _workable(request, reference)
    if request.POST.get("node") != case.current_node or case.node.kind is not Kind.CHECK:
        messages.warning(request, "The case moved on while you were answering; here is where it stands now.")
        return _after_change(request, case)
    form = StepForm(request.POST, node=case.node)
    if form.is_valid():
        try:
            services.answer_step(case.pk, node=case.current_node, actor=request.user, **form.cleaned_data)
        except GuideError as exc:
            form.add_error("evidence" if "status code" in str(exc) else "value", str(exc))
        except services.CaseError as exc:
            form.add_error(None, str(exc))
        else:
            return _after_change(request, case, step_just_answered=True)
    return _step_error(request, case, "step-panel", step_form=form)


@require_http_methods(["GET", "POST"])
@work_cases
def case_revise(request: AuthenticatedHttpRequest, reference: str, node: str) -> HttpResponse:
    case = _workable(request, reference)
    if node not in case.guide or case.guide[node].kind is not Kind.CHECK:
        raise PermissionDenied("Only checks can be revised.")
    try:
        discarded = services.discarded_by_revision(case, node)
    except GuideError as exc:
        messages.error(request, str(exc))
        return _after_change(request, case)
    step = case.guide[node]
    form = StepForm(
        request.POST or None, node=step, initial={"value": services.live_answers(case)[node].value}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.revise_answer(case.pk, node=node, actor=request.user, **form.cleaned_data)
        except GuideError as exc:
            form.add_error("value", str(exc))
        except services.CaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{step.ref} revised.")
            return _after_change(request, case)
    extra = {"revise_node": step, "revise_form": form, "discarded": discarded}
    return _step_error(request, case, "step-panel", **extra)


@require_POST
@work_cases
def case_claim(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    case = _case(reference)
    try:
        services.assign(case.pk, assignee=request.user, actor=request.user, claim=True)
    except services.CaseError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"You claimed {case.reference}.")
    url = reverse("diagnosis:case-detail", args=[case.reference])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@work_cases
def case_assign(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    if not access.can_assign(request.user):
        raise PermissionDenied("Only team leads assign cases.")
    case = _case(reference)
    agents = get_user_model().objects.filter(groups__permissions__codename="work_cases").distinct()
    form = AssignForm(request.POST, agents=agents)
    if form.is_valid():
        try:
            services.assign(case.pk, assignee=form.cleaned_data["assignee"], actor=request.user)
        except services.CaseError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Assignment saved.")
    else:
        messages.error(request, "Choose an agent from the list.")
    return redirect("diagnosis:case-detail", reference=case.reference)


def _post_text(
    request: AuthenticatedHttpRequest, reference: str, form_class: type, action: str
) -> HttpResponse:
    case = _workable(request, reference)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            if action == "reply":
                services.send_reply(case.pk, text=form.cleaned_data["text"], actor=request.user)
                messages.success(request, "Reply sent to the customer.")
            else:
                services.add_note(case.pk, text=form.cleaned_data["text"], actor=request.user)
        except services.CaseError as exc:
            form.add_error("text", str(exc))
        else:
            return _after_change(request, case)
    key = "reply_form" if action == "reply" else "note_form"
    return _step_error(request, case, f"{action}-form", **{key: form})


@require_POST
@work_cases
def case_note(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    return _post_text(request, reference, NoteForm, "note")


@require_POST
@work_cases
def case_reply(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    return _post_text(request, reference, ReplyForm, "reply")


@require_safe
@permission_required(roles.REVIEW_TEAM, raise_exception=True)
def lead_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "diagnosis/lead_dashboard.html")

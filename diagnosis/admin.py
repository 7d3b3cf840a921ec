from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from diagnosis.cases import erasure, services
from diagnosis.guide import Result, get_guide
from diagnosis.models import (
    AnswerRecord,
    Case,
    Deflection,
    Escalation,
    Event,
    Message,
    OutboundEmail,
    Recipient,
    RejectedPayload,
    StatusCode,
    StatusReport,
    StatusSource,
    TestMessage,
)
from portal import roles
from portal.admin_labels import LABELLED_DATETIMES, LabelledInlineFormSet, LabelledInlineMixin
from portal.http import AuthenticatedHttpRequest
from portal.log_masking import TOKEN_MASK, TOKEN_PATH

# ModelAdmin and the inlines are generic only in django-stubs: at run time they cannot be subscripted.
if TYPE_CHECKING:
    _CaseAdmin = admin.ModelAdmin[Case]
    _ModelAdmin = admin.ModelAdmin[Any]
    _CaseTabularInline = admin.TabularInline[Any, Case]
    _CaseStackedInline = admin.StackedInline[Any, Case]
else:
    _CaseAdmin = _ModelAdmin = admin.ModelAdmin
    _CaseTabularInline = admin.TabularInline
    _CaseStackedInline = admin.StackedInline
from diagnosis.workspace.forms import StepForm


class NamedBlankFilter(admin.AllValuesFieldListFilter):
    """Lists a blank value (a case with no cause yet) by name: Django shows it as a link with no text."""

    def choices(self, changelist: Any) -> Any:
        for choice in super().choices(changelist):
            # Translators: the filter choice for cases whose cause is not known yet.
            yield {**choice, "display": choice["display"] or _("(none yet)")}


class ReadOnlyInline(_CaseTabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RecipientInline(LabelledInlineMixin, _CaseTabularInline):
    model = Recipient
    formset = LabelledInlineFormSet
    extra = 0
    readonly_fields = ["region", "number_type", "carrier"]


class MessageInline(LabelledInlineMixin, _CaseTabularInline):
    model = Message
    formset = LabelledInlineFormSet
    extra = 0


class TestMessageInline(ReadOnlyInline):
    model = TestMessage
    fields = ["msg_id", "recipient", "sent_by", "sent_at"]


class AnswerInline(ReadOnlyInline):
    model = AnswerRecord
    fields = ["node", "value", "evidence", "notes", "answered_by", "answered_at", "superseded_at"]


class EscalationInline(_CaseStackedInline):
    model = Escalation
    formfield_overrides = LABELLED_DATETIMES
    extra = 0
    can_delete = False
    readonly_fields = ["reason", "package", "opened_by", "opened_at"]


class EventInline(ReadOnlyInline):
    model = Event
    fields = ["at", "kind", "actor", "summary"]


@admin.register(Case)
class CaseAdmin(_CaseAdmin):
    list_display = ["reference", "state", "current_node", "assigned_to", "cause", "created_at"]
    list_filter = ["state", "guide_version", ("cause", NamedBlankFilter)]
    formfield_overrides = LABELLED_DATETIMES
    search_fields = ["reference", "recipients__e164", "messages__msg_id", "reporter_email"]
    list_select_related = ["assigned_to"]
    readonly_fields = [
        "reference",
        "state",
        "guide_version",
        "current_node",
        "outcome",
        "cause",
        "revision",
        "waiting_since",
        "wait_deadline",
        "created_at",
        "resolved_at",
    ]
    inlines = [RecipientInline, MessageInline, TestMessageInline, AnswerInline, EscalationInline, EventInline]

    def get_inlines(self, request: HttpRequest, obj: Case | None) -> list[Any]:
        # A case being added has no answers, tests or events: no empty read-only tables for them.
        inlines = super().get_inlines(request, obj)
        return list(inlines) if obj is not None else [i for i in inlines if not issubclass(i, ReadOnlyInline)]

    change_form_template = "admin/diagnosis/case/change_form.html"
    actions = ["erase_selected"]

    # Deleting: superusers only, and it erases first (erasure.delete_case). The events go
    # with their case, though the events' own admin never deletes one on its own.
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if request.user.is_superuser:
            perms_needed.discard(str(Event._meta.verbose_name))
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Case) -> None:
        erasure.delete_case(obj.pk, actor=_staff(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        with transaction.atomic():
            for pk in queryset.values_list("pk", flat=True):
                erasure.delete_case(pk, actor=_staff(request))

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(roles.REVIEW_TEAM))

    @admin.action(
        description=gettext_lazy("Erase the customer's personal data of the selected cases"),
        permissions=["erase"],
    )
    def erase_selected(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        with transaction.atomic():
            erased = sum(
                erasure.erase_case(pk, actor=_staff(request), reason=erasure.BY_REQUEST)
                for pk in queryset.values_list("pk", flat=True)
            )
        done = ngettext(
            "Personal data erased in %(n)d case; the others were erased before.",
            "Personal data erased in %(n)d cases; the others were erased before.",
            erased,
        )
        self.message_user(request, done % {"n": erased})

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Case], search_term: str
    ) -> tuple[QuerySet[Case], bool]:
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False

    def get_urls(self) -> list[URLPattern]:
        answer = path(
            "<int:case_id>/answer/",
            self.admin_site.admin_view(self.answer_view),
            name="diagnosis_case_answer",
        )
        return [answer, *super().get_urls()]

    def answer_view(self, request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
        """Answer the case's current step through the same form and service the agent pages use."""
        case = get_object_or_404(Case, pk=case_id)
        if not self.has_change_permission(request, case):
            raise PermissionDenied
        form = StepForm(request.POST or None, node=case.node)
        if request.method == "POST" and form.is_valid():
            try:
                services.answer_step(
                    case.pk,
                    node=case.current_node,
                    actor=request.user,
                    expected_revision=case.revision,
                    **form.cleaned_data,
                )
            except services.CaseError as exc:
                form.add_error(None, str(exc))
            except services.GuideError as exc:
                form.add_error("value", str(exc))
            else:
                messages.success(request, _("Answer recorded."))
                return HttpResponseRedirect(reverse("admin:diagnosis_case_change", args=[case.pk]))
        context = {
            **self.admin_site.each_context(request),
            "case": case,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/diagnosis/case/answer.html", context)


def _staff(request: HttpRequest) -> Any:
    """The signed-in admin user (the admin site lets no one else in)."""
    return request.user if request.user.is_authenticated else None


@admin.register(StatusReport)
class StatusReportAdmin(_ModelAdmin):
    list_display = ["msg_id", "status", "sequence", "channel", "origin", "updated_at", "received_at"]
    list_filter = ["channel", "origin", "parts_inconsistent"]
    search_fields = ["msg_id", "to_number", "status"]
    readonly_fields = ["dedupe_key", "raw"]
    formfield_overrides = LABELLED_DATETIMES


@admin.register(StatusCode)
class StatusCodeAdmin(_ModelAdmin):
    formfield_overrides = LABELLED_DATETIMES
    list_display = ["code", "match", "branch", "final", "documented", "summary"]
    list_filter = ["branch", "documented", "match"]
    search_fields = ["code", "summary"]


class EscalationOutcomeFilter(admin.SimpleListFilter):
    title = gettext_lazy("outcome")
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(n.cause, n.title) for n in get_guide().outcomes() if n.result is Result.ESCALATED]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(reason=self.value()) if self.value() else queryset


@admin.register(Escalation)
class EscalationAdmin(_ModelAdmin):
    formfield_overrides = LABELLED_DATETIMES
    list_display = ["case", "outcome_title", "opened_at", "sent_at", "provider_reference", "closed_at"]
    list_select_related = ["case"]
    list_filter = [EscalationOutcomeFilter]
    search_fields = ["case__reference", "provider_reference"]
    readonly_fields = ["case", "reason", "package", "opened_by", "opened_at"]

    @admin.display(description=gettext_lazy("Outcome"), ordering="reason")
    def outcome_title(self, obj: Escalation) -> str:
        return obj.title


@admin.register(Event)
class EventAdmin(_ModelAdmin):
    """History is append-only: visible, never editable."""

    list_display = ["at", "case", "kind", "actor", "summary"]
    list_filter = ["kind"]
    search_fields = ["case__reference", "summary"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StatusSourceForm(forms.ModelForm):  # type: ignore[type-arg]
    """The push secret is written, never shown: left empty, the stored one stays."""

    push_secret_key = forms.CharField(
        required=False,
        max_length=128,
        label=gettext_lazy("Push secret key"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy(
            "Push SK, when signing is on. Leave empty to keep the current one; "
            "clear the access key to switch signing off."
        ),
    )

    class Meta:
        model = StatusSource
        fields = ["name", "push_access_key", "push_secret_key", "revoked_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stored = self.instance.push_secret_key if self.instance.pk else ""
        if not data.get("push_access_key"):
            data["push_secret_key"] = ""
        elif not data.get("push_secret_key"):
            if not stored:
                self.add_error("push_secret_key", _("Give the secret key that goes with the access key."))
            data["push_secret_key"] = stored
        return data


@admin.register(StatusSource)
class StatusSourceAdmin(_ModelAdmin):
    formfield_overrides = LABELLED_DATETIMES
    """Configuration, so editable; the callback token (only its hash is kept) and the push
    secret are never shown."""

    form = StatusSourceForm
    list_display = ["name", "signs_pushes", "created_at", "revoked_at", "last_report_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name"]
    readonly_fields = ["created_at", "last_report_at"]

    @admin.display(boolean=True, description=gettext_lazy("Signed pushes"))
    def signs_pushes(self, obj: StatusSource) -> bool:
        return obj.signs_pushes

    def response_add(
        self, request: HttpRequest, obj: StatusSource, post_url_continue: str | None = None
    ) -> HttpResponse:
        """Show the callback address once, on this page: only its hash is stored, and a message
        would keep it in the session or a cookie."""
        context = {
            **self.admin_site.each_context(request),
            "source": obj,
            "url": settings.PORTAL_BASE_URL + obj.callback_path(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/diagnosis/statussource/created.html", context)


class ReadOnlyAdmin(_ModelAdmin):
    """Kept for inspection: what arrived or went out is evidence, not data to edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RejectedPayload)
class RejectedPayloadAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "source", "reason", "content_type", "remote_addr"]
    list_filter = ["source", ("received_at", admin.DateFieldListFilter)]
    list_select_related = ["source"]
    search_fields = ["reason", "body"]
    date_hierarchy = "received_at"


def _without_tokens(text: str) -> str:
    """Email text with the secret of every tracking link replaced: the link opens a
    customer's ticket, and the admin is no place to hand it on from."""
    return TOKEN_PATH.sub(lambda m: m.group(1) + TOKEN_MASK, text)


# The body is shown with tracking links masked, never as stored.
_EMAIL_FIELDS = (
    "case",
    "escalation",
    "to",
    "subject",
    "body_shown",
    "created_at",
    "status",
    "sent_at",
    "attempts",
    "last_error",
    "claimed_until",
)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "to", "subject", "status", "attempts", "error_start"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), ("last_error", admin.EmptyFieldListFilter)]
    list_select_related = ["case"]
    search_fields = ["to", "subject", "case__reference"]
    date_hierarchy = "created_at"
    fields = readonly_fields = _EMAIL_FIELDS

    @admin.display(description=gettext_lazy("Status"))
    def status(self, obj: OutboundEmail) -> str:
        if obj.sent_at is not None:
            return pgettext("email sending state", "Sent")
        if obj.claimed_until is not None and obj.claimed_until > timezone.now():
            return pgettext("email sending state", "Being sent")
        return (
            pgettext("email sending state", "Waiting for a retry")
            if obj.attempts
            else pgettext("email sending state", "Waiting")
        )

    @admin.display(description=gettext_lazy("Last error"))
    def error_start(self, obj: OutboundEmail) -> str:
        first_line = obj.last_error.strip().splitlines()[0] if obj.last_error.strip() else ""
        return first_line if len(first_line) <= 80 else first_line[:79] + "…"

    @admin.display(description=gettext_lazy("Body"))
    def body_shown(self, obj: OutboundEmail) -> str:
        return _without_tokens(obj.body)


def _check_label(node_id: str) -> str:
    """A phone check by its guide name and question; an id the guide no longer has, as stored."""
    guide = get_guide()
    if node_id not in guide:
        return node_id
    node = guide[node_id]
    return f"{node.ref} {node.title}"


class SolvedByFilter(admin.SimpleListFilter):
    title = gettext_lazy("solved by")
    parameter_name = "solved_by"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        checks = [n for n in get_guide().nodes if n.customer_question]
        return [(node.id, _check_label(node.id)) for node in checks]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(solved_by=self.value()) if self.value() else queryset


@admin.register(Deflection)
class DeflectionAdmin(ReadOnlyAdmin):
    """Counted by the team overview's trends: a record of what happened, not data to edit."""

    list_display = ["created_at", "msg_id", "solved_by_check"]
    list_filter = [SolvedByFilter]
    search_fields = ["msg_id"]
    date_hierarchy = "created_at"
    fields = readonly_fields = ("created_at", "msg_id", "solved_by_check")

    @admin.display(description=gettext_lazy("Solved by"), ordering="solved_by")
    def solved_by_check(self, obj: Deflection) -> str:
        return _check_label(obj.solved_by)

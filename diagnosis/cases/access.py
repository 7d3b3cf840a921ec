"""Who may do what with a case. Views ask these; services stay role-agnostic."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.db.models import Q, QuerySet

from diagnosis.models import Case, CaseState
from portal import roles


def can_assign(user: User) -> bool:
    return user.has_perm(roles.ASSIGN_CASES)


def can_erase(user: User) -> bool:
    """Erase a customer's personal data from a case: team leads (and admins) only."""
    return user.has_perm(roles.REVIEW_TEAM)


def can_work(user: User, case: Case) -> bool:
    """Answer steps, revise and reply until the case is closed: the assignee, or a lead."""
    return case.state != CaseState.CLOSED and (case.assigned_to_id == user.pk or can_assign(user))


def can_claim(user: User, case: Case) -> bool:
    return case.is_open() and case.assigned_to_id is None and user.has_perm(roles.WORK_CASES)


def works_cases() -> Q:
    """Users granted the permission to work cases, through a group or directly (one subquery each).

    Superusers are not counted for being superusers: their status bypasses permission
    checks, it does not put them on the team. Give them the permission to list them.
    """
    app_label, codename = roles.WORK_CASES.split(".")
    permission = Permission.objects.filter(codename=codename, content_type__app_label=app_label)
    user_model = get_user_model()
    by_group = user_model.groups.through.objects.filter(group__permissions__in=permission).values("user_id")
    direct = user_model.user_permissions.through.objects.filter(permission__in=permission).values("user_id")
    return Q(pk__in=by_group) | Q(pk__in=direct)


def agents() -> QuerySet[User]:
    """People a case can be assigned to: active users who work cases (see `works_cases`)."""
    return get_user_model().objects.filter(works_cases(), is_active=True).order_by("first_name", "username")

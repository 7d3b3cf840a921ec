"""Who may do what with a case. Views ask these; services stay role-agnostic."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet

from diagnosis.models import Case, CaseState
from portal import roles


def can_assign(user: User) -> bool:
    return user.has_perm(roles.ASSIGN_CASES)


def can_work(user: User, case: Case) -> bool:
    """Answer steps, revise and reply until the case is closed: the assignee, or a lead."""
    return case.state != CaseState.CLOSED and (case.assigned_to_id == user.pk or can_assign(user))


def can_claim(user: User, case: Case) -> bool:
    return case.is_open() and case.assigned_to_id is None and user.has_perm(roles.WORK_CASES)


def agents() -> QuerySet[User]:
    """People a case can be assigned to: everyone whose groups let them work cases."""
    return (
        get_user_model()
        .objects.filter(groups__permissions__codename="work_cases", is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )

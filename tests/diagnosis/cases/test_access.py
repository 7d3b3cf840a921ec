"""Who a case can be assigned to: one rule for the case page's assign form and the lead's reassign page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from diagnosis.cases import access
from diagnosis.models import Case
from portal import roles
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def work_cases_permission() -> Permission:
    app_label, codename = roles.WORK_CASES.split(".")
    return Permission.objects.get(codename=codename, content_type__app_label=app_label)


@pytest.fixture
def direct(db: None) -> User:
    """Works cases through a permission granted to the user, not through a group."""
    user = make_user("drew", first_name="Drew")
    user.user_permissions.add(work_cases_permission())
    return user


def test_agents_are_active_users_who_work_cases_through_a_group_or_directly(
    agent: User, lead: User, direct: User, outsider: User, admin_user: User
) -> None:
    left = make_user("quinn", roles.AGENTS_GROUP, first_name="Quinn", is_active=False)

    people = list(access.agents())

    assert people == [agent, direct, lead]  # by first name: Avery, Drew, Morgan
    # Being a superuser bypasses permission checks; it does not put someone on the team.
    assert outsider not in people and admin_user not in people and left not in people


def test_a_directly_granted_user_can_be_given_a_case_by_either_page(
    client: Client, lead: User, direct: User, make_case: Callable[..., Case]
) -> None:
    case = make_case()
    client.force_login(lead)

    case_page = client.get(f"/cases/{case.reference}/")
    reassign_page = client.get("/leads/reassign/", {"case": case.reference})

    option = f'<option value="{direct.pk}">'
    assert option in case_page.content.decode()
    assert option in reassign_page.content.decode()
    response = client.post(f"/cases/{case.reference}/assign/", {"assignee": direct.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == direct

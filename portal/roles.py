"""The portal's staff roles: group names and the permissions each one carries.

Views check permissions, never group names, so a superuser or a custom group
with the same permissions works too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from django.contrib.auth.models import Group

AGENTS_GROUP: Final = "Support agents"
LEADS_GROUP: Final = "Team leads"

WORK_CASES: Final = "portal.work_cases"
ASSIGN_CASES: Final = "portal.assign_cases"
REVIEW_TEAM: Final = "portal.review_team"

# codename lists, as the groups migration grants them
GROUP_PERMISSIONS: Final[dict[str, list[str]]] = {
    AGENTS_GROUP: ["work_cases"],
    LEADS_GROUP: ["work_cases", "assign_cases", "review_team"],
}


def ensure_role_groups() -> dict[str, Group]:
    """Create the role groups with their permissions if missing; returns them by name.

    Migration `portal.0002_create_roles` does this on every real database; this
    repeats it for databases emptied since (demo resets, transactional tests).
    """
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from portal.models import AccessRight

    content_type = ContentType.objects.get_for_model(AccessRight, for_concrete_model=False)
    names = dict(AccessRight._meta.permissions)
    groups = {}
    for group_name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = [
            Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": names[codename]}
            )[0]
            for codename in codenames
        ]
        group.permissions.add(*permissions)
        groups[group_name] = group
    return groups

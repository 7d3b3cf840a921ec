"""The main navigation, filtered by what the signed-in user may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal import roles


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    permission: str | None = None
    staff_only: bool = False


ITEMS: tuple[NavItem, ...] = (
    NavItem(_("Home"), "home"),
    NavItem(_("Case queue"), "diagnosis:case-list", permission=roles.WORK_CASES),
    NavItem(_("Team overview"), "diagnosis:lead-dashboard", permission=roles.REVIEW_TEAM),
    NavItem(_("Locked sign-ins"), "accounts:lockouts", permission=roles.REVIEW_TEAM),
    # Translators: the Django administration site, in the main navigation.
    NavItem(_("Admin"), "admin:index", staff_only=True),
    NavItem(_("Account security"), "accounts:security"),
)


def items_for(request: HttpRequest) -> list[dict[str, Any]]:
    user = request.user
    # Nothing to navigate to while the sign-in still owes a code (portal.accounts.mfa).
    if not user.is_authenticated or getattr(request, "mfa_step", None):
        return []
    visible = []
    for item in ITEMS:
        if item.permission and not user.has_perm(item.permission):
            continue
        if item.staff_only and not user.is_staff:
            continue
        url = reverse(item.url_name)
        current = request.path == url if url == "/" else request.path.startswith(url)
        visible.append({"label": item.label, "url": url, "current": current, "name": item.url_name})
    return visible


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: `nav_items` for the base template."""
    return {"nav_items": items_for(request)}

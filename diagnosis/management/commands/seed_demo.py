"""Demo data for development and trying the portal out. Refuses to run without DEBUG."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from diagnosis.cases.demo import seed_cases, seed_self_help_report
from portal import roles
from portal.env import env_secret

# username, first name, last name, group (None: superuser), description
DEMO_USERS = [
    ("agent", "Avery", "Lin", roles.AGENTS_GROUP, "support agent"),
    ("lead", "Morgan", "Diaz", roles.LEADS_GROUP, "team lead"),
    ("admin", "Sam", "Admin", None, "administrator (superuser)"),
]


def demo_password() -> str:
    """DEMO_PASSWORD if set; otherwise one generated password kept under var/.

    Keeping it makes the command idempotent: every run prints the same, working
    password instead of rotating it under a signed-in user.
    """
    password = env_secret("DEMO_PASSWORD")
    if password:
        return password
    path = Path(settings.VAR_DIR) / "demo-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Create or refresh the demo users (agent, lead, admin) and example cases. Development only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG=1: demo accounts must never reach production.")
        password = demo_password()
        with transaction.atomic():
            groups = roles.ensure_role_groups()
            for username, first, last, group_name, _ in DEMO_USERS:
                self._upsert_user(
                    username, first, last, groups.get(group_name) if group_name else None, password
                )
            created = seed_cases(User.objects.get(username="agent"))
            self_help_id = seed_self_help_report()
        if created:
            self.stdout.write(f"Created {created} example cases.")
        self.stdout.write("Demo logins:")
        for username, _, _, _, description in DEMO_USERS:
            self.stdout.write(f"  {username:<6} / {password}   {description}")
        if settings.STAFF_MFA_REQUIRED:
            self.stdout.write("Each demo user sets up an authenticator app at first sign-in.")
        self.stdout.write(
            f"To try the customer self-help, file a ticket with message id {self_help_id} "
            "(its status report says delivered)."
        )

    def _upsert_user(self, username: str, first: str, last: str, group: Group | None, password: str) -> None:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@example.com"
        user.is_staff = user.is_superuser = group is None
        user.set_password(password)
        user.save()
        user.groups.set([] if group is None else [group])

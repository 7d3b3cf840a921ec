"""`manage.py status_source create|list|revoke`: the secret callback addresses."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.utils import timezone

from diagnosis.models import StatusSource, new_tracking_token


class Command(BaseCommand):
    help = "Create, list or revoke status-report sources (each has its own secret callback URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a source and print its callback URL.")
        create.add_argument("name")
        create.add_argument("--push-ak", default="", help="Push AK, when push signing is on for the app")
        create.add_argument("--push-sk", default="", help="Push SK, when push signing is on for the app")
        sub.add_parser("list", help="List sources (their URLs were shown once, at creation).")
        rotate = sub.add_parser(
            "rotate", help="Give a source a new callback URL and print it; the old URL stops working."
        )
        rotate.add_argument("name")
        revoke = sub.add_parser("revoke", help="Stop accepting reports for a source.")
        revoke.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _url(self, source: StatusSource) -> str:
        return settings.PORTAL_BASE_URL + source.callback_path()

    def _create(self, options: dict[str, Any]) -> None:
        if bool(options["push_ak"]) != bool(options["push_sk"]):
            raise CommandError("Give both --push-ak and --push-sk, or neither.")
        try:
            source = StatusSource.objects.create(
                name=options["name"], push_access_key=options["push_ak"], push_secret_key=options["push_sk"]
            )
        except IntegrityError:
            raise CommandError(f"A source named {options['name']!r} already exists.") from None
        # The one time the URL can be shown: only the token's hash is stored.
        self.stdout.write(self._url(source))

    def _list(self, options: dict[str, Any]) -> None:
        for source in StatusSource.objects.all():
            state = "active" if source.is_active else f"revoked {source.revoked_at:%Y-%m-%d}"
            signed = "signed" if source.signs_pushes else "unsigned"
            self.stdout.write(f"{source.name}\t{state}\t{signed}\tcreated {source.created_at:%Y-%m-%d}")

    def _rotate(self, options: dict[str, Any]) -> None:
        """A new token for a source whose URL was lost or leaked: it cannot be shown again."""
        source = StatusSource.objects.filter(name=options["name"], revoked_at__isnull=True).first()
        if source is None:
            raise CommandError(f"No active source named {options['name']!r}.")
        source.token = new_tracking_token()
        source.save(update_fields=["token_hash"])
        self.stdout.write(self._url(source))

    def _revoke(self, options: dict[str, Any]) -> None:
        updated = StatusSource.objects.filter(name=options["name"], revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not updated:
            raise CommandError(f"No active source named {options['name']!r}.")
        self.stdout.write(f"Revoked {options['name']}.")

"""`manage.py erase_customer EMAIL|REFERENCE`: erase a customer's personal data (see cases.erasure)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from diagnosis.cases import erasure


class Command(BaseCommand):
    help = (
        "Replace a customer's personal data by placeholders in every case of an email address, "
        "or in one case by its reference. The cases stay, anonymised, for the trends."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", help="The customer's email address, or a case reference (SMS-XXXXXX)")
        parser.add_argument("--by", default="", help="Username recorded in the case history as who erased it")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["by"]:
            actor = get_user_model().objects.filter(username=options["by"]).first()
            if actor is None:
                raise CommandError(f"No user is called {options['by']!r}.")
        try:
            outcomes = erasure.erase_customer(options["target"], actor=actor)
        except erasure.ErasureError as exc:
            raise CommandError(str(exc)) from None
        for outcome in outcomes:
            state = "erased" if outcome.erased else "already erased, nothing changed"
            self.stdout.write(f"{outcome.reference}: {state}")

"""`manage.py guide export --format json|mermaid [--version V]`: print the troubleshooting guide."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diagnosis.guide import CURRENT_VERSION, GUIDES, get_guide
from diagnosis.guide.export import as_dict, as_mermaid


class Command(BaseCommand):
    help = "Work with the troubleshooting guide."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Print the guide as JSON or as a Mermaid flowchart.")
        export.add_argument("--format", choices=["json", "mermaid"], default="json")
        export.add_argument("--guide-version", default=CURRENT_VERSION, choices=sorted(GUIDES))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "export":  # pragma: no cover - argparse enforces the choice
            raise CommandError("unknown action")
        guide = get_guide(options["guide_version"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(as_dict(guide), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(as_mermaid(guide), ending="")

"""`manage.py sms_simulator`: run a local simulator of the Huawei SMS platform.

Point `SMS_API_URL` at it (e.g. `http://127.0.0.1:8001`) and use the same app key and secret;
accepted SMS get a status report pushed to their `statusCallback` after a delay.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from diagnosis.huawei.simulator import NO_REPORT, Rule, SimulatorServer, serve

DEMO_APP_KEY = "demo-app-key"
DEMO_APP_SECRET = "demo-app-secret"


class Command(BaseCommand):
    help = (
        "Run a local simulator of the Huawei Cloud SMS send APIs that pushes status reports to "
        "statusCallback. Rules PREFIX=STATUS[@DELAY] pick the report per recipient prefix "
        "(first match wins; STATUS 'none' pushes nothing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument(
            "--port", type=int, default=8001, help="Port to listen on (default 8001; 0 = any)."
        )
        parser.add_argument("--app-key", default="", help="App key to accept (default SMS_APP_KEY or demo).")
        parser.add_argument("--app-secret", default="", help="App secret (default SMS_APP_SECRET or demo).")
        parser.add_argument(
            "--status", default="DELIVRD", help="Report status when no rule matches ('none': no report)."
        )
        parser.add_argument("--delay", type=float, default=2.0, help="Seconds before a report (default 2).")
        parser.add_argument(
            "--rule",
            action="append",
            default=[],
            metavar="PREFIX=STATUS[@DELAY]",
            help="e.g. +99900=none, +4915=UNDELIV@5, +86=DELIVRD@0.5; repeatable, first match wins.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["delay"] < 0:
            raise CommandError("--delay must be zero or more seconds")
        try:
            rules = [Rule.parse(text, default_delay=options["delay"]) for text in options["rule"]]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        status = options["status"].strip()
        if not status:
            raise CommandError("--status must be a status code such as DELIVRD, or 'none'")
        default_status = None if status.lower() == NO_REPORT else status

        app_key = options["app_key"] or getattr(settings, "SMS_APP_KEY", "")
        app_secret = options["app_secret"] or getattr(settings, "SMS_APP_SECRET", "")
        if not app_key or not app_secret:
            app_key, app_secret = app_key or DEMO_APP_KEY, app_secret or DEMO_APP_SECRET
        shown_secret = app_secret if app_secret == DEMO_APP_SECRET else "(hidden)"

        def ready(server: SimulatorServer) -> None:
            self.stdout.write(f"SMS simulator listening on {server.url} (Ctrl-C to stop)")
            self.stdout.write(f"  SMS_API_URL={server.url}")
            self.stdout.write(f"  app key {app_key!r}, app secret {shown_secret}")
            for rule in rules:
                self.stdout.write(f"  rule {rule}")
            self.stdout.write(f"  otherwise {default_status or NO_REPORT} after {options['delay']:g}s")
            self.stdout.flush()

        try:
            serve(
                options["host"],
                options["port"],
                on_ready=ready,
                app_key=app_key,
                app_secret=app_secret,
                rules=rules,
                default_status=default_status,
                default_delay=options["delay"],
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        self.stdout.write("SMS simulator stopped.")

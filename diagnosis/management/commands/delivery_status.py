"""`manage.py delivery_status MSGID [--json]`: everything known about one message id.

Report fields the platform sends keep its names (`source`, `to`, `extend`, `sequence`,
`total`); what the portal adds has its own (`channel`: callback, import or manual).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from diagnosis.models import Case, StatusReport


class Command(BaseCommand):
    help = "Show the stored status reports and the cases of one smsMsgId."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("msg_id")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, *args: Any, **options: Any) -> None:
        msg_id = options["msg_id"].strip()
        reports = StatusReport.objects.filter(msg_id=msg_id).order_by("received_at")
        cases = Case.objects.filter(messages__msg_id=msg_id).distinct().order_by("created_at")
        data = {
            "sms_msg_id": msg_id,
            "reports": [
                {
                    # The platform's own field names, with the values as it sent them.
                    "status": r.status,
                    "source": r.origin or None,
                    "to": r.to_number or None,
                    "extend": r.extend or None,
                    "sequence": r.sequence,
                    "total": r.total,
                    # The portal's own: how the report reached it, and when.
                    "channel": r.channel,
                    "parts_inconsistent": r.parts_inconsistent,
                    "update_time": r.updated_at.isoformat() if r.updated_at else None,
                    "received_at": r.received_at.isoformat(),
                }
                for r in reports
            ],
            "cases": [
                {"reference": c.reference, "state": c.state, "current_node": c.current_node} for c in cases
            ],
        }
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2))
            return
        self.stdout.write(f"Message {msg_id}")
        for r in data["reports"]:
            self.stdout.write(f"  {r['status']:<10} via {r['channel']:<8} update {r['update_time'] or '-'}")
        if not data["reports"]:
            self.stdout.write("  no status report stored")
        for c in data["cases"]:
            self.stdout.write(f"  case {c['reference']} ({c['state']}, at {c['current_node']})")

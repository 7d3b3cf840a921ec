"""What delivery tells the rest of the portal, without depending on it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by the status-report callback once reports are stored (inside its transaction),
# with `result`: the `ingest.StoreResult`. The cases side matches them to waiting cases.
reports_received = Signal()

"""The embedded Celery broker (SQLite through kombu's SQLAlchemy transport), made ready once.

kombu creates the broker's tables the first time a process opens the file. The web
server, worker and beat of `make run` all start at once on a fresh `var/`, and two of
them creating the same table fail with "table kombu_message already exists". Each
process therefore opens the broker first under an exclusive file lock, in turn.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import TYPE_CHECKING, cast

from kombu import Connection

if TYPE_CHECKING:
    from kombu.transport import virtual

SQLITE_BROKER = "sqla+sqlite:///"


def is_embedded(url: str) -> bool:
    return url.startswith(SQLITE_BROKER)


def prepare(url: str, transport_options: dict[str, object], queue: str) -> None:
    """Create the broker's tables (and the default queue) unless they exist, one process at a time."""
    database = Path(url.removeprefix(SQLITE_BROKER))
    database.parent.mkdir(parents=True, exist_ok=True)
    with database.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with Connection(url, transport_options=transport_options) as connection:
            # The SQLAlchemy transport's channels are kombu's virtual channels, which declare queues.
            cast("virtual.Channel", connection.default_channel).queue_declare(queue=queue)

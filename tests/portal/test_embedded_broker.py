"""The embedded broker (no REDIS_URL) never hands a consumer half a message.

Producers and a consumer run as separate processes with the portal's own embedded
settings, as the web server, beat and worker of `make run` do. Large messages written
while the consumer polls are what a non-transactional broker gets wrong.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCERS = 3
PER_PRODUCER = 15
PAD = 20_000_000

SCRIPT = """
import json, sys, time
import django
django.setup()
from kombu import Queue
from portal.celery import app

mode, count, pad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
queue = Queue("embedded-broker-test")
with app.connection_for_write() as conn:
    if mode == "produce":
        producer = conn.Producer(serializer="json")
        for i in range(count):
            producer.publish({"i": i, "pad": "x" * pad}, routing_key=queue.name, declare=[queue])
    else:
        received, broken, deadline = 0, [], time.monotonic() + 180
        with conn.SimpleQueue(queue) as simple:
            while received + len(broken) < count and time.monotonic() < deadline:
                try:
                    message = simple.get(timeout=1)
                except simple.Empty:
                    continue
                except Exception as exc:
                    broken.append(repr(exc)[:200])
                    continue
                if len(message.payload.get("pad", "")) == pad:
                    received += 1
                else:
                    broken.append("short payload")
                message.ack()
        print(json.dumps({"received": received, "broken": broken}))
"""


def test_concurrent_producers_never_hand_the_consumer_half_a_message(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "1",
        "VAR_DIR": str(tmp_path),
        "ENV_FILE": "",
    }

    def run(mode: str, count: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", SCRIPT, mode, str(count), str(PAD)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    consumer = run("consume", PRODUCERS * PER_PRODUCER)
    producers = [run("produce", PER_PRODUCER) for _ in range(PRODUCERS)]
    for producer in producers:
        _, errors = producer.communicate(timeout=180)
        assert producer.returncode == 0, errors[-2000:]
    out, errors = consumer.communicate(timeout=240)
    assert consumer.returncode == 0, errors[-2000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"received": PRODUCERS * PER_PRODUCER, "broken": []}

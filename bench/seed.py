"""`python -m bench.seed --cases N --reports M [--reset]`: the command-line entry of `bench.seed_scale`.

`seed_scale` imports Django models at module level, so Django must be set up before it
is imported; this entry does that (production settings unless DJANGO_SETTINGS_MODULE says
otherwise) and then runs the seeder's argument parser.
"""

from __future__ import annotations

import os
import sys

import django


def run(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from bench import seed_scale

    return seed_scale.main(argv)


if __name__ == "__main__":
    sys.exit(run())

"""Settings for `make bench`: the production settings plus the baseline views and a query counter.

Everything else (DEBUG, database, Redis, security) comes from the environment exactly
as in production; `bench/run.py` sets that environment.
"""

from __future__ import annotations

from portal.settings import *  # noqa: F403
from portal.settings import BASE_DIR, MIDDLEWARE, TEMPLATES

ROOT_URLCONF = "bench.urls"
# Outermost, so every query of the request (session and user loads included) is counted.
MIDDLEWARE = ["bench.middleware.query_count", *MIDDLEWARE]
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]}]

from __future__ import annotations

# The diagnosis fixtures seed the cases the browser tests drive.
from tests.diagnosis.conftest import guide, make_case  # noqa: F401

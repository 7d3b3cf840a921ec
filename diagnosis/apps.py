from __future__ import annotations

from django.apps import AppConfig


class DiagnosisConfig(AppConfig):
    name = "diagnosis"
    verbose_name = "Diagnosis"

    def ready(self) -> None:
        # Signal receivers: the staff home page's panels, the language kept at sign-in and the
        # queue's cached tab counts.
        from diagnosis.cases import queue  # noqa: F401
        from diagnosis.workspace import home, language  # noqa: F401

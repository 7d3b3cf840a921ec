from __future__ import annotations

from django.apps import AppConfig


class DiagnosisConfig(AppConfig):
    name = "diagnosis"
    verbose_name = "Diagnosis"

    def ready(self) -> None:
        # Signal receivers: the staff home page's panel.
        from diagnosis.workspace import home  # noqa: F401

from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from django.conf import settings

        from portal import embedded_broker
        from portal.accounts import audit, mfa, sessions  # noqa: F401  (signal receivers)

        if embedded_broker.is_embedded(settings.CELERY_BROKER_URL):
            embedded_broker.prepare(
                settings.CELERY_BROKER_URL,
                settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery"),
            )

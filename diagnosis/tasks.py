"""Celery tasks: thin wrappers that take ids and call domain code."""

from __future__ import annotations

from celery import shared_task

from diagnosis import outbox


@shared_task(name="diagnosis.deliver_email", ignore_result=True)
def deliver_email(pk: int) -> None:
    outbox.deliver(pk)


@shared_task(name="diagnosis.deliver_pending_emails", ignore_result=True)
def deliver_pending_emails() -> None:
    outbox.deliver_pending()

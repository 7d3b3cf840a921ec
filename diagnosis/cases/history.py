"""A case's history: the one writer of `Event` rows, used by every transition.

The summary stored with an event is English and frozen; `describe` builds the sentence the
timeline shows in the reader's language at display time, from the event's kind and data
(or from the stored summary's parts, for rows written before their data said enough).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from diagnosis.delivery.stored_sentences import sentence, shown
from diagnosis.models import Case, CaseState, Event, EventKind

if TYPE_CHECKING:
    from diagnosis.guide import Guide

# Summaries whose values need no translation: stored in English, worded by `shown` (the
# writers use these; `describe` falls back to them). The kinds below build from data instead.
CASE_OPENED = sentence(gettext_noop("Case opened for %(numbers)s"))
REPORT_ARRIVED = sentence(gettext_noop("Report %(code)s arrived; the case resumes."))
TEST_SMS_SENT = sentence(gettext_noop("Test SMS sent to %(number)s; message id %(msg_id)s."))


def record(case: Case, kind: str, actor: User | None, summary: str, **data: Any) -> Event:
    """Append one event; the summary is cut to what the timeline shows, `data` keeps the rest."""
    return Event.objects.create(case=case, kind=kind, actor=actor, summary=summary[:300], data=data)


def _node(guide: Guide | None, node_id: object) -> Any:
    if guide is None or not isinstance(node_id, str) or node_id not in guide:
        return None
    return guide[node_id]


def _answer_label(node: Any, value: object) -> str | None:
    answer = node.answer(value) if isinstance(value, str) else None
    return str(answer.label) if answer is not None else None


def _answered(event: Event, guide: Guide | None) -> str | None:
    node = _node(guide, event.data.get("node"))
    label = _answer_label(node, event.data.get("value")) if node else None
    if node is None or label is None:
        return None
    return f"{node.ref} {node.title} → {label}"


def _revised(event: Event, guide: Guide | None) -> str | None:
    node = _node(guide, event.data.get("node"))
    label = _answer_label(node, event.data.get("value")) if node else None
    if node is None or label is None:
        match = re.match(
            r"^(?P<ref>\S+) revised to “(?P<answer>.*?)”(?:; (?P<n>\d+) later answers? set aside)?$",
            event.summary,
        )
        if not match:
            return None
        ref, label, count = match["ref"], match["answer"], int(match["n"] or 0)
    else:
        ref, count = node.ref, len(event.data.get("superseded") or [])
    if count:
        return ngettext(
            "%(ref)s revised to “%(answer)s”; %(n)d later answer set aside",
            "%(ref)s revised to “%(answer)s”; %(n)d later answers set aside",
            count,
        ) % {"ref": ref, "answer": label, "n": count}
    return _("%(ref)s revised to “%(answer)s”") % {"ref": ref, "answer": label}


def _state(event: Event, guide: Guide | None) -> str | None:
    try:
        previous, state = CaseState(event.data["previous"]), CaseState(event.data["state"])
    except (KeyError, ValueError):
        return None
    # Translators: a case's state change in its timeline, e.g. "In progress → Resolved".
    return _("%(previous)s → %(state)s") % {"previous": previous.label, "state": state.label}


def _assigned(event: Event, guide: Guide | None) -> str | None:
    match = re.match(r"^Assigned to (?P<name>.*)$", event.summary, re.S)
    if not match:
        return None
    if match["name"] == "nobody" and event.data.get("assignee") is None:
        return _("Assigned to nobody")
    return _("Assigned to %(name)s") % {"name": match["name"]}


def _wait_started(event: Event, guide: Guide | None) -> str | None:
    from diagnosis.cases import readable

    try:
        deadline = datetime.fromisoformat(str(event.data["deadline"]))
    except (KeyError, ValueError):
        return None
    return _("Waiting for a status report until %(time)s") % {"time": readable.time(deadline)}


def _escalated(event: Event, guide: Guide | None) -> str | None:
    match = re.match(r"^Escalated to the provider: (?P<title>.*)$", event.summary, re.S)
    if not match:
        return None
    node = _node(guide, event.data.get("outcome"))
    title = str(node.title) if node is not None else match["title"]
    return _("Escalated to the provider: %(title)s") % {"title": title}


def _outcome(event: Event, guide: Guide | None) -> str | None:
    node = _node(guide, event.data.get("outcome"))
    if node is not None:
        title = str(node.title)
    else:
        match = re.match(r"^Outcome: (?P<title>.*)$", event.summary, re.S)
        if not match:
            return None
        title = match["title"]
    return _("Outcome: %(title)s") % {"title": title}


# How the timeline words an erasure, by the reason stored (erasure.BY_REQUEST, BY_RETENTION).
_ERASURES = {
    "at the customer's request": gettext_lazy("Personal data erased (at the customer's request)"),
    "retention rule": gettext_lazy("Personal data erased (retention rule)"),
}


def _erased(event: Event, guide: Guide | None) -> str | None:
    match = re.match(r"^Personal data erased \((?P<reason>.*)\)$", event.summary, re.S)
    if not match:
        return None
    known = _ERASURES.get(match["reason"])
    if known is not None:
        return str(known)
    # Translators: the reason is a short phrase such as "retention rule".
    return _("Personal data erased (%(reason)s)") % {"reason": match["reason"]}


_FREE_TEXT = frozenset({EventKind.NOTE, EventKind.REPLY, EventKind.CUSTOMER_MESSAGE})
_DESCRIBERS: dict[str, Callable[[Event, Guide | None], str | None]] = {
    EventKind.STATE: _state,
    EventKind.ANSWERED: _answered,
    EventKind.REVISED: _revised,
    EventKind.ASSIGNED: _assigned,
    EventKind.WAIT_STARTED: _wait_started,
    EventKind.ESCALATED: _escalated,
    EventKind.OUTCOME: _outcome,
    EventKind.ERASED: _erased,
}


def describe(event: Event, guide: Guide | None = None) -> str:
    """The event's summary in the current language, built now from its kind and data.

    Free text (notes, replies, customer messages) is shown as written. Other summaries are
    stored sentences (`stored_sentences.shown`: a declared sentence, or a fixed msgid marked
    with gettext_noop where it is written); anything else is shown as stored.
    """
    if event.kind in _FREE_TEXT:
        return event.summary
    describer = _DESCRIBERS.get(event.kind)
    if describer is None:
        return shown(event.summary)[:300]
    try:
        text = describer(event, guide)
    except Exception:  # a display helper never breaks the timeline
        text = None
    return (text or shown(event.summary))[:300]

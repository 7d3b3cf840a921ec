"""The workspace in two languages: the proposed reply in the customer's, the page naming it,
and the stored (English) history and notifications shown in the reader's."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation
from django.utils.functional import lazy
from django.utils.html import escape

from diagnosis.cases import history, notifications
from diagnosis.delivery.stored_sentences import shown
from diagnosis.models import Case, EventKind, StaffNotification
from diagnosis.support import tickets
from diagnosis.workspace import views
from tests.diagnosis.conftest import route_to, walk_to


def _at_an_outcome(case: Case, agent: User) -> Case:
    """The case walked to an outcome whose customer text is the reply the page proposes."""
    guide = case.guide
    outcome = next(n for n in guide.outcomes() if n.customer_text and str(n.result) == "resolved")
    walk_to(case, route_to(guide, outcome.id), agent)
    case.refresh_from_db()
    return case


def test_the_proposed_reply_follows_the_customers_language(
    agent_client: Client, claimed: Case, agent: User
) -> None:
    case = _at_an_outcome(claimed, agent)
    Case.objects.filter(pk=case.pk).update(language="zh-hans")
    case.refresh_from_db()
    with translation.override("zh-hans"):
        expected = str(case.node.customer_text)

    # The agent's screen is in English; the reply is in the customer's language.
    content = agent_client.get(f"/cases/{case.reference}/?panels=all", HTTP_ACCEPT_LANGUAGE="en").content
    assert escape(expected) in content.decode()


def test_the_proposed_reply_is_rendered_under_the_case_language() -> None:
    """Whatever the catalogue holds: the node's text is read with the customer's language active."""
    language_now = lazy(lambda: translation.get_language(), str)()
    node = SimpleNamespace(customer_text=language_now)
    file: Any = SimpleNamespace(case=Case(language="zh-hans"), node=node)
    with translation.override("en"):
        assert views.proposed_reply(file) == "zh-hans"
        file.case.language = "en"
        assert views.proposed_reply(file) == "en"


def test_the_case_page_names_the_customers_language(agent_client: Client, claimed: Case) -> None:
    content = agent_client.get(f"/cases/{claimed.reference}/").content.decode()
    assert "Customer's language" in content and '<dd id="customer-language" lang="en">English</dd>' in content

    Case.objects.filter(pk=claimed.pk).update(language="zh-hans")
    content = agent_client.get(f"/cases/{claimed.reference}/").content.decode()
    assert '<dd id="customer-language" lang="zh-hans">简体中文</dd>' in content


def test_the_timeline_says_in_english_what_was_stored(claimed: Case, agent: User) -> None:
    """Built at display time, each summary reads in English exactly as the event stored it."""
    case = _at_an_outcome(claimed, agent)
    events = list(case.events.all())
    assert len(events) > 3
    with translation.override("en"):
        for event in events:
            assert history.describe(event, case.guide) == event.summary, event.kind


def test_the_timeline_says_in_chinese_what_was_stored_in_english(claimed: Case, agent: User) -> None:
    """Every event the walk and the wait write (those that are not free text) reads in Chinese."""
    case = _at_an_outcome(claimed, agent)
    history.record(case, EventKind.WAIT_ENDED, None, "72 hours passed without a status report.")
    history.record(case, EventKind.WAIT_ENDED, None, "A final report is already stored; the case resumes.")
    history.record(case, EventKind.ESCALATED, agent, "Customer service answered")
    cjk = re.compile(r"[\u4e00-\u9fff]")
    with translation.override("zh-hans"):
        for event in case.events.exclude(
            kind__in=[EventKind.NOTE, EventKind.REPLY, EventKind.CUSTOMER_MESSAGE]
        ):
            assert cjk.search(history.describe(event, case.guide)), (event.kind, event.summary)


def test_a_notification_is_shown_in_the_readers_language(claimed: Case, agent: User) -> None:
    notifications.tell_assignee(claimed.pk)
    notice = StaffNotification.objects.get(user=agent, case=claimed)
    assert notice.text == f"{claimed.reference} resumed: a status report arrived."
    with translation.override("en"):
        assert shown(notice.text) == notice.text
    with translation.override("zh-hans"):
        in_chinese = translation.gettext(notifications.RESUMED.msgid) % {"reference": claimed.reference}
        assert in_chinese != notice.text
        assert shown(notice.text) == in_chinese


def test_the_escalation_package_reads_in_the_agent_s_language_and_goes_out_in_english(
    agent_client: Client, claimed: Case, agent: User
) -> None:
    guide = claimed.guide
    walk_to(claimed, route_to(guide, "E_frequency_limit"), agent)
    first = guide[guide.start]
    question = str(first.title)
    with translation.override("zh-hans"):
        chinese_question = str(first.title)
    assert chinese_question != question

    page = agent_client.get(f"/cases/{claimed.reference}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    package = page.split('<pre class="package">', 1)[1].split("</pre>", 1)[0]
    assert escape(chinese_question) in package
    assert escape(question) not in package

    sent = claimed.emails.filter(escalation__isnull=False).get()
    # The provider reads the package in English.
    assert question in sent.body and chinese_question not in sent.body


def test_sentences_with_a_value_inside_read_as_one_sentence_in_chinese(
    agent_client: Client, claimed: Case
) -> None:
    # Each is one msgid with placeholders, so the translation can put the value where
    # Chinese wants it rather than where English left a gap.
    queue = agent_client.get("/cases/", {"tab": "all", "q": "state:new"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "显示符合筛选条件 <strong>state:new</strong> 的工单。" in queue.content.decode()

    page = agent_client.get(f"/cases/{claimed.reference}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    since = re.search(r'id="case-live-since" name="since" value="([^"]*)"', page)
    assert since
    tickets.add_customer_message(claimed.pk, "Still nothing arrived")
    poll = agent_client.get(
        f"/cases/{claimed.reference}/changes/",
        {"since": since.group(1)},
        headers={"HX-Request": "true", "X-Background-Poll": "1"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    with translation.override("zh-hans"):
        what = translation.gettext("the customer wrote")
    assert re.search(rf'更新于 <time datetime="[^"]+">\d\d:\d\d:\d\d</time>：{what}。', poll), poll

"""/cases/<reference>/: the page, the htmx step forms, revisions, notes, replies, access."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from diagnosis.cases import outbox, services
from diagnosis.models import Case, CaseState, EventKind, OutboundEmail
from diagnosis.workspace import views
from diagnosis.workspace.forms import status_code_choices
from tests.diagnosis.conftest import MSG_ID, route_to, store_report, walk_to


def test_case_page_shows_report_numbers_reports_path_and_timeline(
    agent_client: Client, claimed: Case, agent: User
) -> None:
    store_report(status="UNDELIV", origin="2")
    walk_to(claimed, [("report_returned", "report_present")], agent)

    response = agent_client.get(f"/cases/{claimed.reference}/?panels=all")

    content = response.content.decode()
    assert response.status_code == 200
    assert "Dana Customer" in content and "+4915123456789" in content and "DE · mobile" in content
    assert MSG_ID in content
    assert "UNDELIV" in content and "Status-report callback" in content and "SMS center (carrier)" in content
    assert "Path so far" in content and "Yes, a final report is there" in content
    assert "Is the report&#x27;s status DELIVRD?" in content
    assert "Suggested from stored reports" in content
    assert re.search(r'<input[^>]*value="number"[^>]*checked', content)  # the proposal is pre-selected
    assert "Case opened for +4915123456789" in content


def _region_of(content: str) -> str:
    """The id of the element an htmx answer starts with."""
    match = re.match(r'\s*<[a-z]+(?: class="[^"]*")? id="([^"]+)"', content)
    assert match, content[:200]
    return match.group(1)


def test_htmx_step_answers_with_the_next_step_and_a_case_changed_event(
    agent_client: Client, claimed: Case, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    store_report(status="UNDELIV")
    status_code_choices()  # the catalogue is read once per process, not per request
    # 15 of these come before anything is shown: session, user, two permission reads and the
    # case, then the locked transition (savepoints, answer, two events, answers read, case update).
    with django_assert_max_num_queries(20):
        response = agent_client.post(
            f"/cases/{claimed.reference}/step/",
            {"node": "report_returned", "value": "report_present", "notes": "on the console"},
            headers={"HX-Request": "true"},
        )

    content = response.content.decode()
    assert response.status_code == 200
    assert _region_of(content) == "step-panel"
    assert "Is the report&#x27;s status DELIVRD?" in content and "autofocus" in content
    assert json.loads(response["HX-Trigger"]) == {"case-changed": {"region": "step-panel"}}
    # Only the messages ride along; every other region refreshes itself on the event.
    assert content.count('hx-swap-oob="true"') == 1 and 'id="messages"' in content
    for region in ("case-header", "path-panel", "timeline", "note-form", "reply-form", "reports"):
        assert f'id="{region}"' not in content
    assert "<html" not in content
    claimed.refresh_from_db()
    assert claimed.current_node == "status_is_delivrd"


# Panels the page's first response leaves out; each fetches its part as soon as it is shown.
LAZY = {"conversation", "reports", "delivery-checks", "escalations", "timeline"}


def test_every_region_refreshes_itself_from_its_own_part_url(agent_client: Client, claimed: Case) -> None:
    page = agent_client.get(f"/cases/{claimed.reference}/").content.decode()
    whole = agent_client.get(f"/cases/{claimed.reference}/?panels=all").content.decode()

    for region in sorted(views.REGIONS):
        url = f"/cases/{claimed.reference}/part/{region}/"
        # portal.js sends case-region-stale to every region but the one that answered.
        refresh = f'id="{region}" data-case-region hx-get="{url}" hx-trigger="case-region-stale"'
        assert refresh in whole
        if region in LAZY:
            assert f'id="{region}" hx-get="{url}" hx-trigger="load"' in page and refresh not in page
        else:
            assert refresh in page
        part = agent_client.get(url, headers={"HX-Request": "true"})
        assert part.status_code == 200 and "HX-Request" in part["Vary"]
        assert _region_of(part.content.decode()) == region
        assert "<html" not in part.content.decode()


def test_the_first_response_carries_the_step_and_the_path_and_loads_the_rest(
    agent_client: Client, claimed: Case, agent: User
) -> None:
    store_report(status="UNDELIV")
    walk_to(claimed, [("report_returned", "report_present")], agent)
    services.revise_answer(claimed.pk, node="report_returned", value="report_present", actor=agent)
    htmx = {"HX-Request": "true"}

    page = agent_client.get(f"/cases/{claimed.reference}/").content.decode()

    assert "Is the report&#x27;s status DELIVRD?" in page and "Path so far" in page
    assert "report-table" not in page and "Case opened for" not in page and "Replaced answers" not in page
    lazy = {
        "reports": ("part/reports/", "report-table"),
        "timeline": ("part/timeline/", "Case opened for"),
        "replaced-answers": ("part/replaced-answers/", "Replaced answers"),
        "test-sms-panel": ("test-messages/", "No test SMS sent from this case yet."),
        "delivery-checks": ("part/delivery-checks/", "Record status"),
        "escalations": ("part/escalations/", ""),
    }
    for region, (path, shown) in lazy.items():
        url = f"/cases/{claimed.reference}/{path}"
        placeholder = _between(page, f'id="{region}" hx-get="{url}" hx-trigger="load"', "</section>")
        # A text while it loads, and a way to the whole page without JavaScript.
        assert 'role="status">Loading ' in placeholder
        assert f"/cases/{claimed.reference}/?panels=all#{region}" in placeholder
        part = agent_client.get(url, headers=htmx).content.decode()
        assert shown in part and f'id="{region}"' in part
        assert _region_of(part) == region


def test_a_refreshed_region_shows_the_change(agent_client: Client, claimed: Case, agent: User) -> None:
    url = f"/cases/{claimed.reference}/part/timeline/"
    htmx = {"HX-Request": "true"}
    assert "Customer called back" not in agent_client.get(url, headers=htmx).content.decode()

    services.add_note(claimed.pk, text="Customer called back", actor=agent)

    assert "Customer called back" in agent_client.get(url, headers=htmx).content.decode()


def test_the_step_region_alone_costs_few_queries(
    agent_client: Client, claimed: Case, agent: User, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    store_report(status="UNDELIV")
    walk_to(claimed, [("report_returned", "report_present")], agent)

    status_code_choices()
    # Session, user, two permission reads, the case; then messages, numbers, tests, reports and
    # their catalogue rows (the status codes offered for the answer are read once per process).
    with django_assert_max_num_queries(10):
        response = agent_client.get(
            f"/cases/{claimed.reference}/part/step-panel/", headers={"HX-Request": "true"}
        )

    assert "Suggested from stored reports" in response.content.decode()


def test_part_urls_know_only_the_regions_and_send_browsers_to_the_page(
    agent_client: Client, claimed: Case, outsider: User
) -> None:
    url = f"/cases/{claimed.reference}/part/timeline/"
    assert agent_client.get(f"/cases/{claimed.reference}/part/base/").status_code == 404
    assert agent_client.post(url, headers={"HX-Request": "true"}).status_code == 405
    plain = agent_client.get(url)
    assert plain.status_code == 302 and plain["Location"] == f"/cases/{claimed.reference}/"
    restore = agent_client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert restore.status_code == 302
    client = Client()
    anonymous = client.get(url, headers={"HX-Request": "true"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 403


def test_plain_post_redirects_back_to_the_page(agent_client: Client, claimed: Case) -> None:
    response = agent_client.post(
        f"/cases/{claimed.reference}/step/", {"node": "report_returned", "value": "no_report"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/cases/{claimed.reference}/#step"


def test_validation_errors_come_back_next_to_the_field(
    agent_client: Client, claimed: Case, agent: User
) -> None:
    missing = agent_client.post(
        f"/cases/{claimed.reference}/step/", {"node": "report_returned"}, headers={"HX-Request": "true"}
    )
    assert missing.status_code == 200
    assert "Choose an answer." in missing.content.decode()

    walk_to(claimed, [("report_returned", "report_present")], agent)
    mismatch = agent_client.post(
        f"/cases/{claimed.reference}/step/",
        {"node": "status_is_delivrd", "value": "delivered", "evidence": "LIMIT"},
        headers={"HX-Request": "true"},
    )
    content = mismatch.content.decode()
    assert "That status code points to" in content
    assert 'class="field field-invalid"' in content
    plain = agent_client.post(f"/cases/{claimed.reference}/step/", {"node": "status_is_delivrd"})
    assert plain.status_code == 200 and "<html" in plain.content.decode()
    claimed.refresh_from_db()
    assert claimed.current_node == "status_is_delivrd"


def test_a_stale_step_form_shows_the_current_step(agent_client: Client, claimed: Case, agent: User) -> None:
    walk_to(claimed, [("report_returned", "no_report")], agent)

    response = agent_client.post(
        f"/cases/{claimed.reference}/step/",
        {"node": "report_returned", "value": "report_present"},
        headers={"HX-Request": "true"},
    )

    content = response.content.decode()
    assert "The case moved on" in content and "Call the recipient" in content
    assert claimed.answers.count() == 1


def test_revision_shows_what_it_discards_then_does_it(
    agent_client: Client, claimed: Case, agent: User
) -> None:
    walk_to(claimed, [("report_returned", "report_present"), ("status_is_delivrd", "delivered")], agent)
    url = f"/cases/{claimed.reference}/revise/report_returned/"

    preview = agent_client.get(url, headers={"HX-Request": "true"})
    assert "sets aside 1 later step" in preview.content.decode()
    assert "C3 Is the report" in preview.content.decode()
    claimed.refresh_from_db()
    assert claimed.current_node == "junk_folder"  # nothing changed yet

    response = agent_client.post(url, {"value": "no_report"}, headers={"HX-Request": "true"})

    assert "Call the recipient" in response.content.decode()
    claimed.refresh_from_db()
    assert claimed.current_node == "dial_recipient"
    assert claimed.answers.filter(superseded_at__isnull=False).count() == 2


def _between(content: str, start: str, end: str) -> str:
    return content[content.index(start) : content.index(end, content.index(start))]


def test_revision_keeps_the_replaced_answers_visible_in_path_and_timeline(
    client: Client, claimed: Case, agent: User, lead: User
) -> None:
    store_report(status="DELIVRD")
    walk_to(
        claimed,
        [("report_returned", "report_present"), ("status_is_delivrd", "delivered"), ("junk_folder", "no")],
        agent,
    )
    client.force_login(lead)
    client.post(f"/cases/{claimed.reference}/revise/report_returned/", {"value": "no_report"})

    content = client.get(f"/cases/{claimed.reference}/?panels=all").content.decode()

    path = _between(content, 'id="path-panel"', "</section>")
    assert "Replaced answers" in path
    assert "Replaced by Morgan on <time" in path and "who changed C1 to “No final report yet”" in path
    for label in ("Yes, a final report is there", "Yes: DELIVRD", "No"):
        assert f'<del><span class="visually-hidden">Replaced: </span>{label}' in path
    assert "C3</span> Is the report&#x27;s status DELIVRD?" in path and "P1</span> Is the message" in path
    assert path.count("answered by Avery on <time") == 3
    timeline = _between(content, 'id="timeline"', "</section>")
    replaced = re.findall(r'<li class="event event-answered event-replaced">(.*?)</li>', timeline, re.S)
    assert len(replaced) == 3
    assert all("<del>" in entry and "Replaced by Morgan on" in entry for entry in replaced)
    assert '<li class="event event-revised">' in timeline  # the revision's own answer is live


def test_an_answer_revised_twice_names_each_reviser(
    client: Client, claimed: Case, agent: User, lead: User
) -> None:
    walk_to(claimed, [("report_returned", "report_present")], agent)
    services.revise_answer(claimed.pk, node="report_returned", value="no_report", actor=lead)
    services.revise_answer(claimed.pk, node="report_returned", value="report_present", actor=agent)
    client.force_login(agent)

    response = client.get(f"/cases/{claimed.reference}/?panels=all")

    groups = response.context["file"].set_aside
    assert [(g.revision.actor, g.new_label, [a.label for a in g.answers]) for g in groups] == [
        (lead, "No final report yet", ["Yes, a final report is there"]),
        (agent, "Yes, a final report is there", ["No final report yet"]),
    ]
    content = response.content.decode()
    assert "Replaced by Morgan on" in content and "Replaced by Avery on" in content
    timeline = _between(content, 'id="timeline"', "</section>")
    # Morgan's revision recorded an answer that Avery's revision then set aside.
    revised = re.findall(r'<li class="event event-revised( event-replaced)?">(.*?)</li>', timeline, re.S)
    assert [bool(marked) for marked, _ in revised] == [False, True]
    assert "Replaced by Avery on" in revised[1][1]


def test_revision_of_a_step_off_the_path_is_refused(agent_client: Client, claimed: Case) -> None:
    response = agent_client.get(f"/cases/{claimed.reference}/revise/junk_folder/", follow=True)
    assert "Only a step on the case" in response.content.decode()
    assert agent_client.get(f"/cases/{claimed.reference}/revise/wait_phone_off/").status_code == 403


def test_outcomes_show_reply_and_escalation_package(agent_client: Client, claimed: Case, agent: User) -> None:
    services.add_note(claimed.pk, text="<b>Called</b> & waited", actor=agent)
    walk_to(claimed, route_to(claimed.guide, "E_frequency_limit"), agent)

    content = agent_client.get(f"/cases/{claimed.reference}/").content.decode()

    assert "Package for customer service" in content
    # The page shows the package as the email gives it, HTML-escaped.
    package = _between(content, '<pre class="package">', "</pre>")
    assert "Recipient numbers: +4915123456789\nMessage ids (smsMsgId): " in package
    assert "  - N1 Did the message hit a sending-rate or quota limit? -> " in package
    assert "Agent notes:\n  - &lt;b&gt;Called&lt;/b&gt; &amp; waited\n" in package
    assert "limit on how many messages one number may receive" in content  # proposed customer reply


def test_waiting_shows_deadline_and_schedule(agent_client: Client, claimed: Case, agent: User) -> None:
    walk_to(claimed, [("report_returned", "no_report"), ("dial_recipient", "yes")], agent)

    content = agent_client.get(f"/cases/{claimed.reference}/").content.decode()

    assert (
        "Deadline" in content
        and "Next check" in content
        and "15 minutes, 1 hour, 4 hours and 12 hours" in content
    )


def test_reply_is_recorded_and_emailed(
    agent_client: Client, claimed: Case, django_capture_on_commit_callbacks
) -> None:
    response = agent_client.post(
        f"/cases/{claimed.reference}/reply/",
        {"text": "Please check the spam folder."},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    event = claimed.events.get(kind=EventKind.REPLY)
    assert event.data["text"] == "Please check the spam folder."
    email = OutboundEmail.objects.get(case=claimed)
    assert email.to == "dana@example.com" and email.sent_at is None
    assert outbox.deliver_pending() == 1
    assert mail.outbox[0].subject == f"Update on your SMS delivery case {claimed.reference}"
    assert "Please check the spam folder." in mail.outbox[0].body
    assert outbox.deliver_pending() == 0  # sent once


@pytest.mark.parametrize(("action", "text"), [("note", "   "), ("reply", "")])
def test_a_refused_note_or_reply_answers_in_its_own_region(
    agent_client: Client, claimed: Case, action: str, text: str
) -> None:
    response = agent_client.post(
        f"/cases/{claimed.reference}/{action}/", {"text": text}, headers={"HX-Request": "true"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert _region_of(content) == f"{action}-form"
    assert "This field is required." in content
    assert 'id="step-panel"' not in content and "HX-Trigger" not in response
    # The form sends its answer to that same region, not over the step.
    page = agent_client.get(f"/cases/{claimed.reference}/").content.decode()
    assert f'hx-post="/cases/{claimed.reference}/{action}/" hx-target="#{action}-form"' in page


def test_notes_go_to_the_timeline_and_empty_ones_are_refused(agent_client: Client, claimed: Case) -> None:
    empty = agent_client.post(f"/cases/{claimed.reference}/note/", {"text": "   "})
    assert empty.status_code == 200 and "This field is required." in empty.content.decode()
    assert "<html" in empty.content.decode()  # without JavaScript: the whole page, with the error

    response = agent_client.post(
        f"/cases/{claimed.reference}/note/", {"text": "Customer called back"}, headers={"HX-Request": "true"}
    )

    assert _region_of(response.content.decode()) == "note-form"
    assert json.loads(response["HX-Trigger"]) == {"case-changed": {"region": "note-form"}}
    assert claimed.events.filter(kind=EventKind.NOTE).count() == 1
    plain = agent_client.post(f"/cases/{claimed.reference}/note/", {"text": "And again"})
    assert plain.status_code == 302 and plain["Location"] == f"/cases/{claimed.reference}/#note-form"


def test_claim_from_the_case_page_answers_with_the_header(
    agent_client: Client, make_case: Callable[..., Case]
) -> None:
    case = make_case()

    response = agent_client.post(
        f"/cases/{case.reference}/claim/", headers={"HX-Request": "true", "HX-Target": "case-header"}
    )

    content = response.content.decode()
    assert _region_of(content) == "case-header"
    assert "Assigned to: <strong>Avery</strong>" in content and "Claim this case" not in content
    assert f"You claimed {case.reference}." in content  # the message, out of band
    assert json.loads(response["HX-Trigger"]) == {"case-changed": {"region": "case-header"}}


def test_lead_assigns_from_the_header(client: Client, claimed: Case, lead: User, other_agent: User) -> None:
    client.force_login(lead)
    htmx = {"HX-Request": "true", "HX-Target": "case-header"}

    response = client.post(f"/cases/{claimed.reference}/assign/", {"assignee": other_agent.pk}, headers=htmx)

    content = response.content.decode()
    assert _region_of(content) == "case-header" and "Assigned to: <strong>Blake</strong>" in content
    assert json.loads(response["HX-Trigger"]) == {"case-changed": {"region": "case-header"}}
    refused = client.post(f"/cases/{claimed.reference}/assign/", {"assignee": "nobody-here"}, headers=htmx)
    assert "Choose an agent from the list." in refused.content.decode()
    assert "HX-Trigger" not in refused


def test_lead_assigns_and_agent_cannot(
    client: Client, claimed: Case, lead: User, other_agent: User, agent: User
) -> None:
    client.force_login(agent)
    assert client.post(f"/cases/{claimed.reference}/assign/", {"assignee": other_agent.pk}).status_code == 403
    client.force_login(lead)
    response = client.post(f"/cases/{claimed.reference}/assign/", {"assignee": other_agent.pk})
    assert response.status_code == 302
    claimed.refresh_from_db()
    assert claimed.assigned_to == other_agent


def test_only_the_assignee_or_a_lead_works_the_case(
    client: Client, claimed: Case, other_agent: User, lead: User
) -> None:
    client.force_login(other_agent)
    assert (
        client.post(
            f"/cases/{claimed.reference}/step/", {"node": "report_returned", "value": "no_report"}
        ).status_code
        == 403
    )
    page = client.get(f"/cases/{claimed.reference}/").content.decode()
    assert "Only the assigned agent or a team lead" in page
    client.force_login(lead)
    assert (
        client.post(
            f"/cases/{claimed.reference}/step/", {"node": "report_returned", "value": "no_report"}
        ).status_code
        == 302
    )


@pytest.mark.parametrize(
    "suffix", ["", "step/", "revise/report_returned/", "claim/", "assign/", "note/", "reply/"]
)
def test_anonymous_and_outsiders_are_kept_out(
    client: Client, claimed: Case, outsider: User, suffix: str
) -> None:
    url = f"/cases/{claimed.reference}/{suffix}"
    anonymous = client.post(url) if suffix else client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    assert (client.post(url) if suffix else client.get(url)).status_code == 403


def test_unknown_reference_is_404_and_methods_are_checked(agent_client: Client, claimed: Case) -> None:
    assert agent_client.get("/cases/SMS-ZZZZZZ/").status_code == 404
    assert agent_client.get("/cases/not-a-ref/").status_code == 404
    assert agent_client.get(f"/cases/{claimed.reference}/step/").status_code == 405
    assert agent_client.post(f"/cases/{claimed.reference}/").status_code == 405


def test_case_page_query_count_is_constant(
    agent_client: Client, claimed: Case, agent: User, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    store_report(status="UNDELIV")
    walk_to(claimed, [("report_returned", "report_present")], agent)
    status_code_choices()  # the catalogue is read once per process, not in either count
    agent_client.get(f"/cases/{claimed.reference}/")  # the navigation's reply count, cached per agent
    with CaptureQueriesContext(connection) as small:
        agent_client.get(f"/cases/{claimed.reference}/")
    for i in range(40):
        services.add_note(claimed.pk, text=f"note {i}", actor=agent)
        store_report(status=f"MK:{i:04d}")
        # Each revision adds a superseded answer; the case stays at C3.
        services.revise_answer(claimed.pk, node="report_returned", value="report_present", actor=agent)
    # The count measured when this ceiling was set: a new query per page must be a choice.
    with django_assert_max_num_queries(11), CaptureQueriesContext(connection) as large:
        response = agent_client.get(f"/cases/{claimed.reference}/")

    assert response.context["file"].node.id == "status_is_delivrd"
    assert len(response.context["file"].superseded) == 40
    assert sum(len(group.answers) for group in response.context["file"].set_aside) == 40
    assert len(small) == len(large), [q["sql"] for q in large.captured_queries]


def _console_time(moment: datetime) -> str:
    """A window bound as the page shows it: rounded up to the minute, in the agent's time zone."""
    rounded = (moment + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return timezone.localtime(rounded).strftime("%Y-%m-%d %H:%M")


def test_case_page_prepares_the_console_search_until_a_final_report_is_stored(
    agent_client: Client, make_case: Callable[..., Case], agent: User
) -> None:
    case = make_case(number="+8613800138000", sent_ago=timedelta(days=5))
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)
    url = f"/cases/{case.reference}/?panels=all"

    content = agent_client.get(url).content.decode()

    helper = _between(content, 'id="console-search"', "</div>")
    assert "<code>13800138000</code>" in helper and "for +8613800138000" in helper
    assert case.sent_at is not None
    start, end = (
        _console_time(case.sent_at - timedelta(days=1)),
        _console_time(case.sent_at + timedelta(days=3)),
    )
    assert re.search(rf">{start}</time> to <time[^>]*>{end}</time>", helper)
    assert "Sent more than 90 days ago" not in helper
    assert content.index('id="console-search"') < content.index("Record status")  # above the form

    store_report(status="ACCEPTD")  # in-between status: still nothing final
    assert 'id="console-search"' in agent_client.get(url).content.decode()
    store_report(status="DELIVRD")
    assert 'id="console-search"' not in agent_client.get(url).content.decode()


def test_console_search_warns_when_the_send_is_older_than_the_console_keeps(
    agent_client: Client, make_case: Callable[..., Case], agent: User
) -> None:
    case = make_case(sent_ago=timedelta(days=100))
    services.assign(case.pk, assignee=agent, actor=agent, claim=True)

    content = agent_client.get(f"/cases/{case.reference}/?panels=all").content.decode()

    helper = _between(content, 'id="console-search"', "</div>")
    assert "Sent more than 90 days ago" in helper and "<code>4915123456789</code>" in helper
    assert "Sending time" not in helper  # nothing left in the console's reach


def test_case_page_query_count_is_constant_with_the_console_search(
    agent_client: Client, claimed: Case, agent: User, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    store_report(status="ACCEPTD")
    walk_to(claimed, [("report_returned", "no_report")], agent)
    status_code_choices()  # the catalogue is read once per process, not in either count
    agent_client.get(f"/cases/{claimed.reference}/")  # the navigation's reply count, cached per agent
    with CaptureQueriesContext(connection) as small:
        agent_client.get(f"/cases/{claimed.reference}/")
    for i in range(40):
        services.add_note(claimed.pk, text=f"note {i}", actor=agent)
        store_report(status="ACCEPTD", updated_at=timezone.now() - timedelta(minutes=i + 1))
        services.revise_answer(claimed.pk, node="report_returned", value="no_report", actor=agent)
    with django_assert_max_num_queries(11), CaptureQueriesContext(connection) as large:
        response = agent_client.get(f"/cases/{claimed.reference}/")

    assert response.context["file"].console_search is not None
    assert len(response.context["file"].reports) == 41
    assert len(small) == len(large), [q["sql"] for q in large.captured_queries]


def test_states_render(agent_client: Client, make_case: Callable[..., Case], agent: User) -> None:
    for outcome in ("R_inbox_full", "E_no_report_after_72h"):
        case = walk_to(make_case(), route_to(make_case().guide, outcome), agent)
        assert case.state in (CaseState.RESOLVED, CaseState.ESCALATED)
        assert agent_client.get(f"/cases/{case.reference}/").status_code == 200


def test_the_lead_s_assign_list_preselects_the_assignee_and_escapes_names(
    client: Client, claimed: Case, agent: User, lead: User, django_user_model: type[User]
) -> None:
    odd = django_user_model.objects.create_user("<b>odd</b>")
    odd.user_permissions.add(*agent.user_permissions.all())
    odd.groups.add(*agent.groups.all())
    client.force_login(lead)

    header = _between(
        client.get(f"/cases/{claimed.reference}/").content.decode(), 'id="case-header"', "</header>"
    )

    select = _between(header, '<select name="assignee" id="id_assignee">', "</select>")
    assert '<option value="">Nobody</option>' in select
    # Full names; the username only for someone without one.
    assert f'<option value="{agent.pk}" selected>Avery</option>' in select
    assert f'<option value="{odd.pk}">&lt;b&gt;odd&lt;/b&gt;</option>' in select


def test_answering_into_a_phone_check_reads_no_reports(
    agent_client: Client, claimed: Case, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    """The bench's step: C1 answered "no report" leads to a phone check, which no report decides."""
    store_report(status="ACCEPTD")
    with django_assert_max_num_queries(15), CaptureQueriesContext(connection) as queries:
        response = agent_client.post(
            f"/cases/{claimed.reference}/step/",
            {"node": "report_returned", "value": "no_report", "notes": ""},
            headers={"HX-Request": "true"},
        )

    assert response.status_code == 200 and _region_of(response.content.decode()) == "step-panel"
    claimed.refresh_from_db()
    assert claimed.current_node == "dial_recipient"
    assert not [q for q in queries.captured_queries if "diagnosis_statusreport" in q["sql"]]

"""Self-help on the ticket form follows the guide's own edges, exactly as the agent's answers would."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from diagnosis.cases import services
from diagnosis.guide import Answer, Guide, Kind, Node, Result, get_guide
from diagnosis.leads import trends
from diagnosis.models import Case, Deflection
from diagnosis.support import tickets
from tests.diagnosis.conftest import MSG_ID, proposal_for, route_to, store_report, ticket, walk_to

GUIDE = get_guide()
BUTTON_RE = re.compile(r'<button[^>]*name="selfhelp"[^>]*value="([^"]+)"[^>]*>([^<]*)</button>')


def phone_checks(guide: Guide) -> list[str]:
    """The checks after a DELIVRD report, read off the graph: C3 "delivered", then on through checks."""
    delivered = guide["status_is_delivrd"].answer("delivered")
    assert delivered is not None
    node: Node | None = guide[delivered.next]
    found: list[str] = []
    while node is not None and node.kind is Kind.CHECK:
        found.append(node.id)
        node = next((guide[a.next] for a in node.answers if guide[a.next].kind is Kind.CHECK), None)
    return found


PHONE_CHECKS = phone_checks(GUIDE)
EVERY_ANSWER = [(node, answer.value) for node in PHONE_CHECKS for answer in GUIDE[node].answers]


def buttons(page: str) -> dict[str, str]:
    """The self-help answer buttons on a page: label → submitted value."""
    return {html.unescape(label).strip(): value for value, label in BUTTON_RE.findall(page)}


def answered_before(node_id: str) -> dict[str, str]:
    """The customer's answers that lead to `node_id`, in the guide's order."""
    return {node: value for node, value in route_to(GUIDE, node_id) if node in PHONE_CHECKS}


def hidden(answers: dict[str, str]) -> dict[str, str]:
    return {f"sh_{node}": value for node, value in answers.items()}


def test_the_phone_checks_are_the_guides_p1_to_p5() -> None:
    assert [GUIDE[node].ref for node in PHONE_CHECKS] == ["P1", "P2", "P3", "P4", "P5"]
    assert [node.id for node in tickets.phone_checks(GUIDE)] == PHONE_CHECKS


@pytest.mark.django_db
@pytest.mark.parametrize(("node_id", "value"), EVERY_ANSWER)
def test_every_self_help_answer_follows_the_guides_edge(
    client: Client, agent: User, node_id: str, value: str
) -> None:
    store_report(MSG_ID, "DELIVRD")
    before = answered_before(node_id)
    check = GUIDE[node_id]
    chosen = check.answer(value)
    assert chosen is not None
    target = GUIDE[chosen.next]

    asked = client.post("/support/new/", ticket(msg_ids=MSG_ID, **hidden(before))).content.decode()
    assert html.escape(check.customer_question) in asked
    offered = buttons(asked)
    assert offered == {a.customer_label: f"{node_id}:{a.value}" for a in check.answers}

    response = client.post(
        "/support/new/",
        ticket(msg_ids=MSG_ID, selfhelp=offered[chosen.customer_label], **hidden(before)),
    )
    page = response.content.decode()

    solved = target.kind is Kind.OUTCOME and target.result is Result.RESOLVED
    assert response.status_code == 200
    assert ("You do not need to file a ticket" in page) == solved
    assert list(Deflection.objects.values_list("solved_by", flat=True)) == ([node_id] if solved else [])
    if solved:
        assert html.escape(target.customer_text) in page
    if target.kind is Kind.CHECK:
        assert html.escape(target.customer_question) in page
        assert set(buttons(page).values()) == {f"{target.id}:{a.value}" for a in target.answers}
    else:
        assert buttons(page) == {}

    given = {**before, node_id: value}
    filed = client.post("/support/new/", ticket(msg_ids=MSG_ID, skip_selfhelp="1", **hidden(given)))
    assert filed.status_code == 302
    case = Case.objects.get()
    assert case.customer_answers == given

    # The agent reaches the same checks, is offered the customer's answers, and lands where they did.
    case = walk_to(case, [("report_returned", "report_present"), ("status_is_delivrd", "delivered")], agent)
    for node, answer in given.items():
        proposal = proposal_for(case)
        assert (proposal.node, proposal.value) == (node, answer)
        case = services.answer_step(case.pk, node=node, value=proposal.value, actor=agent)
    assert case.current_node == target.id


@pytest.mark.django_db
def test_signal_and_other_sms_fine_is_not_solved_and_goes_on_to_the_inbox(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")
    asked = client.post("/support/new/", ticket(msg_ids=MSG_ID, sh_junk_folder="no")).content.decode()

    response = client.post(
        "/support/new/",
        ticket(msg_ids=MSG_ID, sh_junk_folder="no", selfhelp=buttons(asked)["Yes, both are fine"]),
    )
    page = response.content.decode()

    assert "You do not need to file a ticket" not in page and "solved it" not in page
    assert not Deflection.objects.exists()
    assert html.escape(GUIDE["inbox_full"].customer_question) in page
    assert response.context["help"]["answers"] == {"junk_folder": "no", "signal": "yes"}


@pytest.mark.django_db
def test_no_signal_is_solved_and_counted_under_the_signal_check(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")
    asked = client.post("/support/new/", ticket(msg_ids=MSG_ID, sh_junk_folder="no")).content.decode()
    no_signal = next(value for label, value in buttons(asked).items() if label.startswith("No"))

    page = client.post(
        "/support/new/", ticket(msg_ids=MSG_ID, sh_junk_folder="no", selfhelp=no_signal)
    ).content.decode()

    assert html.escape(GUIDE["R_no_signal"].customer_text) in page
    deflections = trends.summarise(trends.Period.ending(7, timezone.now())).deflections
    assert [(row.key, row.label) for row in deflections.rows] == [("signal", GUIDE["signal"].title)]


@pytest.mark.django_db
def test_an_answer_for_another_step_or_not_in_the_guide_is_asked_again(client: Client) -> None:
    store_report(MSG_ID, "DELIVRD")
    for choice in ("restart:yes", "junk_folder:maybe", "junk_folder", "nonsense:yes"):
        response = client.post("/support/new/", ticket(msg_ids=MSG_ID, selfhelp=choice, sh_signal="yes"))

        assert response.status_code == 200
        assert html.escape(GUIDE["junk_folder"].customer_question) in response.content.decode()
        assert response.context["help"]["answers"] == {}
    assert not Deflection.objects.exists()


def test_a_phone_check_without_customer_wording_fails_validation() -> None:
    signal = GUIDE["signal"]
    unlabelled = dataclasses.replace(
        signal, answers=(dataclasses.replace(signal.answers[0], customer_label=""), *signal.answers[1:])
    )
    unasked = dataclasses.replace(signal, customer_question="")
    # A new phone check between P1 and P2 that nobody worded for customers.
    junk = GUIDE["junk_folder"]
    inserted = (
        dataclasses.replace(
            junk, answers=(junk.answers[0], dataclasses.replace(junk.answers[1], next="airplane"))
        ),
        Node(
            "airplane",
            Kind.CHECK,
            "P1b",
            "Airplane mode?",
            "Ask.",
            "Check.",
            answers=(Answer("no", "No", "signal"),),
        ),
    )

    for replaced in ({"signal": unlabelled}, {"signal": unasked}, {"junk_folder": inserted}):
        nodes: list[Node] = []
        for node in GUIDE.nodes:
            change = replaced.get(node.id, node)
            nodes.extend(change if isinstance(change, tuple) else (change,))
        changed = Guide(version="test", start=GUIDE.start, nodes=tuple(nodes))
        with pytest.raises(ValueError, match="phone check"):
            tickets.phone_checks(changed)

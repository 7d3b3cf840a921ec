"""The guide as data: complete, well formed, and exported in the documented shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command

from diagnosis.guide import GUIDES, Answer, Guide, Kind, Node, Result, get_guide
from diagnosis.guide.export import as_dict

CHECKS = {
    "C1": "report_returned",
    "C2": "dial_recipient",
    "C3": "status_is_delivrd",
    "N1": "frequency_limit",
    "N2": "number_dead",
    "N3": "ported_in",
    "N4": "iot_card",
    "N5": "virtual_carrier",
    "N6": "carrier_block",
    "N7": "carrier_blacklist",
    "P1": "junk_folder",
    "P2": "signal",
    "P3": "inbox_full",
    "P4": "other_phone",
    "P5": "restart",
}
RESOLVED = {
    "number_unreachable",
    "not_supported_iot",
    "carrier_block_removed",
    "blacklist_removed",
    "spam_filtered",
    "no_signal",
    "inbox_full",
    "handset_fault",
    "resolved_after_restart",
}
ESCALATED = {
    "no_report_after_72h",
    "frequency_limit",
    "ported_number",
    "virtual_carrier",
    "unexplained_failure",
    "persistent_after_phone_checks",
}
# Every edge of the source guide, as (from, to).
EDGES = {
    ("report_returned", "dial_recipient"),
    ("report_returned", "status_is_delivrd"),
    ("dial_recipient", "wait_phone_off"),
    ("dial_recipient", "wait_review_hold"),
    ("wait_phone_off", "status_is_delivrd"),
    ("wait_phone_off", "E_no_report_after_72h"),
    ("wait_review_hold", "status_is_delivrd"),
    ("wait_review_hold", "E_no_report_after_72h"),
    ("status_is_delivrd", "junk_folder"),
    ("status_is_delivrd", "frequency_limit"),
    ("frequency_limit", "E_frequency_limit"),
    ("number_dead", "R_number_unreachable"),
    ("ported_in", "E_ported_number"),
    ("iot_card", "R_not_supported_iot"),
    ("virtual_carrier", "E_virtual_carrier"),
    ("carrier_block", "R_carrier_block_removed"),
    ("carrier_blacklist", "R_blacklist_removed"),
    ("carrier_blacklist", "E_unexplained_failure"),
    ("junk_folder", "R_spam_filtered"),
    ("signal", "R_no_signal"),
    ("inbox_full", "R_inbox_full"),
    ("other_phone", "R_handset_fault"),
    ("restart", "R_resolved_after_restart"),
    ("restart", "E_persistent_after_phone_checks"),
}


def test_every_check_of_the_source_guide_is_present(guide: Guide) -> None:
    for ref, node_id in CHECKS.items():
        node = guide[node_id]
        assert (node.kind, node.ref) == (Kind.CHECK, ref)
        assert node.agent_text and node.customer_text and node.title


def test_every_outcome_is_present_with_its_result(guide: Guide) -> None:
    outcomes = {(n.result, n.cause) for n in guide.outcomes()}
    assert outcomes == {(Result.RESOLVED, c) for c in RESOLVED} | {(Result.ESCALATED, c) for c in ESCALATED}
    assert all(n.customer_text for n in guide.outcomes())


def test_both_waits_end_on_a_report_or_the_deadline(guide: Guide) -> None:
    waits = [n for n in guide.nodes if n.kind is Kind.WAIT]
    assert {n.ref for n in waits} == {"W1", "W2"}


def test_every_edge_of_the_source_guide_is_present(guide: Guide) -> None:
    edges = {(a, b) for a, _, b in guide.edges()}
    assert not EDGES - edges


def test_status_branch_picks_the_first_number_check(guide: Guide) -> None:
    c3 = guide["status_is_delivrd"]
    first = {branch: answer.next for answer in c3.answers for branch in answer.branches}
    assert first == {
        "delivered": "junk_folder",
        "frequency_limit": "frequency_limit",
        "number_invalid": "number_dead",
        "timeout": "number_dead",
        "not_supported": "iot_card",
        "carrier_block": "carrier_block",
        "request_error": "E_unexplained_failure",
        "unknown": "E_unexplained_failure",
        "pending": "E_unexplained_failure",
    }


def _node(node_id: str, kind: Kind = Kind.CHECK, answers: tuple[Answer, ...] = (), **kw: Any) -> Node:
    return Node(node_id, kind, "X", node_id, "agent", "customer", answers=answers, **kw)


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ((_node("a"),), "needs answers"),
        ((_node("a", answers=(Answer("x", "X", "nowhere"),)),), "unknown 'nowhere'"),
        (
            (_node("a", answers=(Answer("x", "X", "b"),)), _node("b", answers=(Answer("y", "Y", "a"),))),
            "cycle",
        ),
        (
            (
                _node("a", answers=(Answer("x", "X", "e"), Answer("x", "X2", "e"))),
                _node("e", Kind.OUTCOME, result=Result.RESOLVED, cause="c"),
            ),
            "duplicate answer",
        ),
        (
            (
                _node("a", answers=(Answer("x", "X", "e"),)),
                _node("e", Kind.OUTCOME, result=Result.RESOLVED, cause="c"),
                _node("z", Kind.OUTCOME, result=Result.RESOLVED, cause="z"),
            ),
            "unreachable",
        ),
        ((_node("a", answers=(Answer("x", "X", "e"),)), _node("e", Kind.OUTCOME)), "an outcome has"),
        (
            (
                _node("a", Kind.WAIT, answers=(Answer("x", "X", "e"),)),
                _node("e", Kind.OUTCOME, result=Result.RESOLVED, cause="c"),
            ),
            "a wait ends",
        ),
        (
            (
                _node("a", answers=(Answer("x", "X", "a2"),)),
                _node("a", Kind.OUTCOME, result=Result.RESOLVED, cause="c"),
            ),
            "duplicate node",
        ),
    ],
)
def test_malformed_guides_are_rejected(nodes: tuple[Node, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Guide(version="test", start="a", nodes=nodes)


def test_unknown_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown start"):
        Guide(
            version="test", start="nope", nodes=(_node("e", Kind.OUTCOME, result=Result.RESOLVED, cause="c"),)
        )


def test_unknown_version_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="no guide version '99'"):
        get_guide("99")


def test_export_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("guide", "export", "--format", "json")
    data = json.loads(capsys.readouterr().out)
    guide = get_guide()
    assert data["version"] == guide.version
    assert data["start"] == "report_returned"
    by_id = {n["id"]: n for n in data["nodes"]}
    assert set(by_id) == {n.id for n in guide.nodes}
    assert by_id["report_returned"]["kind"] == "check"
    assert {"value": "no_report", "label": "No final report yet", "next": "dial_recipient"} in by_id[
        "report_returned"
    ]["answers"]
    assert by_id["wait_phone_off"]["on"] == {
        "report": "status_is_delivrd",
        "deadline": "E_no_report_after_72h",
    }
    assert by_id["E_frequency_limit"]["result"] == "escalated"
    assert by_id["E_frequency_limit"]["cause"] == "frequency_limit"
    assert by_id["R_spam_filtered"]["result"] == "resolved"
    assert by_id["E_ported_number"]["details"][-1] == {
        "name": "ported_on",
        "label": "Porting date",
        "kind": "date",
        "required": True,
    }
    assert "details" not in by_id["E_frequency_limit"]
    for node in data["nodes"]:
        assert node["title"]
        assert node["kind"] in {"check", "wait", "outcome"}
    assert data == json.loads(json.dumps(as_dict(guide)))


def test_export_mermaid_draws_every_node_and_edge(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("guide", "export", "--format", "mermaid")
    out = capsys.readouterr().out
    guide = get_guide()
    assert out.startswith("flowchart TD\n")
    for node in guide.nodes:
        assert f"    {node.id}" in out
    for source, _, target in guide.edges():
        assert f"{source} -->|" in out and f"| {target}" in out
    assert '"' not in out.replace('{"', "").replace('"}', "").replace('(["', "").replace('"])', "").replace(
        '[["', ""
    ).replace('"]]', "").replace('|"', "").replace('"|', "")


def test_every_registered_version_is_valid() -> None:
    for version, guide in GUIDES.items():
        assert guide.version == version
        guide.validate()


def test_node_texts_are_english_data_shown_in_the_active_language() -> None:
    from django.utils import translation
    from django.utils.translation import gettext

    from diagnosis.guide import get_guide

    node = get_guide()["junk_folder"]
    texts = [node.title, node.agent_text, node.customer_text, node.customer_question]
    texts += [a.label for a in node.answers] + [a.customer_label for a in node.answers]
    english = [str.__str__(t) for t in texts]
    assert [str(t) for t in texts] == english  # English by default
    with translation.override("zh-hans"):
        assert [str(t) for t in texts] == [gettext(t) for t in english]
        assert f"{node.title}" == gettext(english[0])
        # As data (hashing, comparing, JSON) a text stays the English msgid.
        assert node.title == english[0]
    detail = get_guide()["E_ported_number"].details[0]
    with translation.override("zh-hans"):
        assert str(detail.label) == gettext(str.__str__(detail.label))

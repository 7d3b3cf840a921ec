"""The guide for machines (JSON) and for people (a Mermaid flowchart).

The guide's texts are lazy translations: both exports turn them into plain strings in the
active language (English unless a caller activates another), so json.dumps accepts them.
"""

from __future__ import annotations

from typing import Any

from diagnosis.guide.graph import Answer, Guide, Kind, Node


def as_dict(guide: Guide) -> dict[str, Any]:
    return {"version": guide.version, "start": guide.start, "nodes": [_node(n) for n in guide.nodes]}


def _node(node: Node) -> dict[str, Any]:
    data: dict[str, Any] = {"id": node.id, "kind": str(node.kind), "ref": node.ref, "title": str(node.title)}
    if node.kind is Kind.CHECK:
        data["answers"] = [_answer(a) for a in node.answers]
        if node.customer_question:
            data["customer_question"] = str(node.customer_question)
        if node.evidence:
            data["evidence"] = str(node.evidence)
    elif node.kind is Kind.WAIT:
        data["on"] = {a.value: a.next for a in node.answers}
    else:
        data["result"] = str(node.result)
        data["cause"] = node.cause
        if node.details:
            data["details"] = [
                {"name": d.name, "label": str(d.label), "kind": str(d.kind), "required": d.required}
                for d in node.details
            ]
    data["agent_text"] = str(node.agent_text)
    data["customer_text"] = str(node.customer_text)
    return data


def _answer(answer: Answer) -> dict[str, str]:
    data = {"value": answer.value, "label": str(answer.label), "next": answer.next}
    if answer.customer_label:
        data["customer_label"] = str(answer.customer_label)
    return data


def as_mermaid(guide: Guide) -> str:
    lines = ["flowchart TD"]
    for node in guide.nodes:
        label = _escape(f"{node.ref} {node.title}")
        shape = {Kind.CHECK: '{{"{}"}}', Kind.WAIT: '(["{}"])', Kind.OUTCOME: '[["{}"]]'}[node.kind]
        lines.append(f"    {node.id}{shape.format(label)}")
    for node in guide.nodes:
        for answer in node.answers:
            lines.append(f'    {node.id} -->|"{_escape(str(answer.label))}"| {answer.next}')
    lines.append("    classDef resolved fill:#e6f4ea,stroke:#2e7d32")
    lines.append("    classDef escalated fill:#fdecea,stroke:#c62828")
    for node in guide.outcomes():
        lines.append(f"    class {node.id} {node.result}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return str(text).replace('"', "#quot;")

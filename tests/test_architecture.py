"""The floor plan, checked: no import cycle, and the dependency rules between the parts.

The imports are read from the source with `ast` (every `import`, wherever it is in a
module, `TYPE_CHECKING` blocks included), so an import moved into a function to dodge
a cycle still counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "diagnosis", "bench")
SUBPACKAGES = ("guide", "delivery", "cases", "workspace", "support", "leads", "huawei")


def module_files() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports (`from package import name` counts as the submodule)."""
    targets: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(_known_prefix(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                targets.add(submodule if submodule in modules else _known_prefix(node.module, modules))
    return {target for target in targets if target is not None}


def _known_prefix(name: str, modules: set[str]) -> str | None:
    """`name` or the longest package above it that is a project module (None for other libraries)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    names = set(files)
    return {name: imports_of(path, names) - {name} for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return iter(found)


GRAPH = import_graph()


def edges_from(prefix: str) -> set[tuple[str, str]]:
    return {
        (source, target)
        for source, targets in GRAPH.items()
        if source == prefix or source.startswith(prefix + ".")
        for target in targets
    }


def test_the_graph_is_read() -> None:
    # A sanity check, so the rules below cannot pass by reading nothing.
    assert "diagnosis.cases.services" in GRAPH
    assert "diagnosis.guide.engine" in GRAPH["diagnosis.cases.services"]


def test_no_import_cycle() -> None:
    assert list(cycles(GRAPH)) == []


def test_the_cycle_check_finds_one() -> None:
    assert list(cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})) == [["a", "b", "c"]]


def parts(*names: str) -> tuple[str, ...]:
    return tuple(f"diagnosis.{name}" for name in names)


PAGES = ("workspace", "support", "leads")


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        # The project shell knows no app: it includes their URLs and tasks by name.
        ("portal", ("diagnosis",)),
        # The guide is pure: everything else builds on it.
        (
            "diagnosis.guide",
            parts(*(p for p in SUBPACKAGES if p != "guide"), "models", "admin", "tasks", "urls"),
        ),
        # Delivery announces stored reports; what cases do with them is not its business.
        ("diagnosis.delivery", parts("cases", *PAGES)),
        ("diagnosis.huawei", parts("cases", "delivery", *PAGES)),
        ("diagnosis.cases", parts(*PAGES)),
    ],
)
def test_dependency_rules(source: str, forbidden: tuple[str, ...]) -> None:
    broken = sorted(
        (module, target)
        for module, target in edges_from(source)
        if any(target == f or target.startswith(f + ".") for f in forbidden)
    )
    assert broken == []

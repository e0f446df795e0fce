"""The harness's and the worker's import graph has no circle but ``handles`` <-> ``remote`` (type-only).

Read from the source with ``ast``, nothing imported: every import counts, at module level or inside a
function (a lazy import still ties the two modules' design together), under ``TYPE_CHECKING`` too.
"""
from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PACKAGES = {"autograder": ROOT / "autograder", "gradeworker": ROOT / "course" / "gradeworker"}
ALLOWED = [{"autograder.handles", "autograder.remote"}]  # a remote object's type names the Submission it lives in


def _imports(package: str, path: Path) -> set[str]:
    """The modules of the two packages that ``path`` (module ``package.<stem>``) imports."""
    known = {f"{p}.{f.stem}" for p, folder in PACKAGES.items() for f in folder.glob("*.py")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package if node.level else (node.module or "")
            if node.level and node.module:
                base = f"{package}.{node.module}"
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found - {f"{package}.{path.stem}"}


def graph() -> dict[str, set[str]]:
    return {f"{package}.{f.stem}": _imports(package, f)
            for package, folder in PACKAGES.items() for f in sorted(folder.glob("*.py"))}


def circles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(component)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


def test_is_there_no_import_circle_but_handles_and_remote():
    edges = graph()
    assert "autograder.jobs" in edges["autograder.batch"] and edges["autograder.jobs"], "the graph was not read"
    assert [c for c in circles(edges) if c not in ALLOWED] == []


def test_does_the_check_find_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_does_the_worker_import_nothing_of_the_harness():
    assert not [m for name, deps in graph().items() if name.startswith("gradeworker.")
                for m in deps if m.startswith("autograder.")]

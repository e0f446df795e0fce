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


def _name(package: str, folder: Path, path: Path) -> str:
    parts = [package, *path.relative_to(folder).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of the two packages that ``module`` (read from ``path``) imports."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            base = ".".join(b for b in (base, node.module or "") if b)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found - {module}


def graph() -> dict[str, set[str]]:
    """Module -> the modules of the two packages it imports (packages inside them included)."""
    modules = {_name(p, folder, f): f for p, folder in PACKAGES.items() for f in sorted(folder.rglob("*.py"))}
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


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
    assert "gradeworker.toolbox.hw6_optimizers" in edges["gradeworker.toolbox"]  # packages inside are read too
    assert [c for c in circles(edges) if c not in ALLOWED] == []


def test_does_the_check_find_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_does_the_worker_import_nothing_of_the_harness():
    assert not [m for name, deps in graph().items() if name.startswith("gradeworker.")
                for m in deps if m.startswith("autograder.")]

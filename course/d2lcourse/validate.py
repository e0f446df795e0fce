"""``python -m d2lcourse validate NOTEBOOK``: the student's check before submitting.

Runs the notebook in a fresh kernel, skipping the cells tagged ``demo`` (training runs and plots),
and reports each graded part's public test: passed, failed (with the test's own message) or not
done yet. Then an *advisory* reading of the code: calls the assignment's contract forbids inside a
function (``torch.softmax`` inside ``softmax`` ...), read from ``forbidden.json`` beside the released
notebook or from the notebook's metadata. That reading only sees the text of your cells; the grader
watches the calls your function really makes while it runs (through helpers and aliases too), so a
clean reading is no promise, and the public tests are far fewer than the hidden graders.
"""
from __future__ import annotations

import ast
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

FORBIDDEN_FILE = "forbidden.json"
ADVISORY = ("advisory: read from your code's text, not from running it; the grader checks the calls your "
            "functions really make, so this list can miss some and is no promise of points")


@dataclass
class Part:
    """One graded part: its public test cell and what running it showed."""

    task: str
    points: float
    status: str = "not run"  # passed, failed, not done, not run
    detail: str = ""
    stderr: str = ""


@dataclass
class Report:
    parts: list[Part] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # advisory: forbidden calls found in the code's text
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.parts) and all(p.status == "passed" for p in self.parts)

    def render(self) -> str:
        lines = [f"{'PASS' if p.status == 'passed' else p.status.upper():>8}  {p.task} ({p.points:g} points)"
                 + (f": {p.detail}" if p.detail else "") for p in self.parts]
        for p in self.parts:
            if p.stderr:
                lines.append(f"    note: the public test of {p.task} printed on stderr (a warning to read):\n      "
                             + p.stderr.strip().replace("\n", "\n      "))
        if self.warnings:
            lines += ["", f"Forbidden calls ({ADVISORY}):"] + [f"  - {w}" for w in self.warnings]
        lines += [f"note: {n}" for n in self.notes]
        passed = sum(p.points for p in self.parts if p.status == "passed")
        lines += ["", f"Public tests: {sum(p.status == 'passed' for p in self.parts)} of {len(self.parts)} parts pass "
                      f"({passed:g} of {sum(p.points for p in self.parts):g} points if the hidden graders agree; "
                      "they check much more)."]
        return "\n".join(lines)


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_public_test(cell) -> bool:
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _is_demo(cell) -> bool:
    return "demo" in cell.get("metadata", {}).get("tags", [])


# ----- forbidden calls, read from the code's text ------------------------------------------------
def forbidden_names(notebook_path: Path, nb: dict) -> dict[str, list[str]] | None:
    """Per contract function, the calls the contract forbids: from the release's forbidden.json, else metadata."""
    beside = notebook_path.parent / FORBIDDEN_FILE
    if beside.is_file():
        try:
            return dict(json.loads(beside.read_text(encoding="utf-8")).get("forbidden", {}))
        except (OSError, ValueError, AttributeError):
            return None
    meta = nb.get("metadata", {}).get("d2lcourse", {}).get("forbidden")
    return dict(meta) if isinstance(meta, dict) else None


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _matches(used: str, forbidden: str) -> bool:
    """``torch.nn.functional.softmax`` matches ``F.softmax``; ``X.softmax`` matches ``Tensor.softmax``."""
    want = forbidden.split(".")
    got = used.split(".")
    if want[0] == "Tensor":  # a method: any object's attribute of that name
        return len(got) >= 2 and got[-1] == want[-1]
    if len(want) == 1:
        return got[-1] == want[0]
    aliases = {"F": {"F", "functional"}, "nn": {"nn"}, "torch": {"torch"}}
    return got[-1] == want[-1] and (len(got) >= 2 and got[-2] in aliases.get(want[-2], {want[-2]}) or
                                     want[-2] == "torch" and got[0] == "torch")


def _cells_code(nb: dict) -> list[tuple[int, ast.Module]]:
    out = []
    for index, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code" or _is_public_test(cell):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:  # IPython magics and shell lines are not Python
            out.append((index, ast.parse("\n".join(line for line in source.splitlines()
                                                    if not line.lstrip().startswith(("%", "!"))))))
        except SyntaxError:
            continue
    return out


def scan_forbidden(nb: dict, forbidden: dict[str, list[str]]) -> list[str]:
    """Each use of a forbidden name in the body of the function it is forbidden in (directly, or through a
    name bound to it elsewhere in the notebook: ``sm = torch.softmax``, ``from torch import softmax as sm``)."""
    cells = _cells_code(nb)
    aliases: dict[str, str] = {}  # a plain name -> the dotted name it stands for
    for _, tree in cells:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = _dotted(node.value) if isinstance(node.value, ast.Attribute) else None
                if value:
                    aliases[node.targets[0].id] = value
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found: list[str] = []
    for index, tree in cells:
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name not in forbidden:
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Attribute):
                    used = _dotted(inner)
                    shown = f"`{used}`"
                elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load) and inner.id in aliases:
                    used = aliases[inner.id]
                    shown = f"`{inner.id}` (= `{used}`)"
                else:
                    continue
                hits = [f for f in forbidden[node.name] if used and _matches(used, f)]
                if hits:
                    found.append(f"`{node.name}` uses {shown} (cell {index}, line {inner.lineno}): the "
                                 f"contract forbids {hits[0]} there; a call of it costs all of {node.name}'s points")
    return list(dict.fromkeys(found))


# ----- running the public tests --------------------------------------------------------------------
def run_public_tests(nb: dict, folder: Path, timeout: int = 600, kernel: str = "python3") -> list[Part]:
    """Run every non-demo cell in a fresh kernel (errors do not stop the run); read each public test's outputs."""
    import nbclient
    import nbformat
    notebook = nbformat.reads(json.dumps({**nb, "cells": [c for c in nb["cells"] if not _is_demo(c)]}), as_version=4)
    env_before = os.environ.get("TQDM_DISABLE")
    os.environ.setdefault("TQDM_DISABLE", "1")
    try:
        nbclient.NotebookClient(notebook, timeout=timeout, kernel_name=kernel, allow_errors=True,
                                resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("TQDM_DISABLE", None)
    parts = []
    for cell in notebook.cells:
        if not _is_public_test(cell):
            continue
        meta = _nbgrader(cell)
        part = Part(str(meta.get("grade_id", "?")).removeprefix("test_"), float(meta.get("points", 0)))
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        part.stderr = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")
        if not errors:
            part.status = "passed"
        elif errors[0].get("ename") == "NotImplementedError":
            part.status, part.detail = "not done", "NotImplementedError: the function is still the stub"
        else:
            part.status = "failed"
            part.detail = f"{errors[0].get('ename')}: {errors[0].get('evalue')}".strip()[:500]
        parts.append(part)
    return parts


def validate(path: Path, timeout: int = 600, run: bool = True) -> Report:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    report = Report()
    if run:
        report.parts = run_public_tests(nb, Path(path).resolve().parent, timeout=timeout)
    forbidden = forbidden_names(Path(path), nb)
    if forbidden is None:
        report.notes.append(f"no {FORBIDDEN_FILE} beside the notebook: the forbidden-call reading was skipped "
                            "(keep the notebook in the folder it was released in)")
    else:
        report.warnings = scan_forbidden(nb, forbidden)
    if run and not report.parts:
        report.notes.append("no public test cells found: is this a course notebook?")
    return report


def main(notebook: Path, timeout: int = 600) -> int:
    if not notebook.is_file():
        print(f"no such notebook: {notebook}", file=sys.stderr)
        return 2
    print(f"Running the public tests of {notebook} in a fresh kernel (demo cells skipped) ...", flush=True)
    report = validate(notebook, timeout=timeout)
    print(report.render())
    return 0 if report.ok and not report.warnings else 1

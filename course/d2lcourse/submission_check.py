"""``python -m d2lcourse validate NOTEBOOK``: the student's check of a submission before submitting it (the
staff's check of a whole assignment is ``autograder validate``, ``autograder/assignment_check.py``).

Runs the notebook's cells (all but those tagged ``demo``: training runs and plots) in one fresh Python
process and reports each graded part's public test with the verdict the cell itself prints
(``d2lcourse.publictest``): PASS, FAILED (the first failed assertion's got/expected and the mistake by
name where the test knows it), NOT DONE, or FORBIDDEN (a call the contract forbids, seen by the grader's
call monitor while the test ran the function: advisory, and never a pass). The toolbar's Validate runs the
same (``d2lcourse.nbvalidate``, set in the course's ``nbgrader_config.py``), so the three agree.

Under the verdicts, an *advisory* reading of the code's text: forbidden names used inside a function that the
public tests may not have reached (read from ``forbidden.json`` beside the released notebook or from the
notebook's metadata). The public tests are far fewer than the hidden graders: a pass is no promise of points.
"""
from __future__ import annotations

import ast
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .publictest import FAILED, FORBIDDEN, NOT_DONE, PASS

FORBIDDEN_FILE = "forbidden.json"
ADVISORY = ("advisory: read from your code's text, not from running it; the grader checks the calls your "
            "functions really make, so this list can miss some and is no promise of points")


@dataclass
class Part:
    """One graded part: its public test cell and the verdict it gave."""

    task: str
    points: float
    status: str = "NOT RUN"  # PASS, FAILED, NOT DONE, FORBIDDEN (publictest's), or NOT RUN
    detail: str = ""
    lines: list[str] = field(default_factory=list)  # under the verdict: got, the line, a traceback
    stderr: str = ""


@dataclass
class Findings:
    """What the check found: each graded part's public test, and the advisory reading of the code."""

    parts: list[Part] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # advisory: forbidden calls found in the code's text
    notes: list[str] = field(default_factory=list)  # about the notebook as a whole: said once

    @property
    def ok(self) -> bool:
        return bool(self.parts) and all(p.status == PASS for p in self.parts)

    def render(self) -> str:
        lines = []
        for p in self.parts:
            lines.append(f"{p.status:<9} {p.task} ({p.points:g} points)" + (f": {p.detail}" if p.detail else ""))
            lines += [f"          {line}" for line in p.lines]
            if p.stderr:
                lines.append("          it printed on stderr (a warning to read): "
                             + p.stderr.strip().replace("\n", "\n            "))
        flagged = {p.task for p in self.parts if p.status == FORBIDDEN}
        text_only = [w for w in self.warnings if w.split("`")[1:2] and w.split("`")[1] not in flagged]
        if text_only:
            lines += ["", f"Forbidden names in your code's text ({ADVISORY}):"] + [f"  - {w}" for w in text_only]
        lines += [f"note: {n}" for n in self.notes]
        passed = sum(p.points for p in self.parts if p.status == PASS)
        lines += ["", f"Public tests: {sum(p.status == PASS for p in self.parts)} of {len(self.parts)} parts pass "
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
# The notebook's cells run in one fresh Python process (``python -m d2lcourse.submission_check --child``), not in a
# Jupyter kernel: no kernel start, no ZeroMQ, no kernel's warnings; IPython's line magics are skipped.
def _code_cells(nb: dict) -> list[tuple[int, str]]:
    """(index in the notebook, source) of every code cell validate runs: all but the demo cells."""
    out = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code" and not _is_demo(cell):
            source = cell.get("source", "")
            out.append((index, "".join(source) if isinstance(source, list) else source))
    return out


def execute(nb: dict, folder: Path, timeout: int = 600) -> tuple[dict[int, list[dict]], dict[str, dict]]:
    """Run the notebook's non-demo code cells in a fresh process in ``folder``; errors do not stop the run.

    Returns each run cell's outputs (nbformat's stream and error outputs, by cell index) and the verdicts
    the public test cells gave (``publictest.Verdict.to_json``, by part).
    """
    import subprocess
    import tempfile
    cells = _code_cells(nb)
    with tempfile.TemporaryDirectory(prefix="d2l-validate-") as tmp:
        job, result = Path(tmp) / "cells.json", Path(tmp) / "outputs.json"
        job.write_text(json.dumps({"cells": cells, "timeout": timeout}), encoding="utf-8")
        env = {**os.environ, "MPLBACKEND": "Agg", "TQDM_DISABLE": os.environ.get("TQDM_DISABLE", "1"),
               "D2L_FORBIDDEN_DIR": str(folder)}
        done = subprocess.run([sys.executable, "-m", "d2lcourse.submission_check", "--child", str(job), str(result)],
                              cwd=folder, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout * max(1, len(cells)) + 60)
        if not result.is_file():
            raise RuntimeError(f"the notebook's process ended before it finished (exit {done.returncode}):\n"
                               + (done.stderr or done.stdout)[-2000:])
        data = json.loads(result.read_text(encoding="utf-8"))
    return {int(k): v for k, v in data["outputs"].items()}, data["verdicts"]


def _child(job: Path, result: Path) -> None:
    """In the fresh process: run each cell in one namespace, as a kernel would, and write what it printed."""
    import contextlib
    import io
    import linecache
    import signal
    import traceback
    spec = json.loads(job.read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    outputs: dict[int, list[dict]] = {}
    timeout = int(spec.get("timeout", 600))

    def too_long(*_):
        raise TimeoutError(f"the cell ran for more than {timeout} s")

    alarm = hasattr(signal, "setitimer")
    if alarm:
        signal.signal(signal.SIGALRM, too_long)
    _defer_dynamo()
    for index, source in spec["cells"]:
        filename = f"<cell {index + 1}>"
        # IPython's magics and shell lines are not Python: blank them, keeping the line numbers
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
        linecache.cache[filename] = (len(code), None, [line + "\n" for line in code.splitlines()], filename)
        out, err = io.StringIO(), io.StringIO()
        cell: list[dict] = []
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                if alarm:
                    signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    exec(compile(code, filename, "exec"), namespace)
                finally:
                    if alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as exc:  # noqa: BLE001  (a cell's error is its output, as in a kernel)
            render = getattr(exc, "_render_traceback_", None)
            if callable(render):
                lines = list(render())
            else:  # the traceback from the cell down: this runner's own frame left out
                below = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
                lines = [line.rstrip("\n") for chunk in traceback.format_exception(type(exc), exc, below)
                         for line in chunk.splitlines()]
            cell.append({"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc), "traceback": lines})
        for name, buffer in (("stdout", out), ("stderr", err)):
            if buffer.getvalue():
                cell.insert(0 if name == "stdout" else len(cell) - bool(cell and cell[-1]["output_type"] == "error"),
                            {"output_type": "stream", "name": name, "text": buffer.getvalue()})
        outputs[index] = cell
    verdicts = {}
    module = sys.modules.get("d2lcourse.publictest")
    if module is not None:
        verdicts = {part: v.to_json() for part, v in module.VERDICTS.items()}
    result.write_text(json.dumps({"outputs": outputs, "verdicts": verdicts}), encoding="utf-8")


def _defer_dynamo() -> None:
    """torch imported now (the notebook's first cell would), and its compiler kept off until a cell compiles: the
    first optimizer would otherwise import torch._dynamo (~2 s) for nothing (``gradeworker.lazydynamo``), and the
    first ``backward(gradient)`` sympy (``gradeworker.lazyshapes``)."""
    try:
        import torch  # noqa: F401

        from gradeworker import lazydynamo, lazyshapes
    except ImportError:  # no torch here: the notebook's cells say so themselves
        return
    lazydynamo.defer()
    lazyshapes.defer()


def run_public_tests(nb: dict, folder: Path, timeout: int = 600) -> list[Part]:
    """Run the notebook (demo cells skipped) and read each public test cell's verdict."""
    outputs, verdicts = execute(nb, folder, timeout=timeout)
    parts = []
    for index, cell in enumerate(nb.get("cells", [])):
        if not _is_public_test(cell):
            continue
        meta = _nbgrader(cell)
        part = Part(str(meta.get("grade_id", "?")).removeprefix("test_"), float(meta.get("points", 0)))
        cell_outputs = outputs.get(index, [])
        part.stderr = "".join(o.get("text", "") for o in cell_outputs if o.get("name") == "stderr")
        errors = [o for o in cell_outputs if o.get("output_type") == "error"]
        verdict = verdicts.get(part.task)
        if verdict is not None and (errors or verdict["status"] == PASS):
            part.status, part.detail, part.lines = verdict["status"], verdict["reason"], verdict["detail"]
        elif not errors:
            part.status = PASS
        elif errors[0].get("ename") == "NotImplementedError":
            part.status, part.detail = NOT_DONE, "still raises NotImplementedError: the function is still the stub"
        else:  # an error before the test's check began (a name the notebook never defined ...)
            part.status = FAILED
            part.detail = f"{errors[0].get('ename')}: {errors[0].get('evalue')}".strip()[:500]
        parts.append(part)
    return parts


def check_submission(path: Path, timeout: int = 600, run: bool = True) -> Findings:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    findings = Findings()
    if run:
        findings.parts = run_public_tests(nb, Path(path).resolve().parent, timeout=timeout)
    forbidden = forbidden_names(Path(path), nb)
    if forbidden is None:
        findings.notes.append(f"no {FORBIDDEN_FILE} beside the notebook: the forbidden-call reading was skipped "
                              "(keep the notebook in the folder it was released in)")
    else:
        findings.warnings = scan_forbidden(nb, forbidden)
    if run and not findings.parts:
        findings.notes.append("no public test cells found: is this a course notebook?")
    return findings


def main(notebook: Path, timeout: int = 600) -> int:
    if not notebook.is_file():
        print(f"no such notebook: {notebook}", file=sys.stderr)
        return 2
    print(f"Running {notebook} in a fresh Python process (demo cells skipped) ...", flush=True)
    findings = check_submission(notebook, timeout=timeout)
    print(findings.render())
    return 0 if findings.ok and not findings.warnings else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(main(Path(sys.argv[1])))

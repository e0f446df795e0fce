"""Helpers for the platform's own tests: build submissions the way students make them."""
from __future__ import annotations

import importlib.util
import json
import re
import textwrap
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
_SOLUTION = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)


class Wrong(NamedTuple):
    """A catalogued wrong implementation of one contract function."""

    task: str  # the contract function it replaces
    title: str  # the mistake, as a TA would name it
    source: str  # the student's cell
    mistake: str | None = None  # text the student's message must contain, where the graders can name it
    points: float | None = None  # the points the task keeps, where reviewed (one mistake costs only its share)


def assignment_ids() -> list[str]:
    return sorted(p.name for p in (ROOT / "source").iterdir() if (p / f"{p.name}.ipynb").is_file())


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def solution_cells(assignment_id: str) -> dict[str, str]:
    """Each solution cell of the source notebook as a student would have written it (markers removed)."""
    nb = load(ROOT / "source" / assignment_id / f"{assignment_id}.ipynb")
    out = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            out[meta["grade_id"]] = _SOLUTION.sub(r"\1", "".join(cell["source"]))
    return out


def fill(assignment_id: str, answers: dict[str, str], base: str = "release") -> dict:
    """The released notebook with the named solution cells replaced by ``answers`` (source text)."""
    nb = load(ROOT / base / assignment_id / f"{assignment_id}.ipynb")
    unknown = set(answers)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers and cell["metadata"]["nbgrader"].get("solution"):
            text = textwrap.dedent(answers[grade_id]).strip("\n") + "\n"
            cell["source"] = text.splitlines(keepends=True)
            unknown.discard(grade_id)
    if unknown:
        raise KeyError(f"no solution cell for {sorted(unknown)} in {assignment_id}")
    return nb


def write(nb: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def add_cell(nb: dict, source: str, after_grade_id: str | None = None, tags: list[str] | None = None) -> dict:
    """Insert a code cell a student added (after a given solution cell, or at the end)."""
    cell = {"cell_type": "code", "execution_count": None, "metadata": {"tags": tags} if tags else {},
            "outputs": [], "source": textwrap.dedent(source).strip("\n").splitlines(keepends=True)}
    index = len(nb["cells"])
    if after_grade_id:
        index = next(i + 1 for i, c in enumerate(nb["cells"])
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == after_grade_id)
    nb["cells"].insert(index, cell)
    return nb


def catalogue(assignment_id: str) -> list[Wrong]:
    """``WRONG`` from tests/catalogue/<id>.py (the catalogue of wrong implementations)."""
    path = ROOT / "tests" / "catalogue" / f"{assignment_id}.py"
    spec = importlib.util.spec_from_file_location(f"catalogue_{assignment_id}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"no catalogue at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.WRONG)


def wrong_answers(assignment_id: str, titles: list[str]) -> dict[str, str]:
    """The catalogue's wrong functions with these titles, as ``{task: source}`` for ``fill`` (one per task)."""
    by_title = {w.title: w for w in catalogue(assignment_id)}
    missing = [t for t in titles if t not in by_title]
    if missing:
        raise KeyError(f"not in tests/catalogue/{assignment_id}.py: {missing}; its titles: {sorted(by_title)}")
    answers: dict[str, str] = {}
    for title in titles:
        wrong = by_title[title]
        if wrong.task in answers:
            raise ValueError(f"two wrong answers for {wrong.task} ({title!r} and another): "
                             "a notebook has one cell per task")
        answers[wrong.task] = wrong.source
    return answers


def write_examples(assignment_id: str, notebooks: dict[str, dict]) -> list[Path]:
    """Write each notebook as tests/submissions/<id>/<name>.ipynb (the name without .ipynb); returns the paths."""
    folder = ROOT / "tests" / "submissions" / assignment_id
    return [write(nb, folder / f"{name.removesuffix('.ipynb')}.ipynb") for name, nb in notebooks.items()]


# What counts as a named mistake (benchmarks/named_rate.py and tests/test_catalogue.py count the same way).
FORBIDDEN = "which this exercise forbids"


def named_kind(result: object) -> str:
    """'named' (a failed check names a Likely mistake), 'forbidden' (the call monitor names the call) or ''."""
    failed = [t for t in getattr(result, "tests", []) if not t.passed and t.message is not None]
    forbidden = [FORBIDDEN in (t.message.comparison or "") for t in failed]
    # a forbidden call's message carries its call as the mistake too (messages.explain): counted apart
    if any(t.message.mistake and not f for t, f in zip(failed, forbidden)):
        return "named"
    return "forbidden" if any(forbidden) else ""

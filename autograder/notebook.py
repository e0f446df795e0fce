"""Load a submitted notebook as data: which code to run in the worker, and nothing else.

Grading never executes demo cells (tagged ``demo``) or the notebook's public test cells: it only
needs the definitions. A notebook that cannot be read raises ``NotebookError`` with a message a
student can act on; the caller turns it into a zero-score result, never a crash.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

SKIP_TAGS = frozenset({"demo"})  # cells that only demonstrate: training runs, plots
MAX_NOTEBOOK_BYTES = 50 << 20
_MAGIC = re.compile(r"^([%!].*)$")  # at column 0 only: an indented % may be a modulo


class NotebookError(Exception):
    """The submission is not a notebook we can read; the message says what to do."""


@dataclass(frozen=True)
class CodeCell:
    index: int  # 1-based position among all the notebook's cells, as a student would count them
    source: str


def _source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _strip_ipython(source: str) -> str | None:
    """Comment out line magics and shell escapes; drop cell magics (they change how a cell runs)."""
    if source.lstrip().startswith("%%"):
        return None
    return "\n".join(_MAGIC.sub(r"pass  # \1", line) for line in source.splitlines())


def is_graded_test_cell(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def read_notebook(path: Path) -> dict:
    if not path.is_file():
        raise NotebookError(f"{path} does not exist or is not a file")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is over {MAX_NOTEBOOK_BYTES >> 20} MB: clear the outputs "
                            "(Edit > Clear Outputs of All Cells), save and submit again")
    try:
        nb = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(f"{path.name} is not a text file: submit the .ipynb file JupyterLab saved") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{path.name} is not valid notebook JSON (line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}); the file may be truncated or edited outside Jupyter. Open it in "
                            "JupyterLab; if it will not open, restore it from File > Revert Notebook to "
                            "Checkpoint or copy your code into a fresh copy of the released notebook") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path.name} is JSON but not a notebook (no list of cells)")
    if nb.get("nbformat", 0) < 4:
        raise NotebookError(f"{path.name} uses notebook format {nb.get('nbformat')}; save it from JupyterLab "
                            "(format 4) and submit again")
    return nb


def code_to_run(nb: dict) -> list[CodeCell]:
    """The code cells grading runs, in order: everything but markdown, demos and public tests."""
    cells = []
    for index, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        if tags & SKIP_TAGS or is_graded_test_cell(cell):
            continue
        source = _strip_ipython(_source_text(cell))
        if source and source.strip():
            cells.append(CodeCell(index, source))
    return cells

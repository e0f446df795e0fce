"""A correct solution's public test cells print nothing on stderr.

nbgrader counts anything on stderr in an autograded cell as a failed test, and students read red text
as a failure: a warning raised by a public test's own code (say ``float()`` of a tensor that requires
grad) would cost every correct submission that part's points under ``nbgrader autograde``.
The source notebook (the solution) runs in a fresh kernel without its demo cells.
"""
from __future__ import annotations

import json

import pytest

from helpers import ROOT, assignment_ids


def _graded_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_do_the_public_tests_print_nothing_on_stderr_for_the_solution(assignment_id, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path / "no-data-here"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    source = json.loads((ROOT / "source" / assignment_id / f"{assignment_id}.ipynb").read_text(encoding="utf-8"))
    source["cells"] = [c for c in source["cells"] if "demo" not in c.get("metadata", {}).get("tags", [])]
    notebook = nbformat.reads(json.dumps(source), as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    noisy = {}
    for cell in notebook.cells:
        if _graded_test_cell(cell):
            err = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
            if err:
                noisy[cell.metadata.nbgrader.grade_id] = err
    assert not noisy, f"public test cells print on stderr (nbgrader scores that cell 0): {noisy}"

"""Each released notebook, filled with the solution, runs top to bottom in a fresh kernel, demos included.

Fashion-MNIST is made absent (an empty data root), so the demos run on the course's fallback data set,
as they would on a student's machine without the data; each must finish in under three minutes on a CPU.
"""
from __future__ import annotations

import json
import time

import pytest

from helpers import assignment_ids, fill, solution_cells

BUDGET_SECONDS = 180


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_does_the_released_notebook_run_top_to_bottom_with_the_solution(assignment_id, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path / "no-data-here"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    notebook = nbformat.reads(json.dumps(fill(assignment_id, solution_cells(assignment_id))), as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=BUDGET_SECONDS, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_SECONDS, f"{assignment_id} took {elapsed:.0f} s"
    outputs = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "public tests passed" in outputs

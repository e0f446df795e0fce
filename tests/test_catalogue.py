"""The graders catch every catalogued wrong implementation, and name the mistake where they can."""
from __future__ import annotations

import pytest

from conftest import load_module
from helpers import ROOT, assignment_ids, fill, solution_cells, write


def _cases():
    for assignment_id in assignment_ids():
        path = ROOT / "tests" / "catalogue" / f"{assignment_id}.py"
        if path.is_file():
            for wrong in load_module(path).WRONG:
                yield pytest.param(assignment_id, wrong, id=f"{assignment_id}-{wrong.task}-{wrong.title}")


@pytest.mark.parametrize("assignment_id, wrong", list(_cases()))
def test_is_the_wrong_implementation_caught(grade, tmp_path, assignment_id, wrong):
    answers = {**solution_cells(assignment_id), wrong.task: wrong.source}
    notebook = write(fill(assignment_id, answers), tmp_path / f"{wrong.task}.ipynb")
    result = grade(assignment_id, notebook, tasks=[wrong.task])
    assert not result.harness_errors, [t.detail for t in result.harness_errors]
    assert result.score < result.max_score, f"'{wrong.title}' got full marks for {wrong.task}"
    if wrong.points is not None:
        kept = sum(t.points for t in result.tests if t.task == wrong.task)
        assert kept == wrong.points, f"'{wrong.title}' keeps {kept:g} points of {wrong.task}, not {wrong.points:g}"
    if wrong.mistake:
        messages = [t.message.render() for t in result.tests if not t.passed]
        assert any(wrong.mistake in m for m in messages), \
            f"no message says {wrong.mistake!r}:\n" + "\n---\n".join(messages)

"""The example submissions kept in tests/submissions/<id>/ get exactly their reviewed scores."""
from __future__ import annotations

import json

import pytest

from helpers import ROOT, assignment_ids


def _cases():
    for assignment_id in assignment_ids():
        folder = ROOT / "tests" / "submissions" / assignment_id
        expected = json.loads((folder / "expected.json").read_text()) if (folder / "expected.json").is_file() else {}
        for notebook in sorted(folder.glob("*.ipynb")):
            yield pytest.param(assignment_id, notebook, expected.get(notebook.name),
                               id=f"{assignment_id}-{notebook.stem}")


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_does_every_assignment_have_example_submissions(assignment_id):
    folder = ROOT / "tests" / "submissions" / assignment_id
    names = {p.stem for p in folder.glob("*.ipynb")}
    assert {"correct_solution", "half_done"} <= names, f"missing examples in {folder}"
    assert any(n.startswith("cheat_") for n in names) and any(n.startswith("wrong_") for n in names)


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_does_no_cheat_outscore_its_honest_twin(assignment_id):
    """A cheat's "twin" (the same submission without the trick) gets at least the cheat's reviewed score."""
    path = ROOT / "tests" / "submissions" / assignment_id / "expected.json"
    expected = json.loads(path.read_text()) if path.is_file() else {}
    for name, entry in expected.items():
        if "twin" in entry:
            assert entry["twin"] in expected, f"{name}: its twin {entry['twin']} has no entry in {path}"
            twin = expected[entry["twin"]]["score"]
            assert entry["score"] <= twin, f"{name} ({entry['score']}) outscores its twin {entry['twin']} ({twin})"


@pytest.mark.parametrize("assignment_id, notebook, expected", list(_cases()))
def test_does_the_submission_get_its_reviewed_score(grade, assignment_id, notebook, expected):
    assert expected is not None, f"{notebook.name} has no entry in expected.json"
    result = grade(assignment_id, notebook)
    assert not result.harness_errors, [t.detail for t in result.harness_errors]
    report = "\n".join(f"{t.task}: {t.points:g}/{t.max_points:g} {t.name}\n{t.student_output()}" for t in result.tests)
    assert result.score == expected["score"], report
    for task, text in expected.get("messages", {}).items():
        messages = [t.message.render() for t in result.tests if t.task == task and not t.passed]
        assert any(text in m for m in messages), f"{task}: no message says {text!r}:\n{report}"

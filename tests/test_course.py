"""course.py: where things are, found by looking; no worker needed."""
from __future__ import annotations

import json

import pytest

from autograder.layout import ROOT_ENV, Course, UsageError, declared_task


def cell(grade_id: str, *, solution: bool, points: float | None = None) -> dict:
    meta = {"grade": not solution, "solution": solution, "grade_id": grade_id, "locked": not solution}
    if points is not None:
        meta["points"] = points
    return {"cell_type": "code", "metadata": {"nbgrader": meta}, "source": [], "outputs": []}


@pytest.fixture
def course(tmp_path, monkeypatch) -> Course:
    """A course with one assignment, hwx, whose parts are mlp (40 points) and MLP (60 points)."""
    monkeypatch.delenv(ROOT_ENV, raising=False)
    (tmp_path / "nbgrader_config.py").write_text("")
    source = tmp_path / "source" / "hwx"
    source.mkdir(parents=True)
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# hwx"]},
             cell("mlp", solution=True), cell("test_mlp", solution=False, points=40),
             cell("MLP", solution=True), cell("test_MLP", solution=False, points=60)]
    (source / "hwx.ipynb").write_text(json.dumps({"cells": cells, "nbformat": 4, "metadata": {}}))
    (tmp_path / "source" / "not_an_assignment").mkdir()  # no notebook of its name inside
    graders = tmp_path / "graders" / "hwx"
    graders.mkdir(parents=True)
    (graders / "__init__.py").write_text('FORBIDDEN = {"mlp": ["torch.relu"]}\n')
    (graders / "test_mlp.py").write_text("def test_a(): pass\n")
    (graders / "test_MLP_module.py").write_text('"""MLP."""\nTASK = "MLP"\n\ndef test_b(): pass\n')
    (graders / "checks.py").write_text("")
    return Course.find(tmp_path)


def test_is_the_course_found_from_a_folder_inside_it(course, monkeypatch):
    monkeypatch.chdir(course.root / "source" / "hwx")
    assert Course.find().root == course.root


def test_is_a_folder_without_a_course_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.delenv(ROOT_ENV, raising=False)
    with pytest.raises(UsageError, match="no course found"):
        Course.find(tmp_path)


def test_are_assignments_the_source_folders_with_their_notebook(course):
    assert course.assignment_ids() == ["hwx"]
    with pytest.raises(UsageError, match="unknown assignment 'hwy'; this course has: hwx"):
        course.assignment("hwy")


def test_are_tasks_and_points_read_from_the_autograded_cells(course):
    tasks = course.assignment("hwx").tasks
    assert [(t.name, t.cell_id, t.points) for t in tasks] == [("mlp", "test_mlp", 40.0), ("MLP", "test_MLP", 60.0)]


def test_do_grader_files_map_to_their_task_by_name_or_by_TASK(course):
    files = course.assignment("hwx").grader_files()
    assert {task: [p.name for p in paths] for task, paths in files.items()} == {
        "mlp": ["test_mlp.py"], "MLP": ["test_MLP_module.py"]}


def test_is_a_declared_task_read_without_importing(tmp_path):
    path = tmp_path / "test_x.py"
    path.write_text('import does_not_exist\nTASK = "X"\n')
    assert declared_task(path) == "X"
    path.write_text("def broken(:\n")
    assert declared_task(path) is None


def test_does_an_assignment_say_what_it_lacks(course):
    missing = course.assignment("hwx").missing()
    assert any("no reference" in m and "solutions/hwx.py" in m for m in missing)
    assert any("autograder release hwx" in m for m in missing)
    assert not any("no graders" in m for m in missing)
    (course.root / "graders" / "hwx" / "test_MLP_module.py").unlink()
    assert any(m.startswith("no graders for MLP (60 points)") for m in course.assignment("hwx").missing())


def test_are_forbidden_calls_read_from_the_graders_package(course):
    assert course.assignment("hwx").forbidden == {"mlp": ["torch.relu"]}

"""Every assignment, whatever its content: full marks for the source, zero for the release, points add up."""
from __future__ import annotations

import ast
import json
import re

import pytest

from autograder.assignment_check import point_problems
from helpers import ROOT, assignment_ids, load, solution_cells

IDS = assignment_ids()


def test_the_course_has_assignments():
    assert IDS, "no assignments found under source/"


@pytest.mark.parametrize("assignment_id", IDS)
def test_does_the_source_notebook_score_full_marks(graded, assignment_id):
    result = graded(assignment_id, "source")
    failed = [f"{t.task}: {t.name}: {t.student_output()}" for t in result.tests if not t.passed]
    assert result.score == result.max_score == 100, "\n".join(failed)


@pytest.mark.parametrize("assignment_id", IDS)
def test_does_the_release_score_zero_with_every_failure_naming_its_task(graded, assignment_id):
    result = graded(assignment_id, "release")
    assert result.score == 0, [t.name for t in result.tests if t.passed]
    assert not result.harness_errors, [t.detail for t in result.harness_errors]
    for t in result.tests:
        assert t.task in t.message.render(), f"{t.name}: the message does not name {t.task}"


@pytest.mark.parametrize("assignment_id", IDS)
def test_do_the_points_add_up(course, graded, assignment_id):
    tasks = course.assignment(assignment_id).tasks
    assert sum(t.points for t in tasks) == 100
    assert point_problems(graded(assignment_id, "source"), {t.name: t.points for t in tasks}) == []


@pytest.mark.parametrize("assignment_id", IDS)
def test_does_every_graded_part_have_graders_a_solution_cell_and_a_stub(course, assignment_id):
    assignment = course.assignment(assignment_id)
    solved = solution_cells(assignment_id)
    released = load(assignment.release_notebook)
    stubs = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in released["cells"]
             if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    files = assignment.grader_files()
    assert set(files) <= {t.name for t in assignment.tasks}, f"graders for unknown parts: {set(files)}"
    for task in assignment.tasks:
        assert files.get(task.name), f"no graders for {task.name}"
        assert task.name in solved, f"no solution cell with grade_id {task.name!r}"
        stub = stubs[task.name]
        assert "raise NotImplementedError()" in stub
        ast.parse(stub)  # the stub a student receives must at least be valid Python
    assert assignment.solution_file.is_file()


def _lines(nb: dict) -> set[str]:
    return {line.strip() for cell in nb["cells"] for line in "".join(cell["source"]).splitlines()}


@pytest.mark.parametrize("assignment_id", IDS)
def test_is_no_solution_text_in_the_release(assignment_id):
    release_text = (ROOT / "release" / assignment_id / f"{assignment_id}.ipynb").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in release_text and "END SOLUTION" not in release_text
    source = load(ROOT / "source" / assignment_id / f"{assignment_id}.ipynb")
    outside = {**source, "cells": [{**c, "source": re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "",
                                                         "".join(c["source"]), flags=re.S)} for c in source["cells"]]}
    # A solution line may appear in the release only where the source shows it too (a demo, the text).
    allowed, released = _lines(outside), _lines(json.loads(release_text))
    for task, body in solution_cells(assignment_id).items():
        leaked = [line.strip() for line in body.splitlines()
                  if len(line.strip()) > 12 and line.strip() in released and line.strip() not in allowed]
        assert not leaked, f"{task}: solution lines in the release: {leaked}"


@pytest.mark.parametrize("assignment_id", IDS)
def test_is_the_release_in_sync_with_the_source(course, assignment_id):
    pytest.importorskip("nbgrader")
    from autograder.release import release_in_sync
    ok, why = release_in_sync(course, assignment_id)
    assert ok, why


@pytest.mark.parametrize("assignment_id", IDS)
def test_are_there_at_least_three_catalogued_mistakes_per_function(course, assignment_id):
    from conftest import load_module
    path = ROOT / "tests" / "catalogue" / f"{assignment_id}.py"
    assert path.is_file(), f"no catalogue of wrong implementations at {path}"
    wrong = load_module(path).WRONG
    for task in course.assignment(assignment_id).tasks:
        assert sum(w.task == task.name for w in wrong) >= 3, f"fewer than three wrong {task.name}s catalogued"


def test_do_the_graders_report_through_expect_never_a_bare_assert():
    """Grading runs pytest with --assert=plain (no rewriting of every grader module at each fresh grading): a bare
    assert would fail with no message for the student, so graders say what they check through compare.expect."""
    bare = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in sorted((ROOT / "graders").rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Assert)]
    assert not bare, f"bare asserts in graders (use autograder.compare.expect): {bare}"

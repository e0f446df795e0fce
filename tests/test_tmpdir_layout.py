"""A correct submission's grade does not depend on where the grader's temporary folder is.

A TA on a cluster grades with a job-local ``TMPDIR`` (``/scratch/job42``), or one beside the course
checkout (``/tmp/course/main`` with ``TMPDIR=/tmp/course/tmp``). Inside the jail such a folder is either
missing from the read-only root or under a folder the jail made, as root, to hold a bind; a worker that
writes where its environment says (torch._dynamo's cache, made at its lazy import by the first optimizer)
failed there, and every later optimizer raised "Artifact of type=precompile already registered": hw2's
correct notebook scored 83. Here ``TMPDIR`` is a fresh folder inside the checkout, beside its ``.venv``, and
each assignment's correct example is graded once by a grader started under it.
"""
from __future__ import annotations

import json
import shutil
import tempfile

import pytest

from autograder.grade import grade_submission
from autograder.launcher import Launcher
from conftest import TEST_LIMITS
from helpers import ROOT, assignment_ids


@pytest.fixture(scope="module")
def beside_checkout():
    """A launcher whose fork server, work dirs and workers all start with TMPDIR inside the checkout."""
    folder = tempfile.mkdtemp(prefix=".tmpdir-test-", dir=ROOT)  # ignored by git (.gitignore)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TMPDIR", folder)
            patch.setattr(tempfile, "tempdir", folder)
            with Launcher(limits=TEST_LIMITS) as launcher:
                assert str(launcher.tmp).startswith(folder)
                yield launcher
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_is_the_correct_example_graded_alike_with_tmpdir_beside_the_checkout(course, beside_checkout,
                                                                              assignment_id):
    folder = ROOT / "tests" / "submissions" / assignment_id
    expected = json.loads((folder / "expected.json").read_text())["correct_solution.ipynb"]["score"]
    result = grade_submission(assignment_id, folder / "correct_solution.ipynb", course=course,
                              launcher=beside_checkout, device="cpu")
    assert not result.harness_errors, [t.detail for t in result.harness_errors]
    lost = [f"{t.task}: {t.points:g}/{t.max_points:g} {t.name}\n{t.student_output()}" for t in result.tests
            if not t.passed]
    assert result.score == expected, "\n".join(lost)

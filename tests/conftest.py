"""Fixtures for the platform's own tests: one course, one fork server, cached gradings."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from autograder.grade import grade_submission
from autograder.launcher import Launcher
from autograder.layout import Course
from autograder.provision import Limits
from helpers import ROOT

# Shorter waits than a real run: the hanging submissions under test finish sooner, correct code is unaffected.
# Training runs graded by training (hw7's open part) get 15 s instead of the assignment's 60 s on a CPU.
# Open parts scored on secretly transformed test images (autograder.integrity): one fixed seed here, so that every
# example submission's score is reproducible.
os.environ.setdefault("AUTOGRADER_SECRET_SEED", "7")
TEST_LIMITS = Limits(call_seconds=6.0, retry_seconds=1.0, cell_seconds=4.0, train_seconds=15.0)


@pytest.fixture(scope="session")
def course() -> Course:
    return Course.find(ROOT)


@pytest.fixture(scope="session")
def launcher():
    with Launcher(limits=TEST_LIMITS) as shared:
        yield shared


@pytest.fixture(scope="session")
def grade(course, launcher):
    """grade(assignment_id, notebook, **options) -> GradingResult, sharing one fork server."""
    def _grade(assignment_id: str, notebook: Path, **options):
        options.setdefault("device", "cpu")
        return grade_submission(assignment_id, notebook, course=course, launcher=launcher, **options)
    return _grade


@pytest.fixture(scope="session")
def graded(grade):
    """The source and release notebooks of each assignment, graded once per session."""
    cache: dict[tuple[str, str], object] = {}

    def _graded(assignment_id: str, which: str):
        key = (assignment_id, which)
        if key not in cache:
            cache[key] = grade(assignment_id, ROOT / which / assignment_id / f"{assignment_id}.ipynb")
        return cache[key]
    return _graded


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem.replace("-", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""`autograder new <id>`: a new assignment in its six places that validates and passes the platform's checks."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

NEW = "hw0_example"


def autograder(*args, cwd: Path):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A bare course beside this one: nbgrader's config, the graders' folder, the platform's tests; no assignments."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    (root / "graders").mkdir()
    shutil.copy(ROOT / "graders" / "pytest.ini", root / "graders")
    (root / "tests").mkdir()
    for path in (ROOT / "tests").glob("*.py"):
        shutil.copy(path, root / "tests")
    return root


@pytest.fixture(scope="module")
def scaffolded(course) -> Path:
    pytest.importorskip("nbgrader")
    done = autograder("new", NEW, "--course-root", course, cwd=course)
    assert done.returncode == 0, done.stderr
    return course


def test_does_new_write_the_six_places_and_the_contract(scaffolded):
    for path in [f"source/{NEW}/{NEW}.ipynb", f"release/{NEW}/{NEW}.ipynb", f"graders/{NEW}/__init__.py",
                 f"graders/{NEW}/test_double.py", f"solutions/{NEW}.py", f"tests/catalogue/{NEW}.py",
                 f"tests/submissions/{NEW}/make_submissions.py", f"tests/submissions/{NEW}/expected.json",
                 f"tests/submissions/{NEW}/correct_solution.ipynb", f"docs/contract/{NEW}.md"]:
        assert (scaffolded / path).is_file(), f"autograder new wrote no {path}"
    names = {p.stem for p in (scaffolded / "tests" / "submissions" / NEW).glob("*.ipynb")}
    assert {"correct_solution", "correct_alternative", "correct_alternative_add", "half_done",
            "wrong_known_mistakes", "cheat_import_reference"} <= names


def test_does_new_refuse_an_existing_or_a_bad_id(scaffolded):
    again = autograder("new", NEW, "--course-root", scaffolded, cwd=scaffolded)
    assert again.returncode == 2 and "exists already" in again.stderr
    for bad in ("HW0", "hw0-example", "0hw", "hw0__x", "json", "torch", "class"):
        done = autograder("new", bad, "--course-root", scaffolded, cwd=scaffolded)
        assert done.returncode == 2 and "bad assignment id" in done.stderr, (bad, done.stderr)
        assert not (scaffolded / "source" / bad).exists()


@pytest.mark.slow
def test_does_the_new_assignment_validate(scaffolded):
    done = autograder("validate", NEW, "--device", "cpu", "--course-root", scaffolded, cwd=scaffolded)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{NEW}: ok" in done.stdout


@pytest.mark.slow
def test_does_the_new_assignment_pass_the_platforms_checks(scaffolded):
    """The parametrised checks every assignment meets, run by the copied suite on the copied course."""
    suites = ["tests/test_assignments.py", "tests/test_catalogue.py", "tests/test_submissions.py",
              "tests/test_notebooks.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suites, "-k", NEW],
                          cwd=scaffolded, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_does_validate_say_what_is_missing_and_how_to_add_it(scaffolded, tmp_path):
    """A notebook alone (no graders, no reference, no release): validate names each, exit 1, no traceback."""
    bare = tmp_path / "bare"
    (bare / "graders").mkdir(parents=True)
    shutil.copy(scaffolded / "nbgrader_config.py", bare)
    shutil.copytree(scaffolded / "source" / NEW, bare / "source" / NEW)
    done = autograder("validate", NEW, "--device", "cpu", "--course-root", bare, cwd=bare)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for text in ("no graders", "test_<task>.py", "no reference", f"solutions/{NEW}.py",
                 f"autograder release {NEW}"):
        assert text in done.stdout, done.stdout


def test_does_validate_say_where_the_points_went():
    from autograder.assignment_check import lost_points
    from autograder.layout import Task
    from autograder.results import GradingResult, TestResult
    result = GradingResult("a", "nb", tests=[
        TestResult("t1", "f", "test_f", "is f right?", 0, 30, False, 0),
        TestResult("t2", "f", "test_f", "is f fast?", 50, 50, True, 0)])
    lost = lost_points(result, [Task("f", "test_f", 80), Task("g", "test_g", 20)])
    assert "f: is f right? (0/30)" in lost
    assert "g: graders worth 0 of its 20 points" in lost

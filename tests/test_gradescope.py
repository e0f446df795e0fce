"""The Gradescope bundle: its run_autograder, run in a stand-in for Gradescope's /autograder, gives the
scores `autograder grade` gives."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder.gradescope import build_bundle
from helpers import ROOT

HW1 = "hw1_linear_regression"
EXAMPLES = ROOT / "tests" / "submissions" / HW1


def _env(root):
    return {"GRADESCOPE_ROOT": str(root), "PYTHON": sys.executable, "PATH": "/usr/bin:/bin"}


@pytest.fixture(scope="module")
def bundle(course, tmp_path_factory):
    return build_bundle(course, HW1, tmp_path_factory.mktemp("bundle") / f"{HW1}.zip")


def test_does_the_bundle_hold_the_scripts_and_only_this_assignments_hidden_code(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        assert {"setup.sh", "run_autograder"} <= set(names)
        assert all(zf.getinfo(n).external_attr >> 16 & 0o111 for n in ("setup.sh", "run_autograder"))
        assert f"course_root/graders/{HW1}/test_linreg.py" in names and f"course_root/solutions/{HW1}.py" in names
        assert "course_root/autograder/grade.py" in names and "course/gradeworker/server.py" in names
        assert not [n for n in names if "hw2_" in n or "__pycache__" in n or n.startswith("tests/")]
        assert not [n for n in names if n.startswith("course_root/source/")], "the master notebook must not travel"
        notebook = zf.read(f"course_root/release/{HW1}/{HW1}.ipynb").decode()
        assert "BEGIN SOLUTION" not in notebook  # the released notebook, not the instructor's
        assert "download.pytorch.org/whl/cpu" in zf.read("setup.sh").decode()


@pytest.mark.slow
@pytest.mark.parametrize("example", ["correct_solution", "half_done", "wrong_known_mistakes"])
def test_does_run_autograder_write_the_score_autograder_grade_gives(bundle, grade, tmp_path, example):
    root = tmp_path / "autograder"  # Gradescope's layout: source/ (the zip), submission/, results/
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy(EXAMPLES / f"{example}.ipynb", root / "submission" / "my upload.ipynb")
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True, text=True,
                          timeout=600, env=_env(root))
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    expected = grade(HW1, EXAMPLES / f"{example}.ipynb")
    assert results["score"] == expected.score
    assert [(t["name"], t["score"]) for t in results["tests"]] == [(f"{t.task}: {t.name}", t.points)
                                                                   for t in expected.tests]
    assert (root / "results" / "feedback.md").is_file()


def test_does_an_upload_without_a_notebook_get_zero_and_a_message(bundle, tmp_path):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission" / "hw1.py").write_text("print('hi')")
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True, text=True,
                          timeout=120, env=_env(root))
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and f"upload {HW1}.ipynb" in results["output"]

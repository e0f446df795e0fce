"""The Gradescope bundle: its run_autograder, run in a stand-in for Gradescope's /autograder, gives the
scores `autograder grade` gives."""
from __future__ import annotations

import json
import os
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
        # course/ is the package students install (every assignment's worker-side helpers in it are public)
        assert not [n for n in names if n.startswith("course_root/") and "hw2_" in n]
        assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
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
    parts = {}
    for t in expected.tests:
        parts[t.task] = parts.get(t.task, 0) + t.points
    assert [(t["name"], t["score"]) for t in results["tests"]] == list(parts.items())  # one row per graded part
    for row in results["tests"]:
        checks = [t for t in expected.tests if t.task == row["name"]]
        assert all(t.name in row["output"] for t in checks)  # its checks listed inside
    assert (root / "results" / "feedback.md").is_file()


def _unpacked(bundle, tmp_path, upload):
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy(upload, root / "submission" / f"{HW1}.ipynb")
    return root


# Docker's default seccomp profile, as far as the walls care: no new namespaces (unshare, setns, clone with
# a namespace flag), refused with EPERM, for the grader and every process it starts.
NO_NAMESPACES = """
import os, sys, errno, pyseccomp as sc
f = sc.SyscallFilter(sc.ALLOW)
f.add_rule(sc.ERRNO(errno.EPERM), "unshare")
f.add_rule(sc.ERRNO(errno.EPERM), "setns")
for flag in (0x00020000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000):
    f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
f.load()
os.execv("/bin/bash", ["bash", sys.argv[1]])
"""


def _without(how: str, root) -> list[str]:
    script = str(root / "source" / "run_autograder")
    if how == "cap_sys_admin":  # Docker's default for root, and so Gradescope's: the namespaces are refused
        return [shutil.which("capsh") or "capsh", "--drop=cap_sys_admin", "--", script]
    return [sys.executable, "-c", NO_NAMESPACES, script]


@pytest.mark.slow
@pytest.mark.skipif(os.getuid() != 0 or not shutil.which("capsh"),
                    reason="needs root and capsh (libcap2-bin; .ci/run installs it)")
@pytest.mark.parametrize("how, example, score", [("cap_sys_admin", "correct_solution", 100),
                                                 ("cap_sys_admin", "stub", 0),
                                                 ("namespaces_seccomp", "correct_solution", 100)])
def test_does_the_bundle_grade_right_where_the_namespaces_are_refused(bundle, tmp_path, how, example, score):
    upload = ROOT / "release" / HW1 / f"{HW1}.ipynb" if example == "stub" else EXAMPLES / f"{example}.ipynb"
    root = _unpacked(bundle, tmp_path, upload)
    done = subprocess.run(_without(how, root), capture_output=True, text=True, timeout=600, env=_env(root))
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == score, results["output"]
    held = results["extra_data"]["protections"]
    assert any(w.startswith("unprivileged uid") for w in held)  # the walls that can hold do, and say so
    assert any(w.startswith("seccomp") for w in held)
    assert not any(w.startswith("mount, network") for w in held)
    assert any(w.startswith("NOT in force: mount, network, IPC, UTS and pid namespaces") for w in held)


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


def _harness_error_result():
    from autograder.results import GradingResult, TestResult
    tests = [TestResult("a", "linreg", "test_linreg", "Is linreg right?", 10, 10, True, 1),
             TestResult("b", "sgd", "test_sgd", "Does sgd step?", 0, 5, False, 2, harness_error=True),
             TestResult("c", "sgd", "test_sgd", "Does sgd stop?", 0, 5, False, 3, harness_error=True)]
    return GradingResult(HW1, "nb.ipynb", tests, 20, 0)


@pytest.mark.parametrize("per_check", [False, True], ids=["per-part", "per-check"])
def test_is_a_part_the_harness_could_not_grade_no_zero_in_results_json(tmp_path, monkeypatch, per_check):
    """Gradescope's format: a test's score and status are optional beside a top-level score; the part that hit
    an internal error has neither (no 0 / 10), says NOT GRADED, and the top level tells staff to regrade."""
    import contextlib

    import autograder.grade
    import autograder.launcher
    from autograder.gradescope import run
    monkeypatch.setattr(autograder.grade, "grade_submission", lambda *a, **k: _harness_error_result())
    monkeypatch.setattr(autograder.launcher, "Launcher", lambda *a, **k: contextlib.nullcontext())
    monkeypatch.setattr(autograder.launcher, "not_dumpable", lambda: None)
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(EXAMPLES / "correct_solution.ipynb", root / "submission" / f"{HW1}.ipynb")
    (root / "source" / "course_root" / "graders").mkdir(parents=True)  # a course root, as the bundle's
    shutil.copy(ROOT / "nbgrader_config.py", root / "source" / "course_root")
    monkeypatch.chdir(root)
    assert run(root, HW1, per_check=per_check) == 2
    results = json.loads((root / "results" / "results.json").read_text())
    sgd = [row for row in results["tests"] if "sgd" in row["tags"]]
    linreg = [row for row in results["tests"] if "linreg" in row["tags"]]
    assert sgd and all("score" not in row and "status" not in row and "max_score" not in row for row in sgd)
    assert all(row["output"].startswith("NOT GRADED") and row["extra_data"]["not_graded"] for row in sgd)
    assert all(row["score"] == 10 and row["status"] == "passed" for row in linreg)
    assert results["score"] == 10 and results["output"].startswith("NOT GRADED: sgd could not be graded")
    assert results["extra_data"]["not_graded"] == ["sgd"]

"""The adversarial corpus (tests/attacks.py) against hw1 and hw2: every attack earns nothing and changes nothing.

These attacks are real: were the walls down, they would rewrite this checkout and signal every process
in reach. So they run only where `autograder probe`'s walls hold (namespaces and the private filesystem),
and skip with that reason elsewhere.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import pytest

from attacks import ATTACKS, attack_cell, attack_in_function
from autograder.defaults import cache_dir
from helpers import ROOT, add_cell, fill, load, write

TARGETS = {"hw1_linear_regression": ("synthetic_data", "w, b, num_examples, noise=0.01"),
           "hw2_softmax_regression": ("softmax", "X")}
WATCHED = ("autograder", "graders", "course", "solutions", "source", "release", "nbgrader_config.py", "pyproject.toml")


def snapshot() -> str:
    """Every byte of the course's code (caches included), the environment's import hooks and the fork
    server's cache folder."""
    digest = hashlib.sha256()
    for top in WATCHED:
        for path in sorted([ROOT / top] if (ROOT / top).is_file() else (ROOT / top).rglob("*")):
            if path.is_file():
                digest.update(str(path).encode() + path.read_bytes())
    for path in sorted(cache_dir().rglob("*")):  # what the next grading's fork server reads (gradeworker.cache)
        if path.is_file():
            digest.update(str(path).encode() + path.read_bytes())
    for site in {Path(p) for p in sys.path if p.endswith("site-packages")}:
        for path in sorted(site.glob("*.pth")) + sorted(site.glob("zz_*")):
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def leftover_processes() -> list[str]:
    """Processes still alive in the cgroups this test process's graders made (other graders on the machine,
    such as a second checkout's tests, run as the same worker uid: the cgroups tell them apart)."""
    from autograder.cgroups import hierarchies
    found = []
    for parent in (hierarchies() or {}).values():
        for group in parent.glob(f"{os.getpid()}-*"):
            try:
                found += [f"{group.name}: {pid}" for pid in (group / "cgroup.procs").read_text().split()]
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def walls(launcher):
    from autograder.notebook import CodeCell
    from autograder.remote import Submission
    sub = Submission(launcher, [CodeCell(1, "x = 1")], {})
    try:
        sub.reset(0)
        missing = launcher.missing_walls(sub.walls())
    finally:
        sub.close()
    if missing:
        pytest.skip(f"walls missing on this host ({', '.join(missing)}): the attacks would do real harm here")
    return True


def attack_notebook(assignment_id: str, attack, where: str, tmp_path: Path) -> Path:
    if where == "load":
        nb = add_cell(load(ROOT / "release" / assignment_id / f"{assignment_id}.ipynb"), attack_cell(attack, str(ROOT)))
    else:
        name, signature = TARGETS[assignment_id]
        nb = fill(assignment_id, {name: attack_in_function(attack, str(ROOT), name, signature)})
    return write(nb, tmp_path / f"{attack.name}.ipynb")


CASES = [pytest.param(a, attack, where, id=f"{a}-{attack.name}-{where}")
         for a in TARGETS for attack in ATTACKS for where in ("load", "function")
         if where == "load" or a == "hw1_linear_regression"]


@pytest.mark.parametrize("assignment_id, attack, where", CASES)
def test_does_the_attack_earn_nothing_and_change_nothing(walls, grade, graded, tmp_path, assignment_id, attack, where):
    assert graded(assignment_id, "release").score == 0  # warms the caches the snapshot includes
    before = snapshot()
    result = grade(assignment_id, attack_notebook(assignment_id, attack, where, tmp_path))
    assert result.score == 0, [t.name for t in result.tests if t.passed]
    assert not result.harness_errors, [t.detail[-2000:] for t in result.harness_errors]
    report = "\n".join([*result.notices, *(t.student_output() for t in result.tests)])
    assert "LEAK" not in report and "def softmax" not in report and "BEGIN SOLUTION" not in report
    assert snapshot() == before, f"{attack.name} changed the course or the environment"
    # graded next, in the same fork server: the part the attack targeted still scores 0 for the stub
    again = grade(assignment_id, ROOT / "release" / assignment_id / f"{assignment_id}.ipynb",
                  tasks=[TARGETS[assignment_id][0]])
    assert again.score == 0 and again.tests and not again.harness_errors
    deadline = time.monotonic() + 10
    while leftover_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not leftover_processes(), leftover_processes()[:10]


def test_are_the_walls_recorded_in_every_result(walls, graded):
    result = graded("hw1_linear_regression", "source")
    protections = "\n".join(result.protections)
    for wall in ("namespaces", "minimal read-only filesystem", "cgroup per submission", "seccomp"):
        assert wall in protections, protections
    assert "NOT in force" not in protections


def test_does_a_daemon_leave_a_classmates_batch_results_alone(walls, course, tmp_path):
    from autograder.batch import grade_batch
    attack = next(a for a in ATTACKS if a.name == "daemon_forges_results")
    attacker = attack_notebook("hw1_linear_regression", attack, "load", tmp_path)
    classmate = ROOT / "tests" / "submissions" / "hw1_linear_regression" / "correct_solution.ipynb"
    out = tmp_path / "graded"
    results = grade_batch(course, "hw1_linear_regression", [("attacker", attacker), ("classmate", classmate)], out,
                          jobs=1, device="cpu")
    assert [r.score for r in results] == [0, 100]
    files = {p: p.read_bytes() for p in (out / "hw1_linear_regression").rglob("*") if p.is_file()}
    time.sleep(2)
    assert {p: p.read_bytes() for p in files} == files
    assert not leftover_processes()

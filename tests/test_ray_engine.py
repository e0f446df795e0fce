"""`autograder batch --engine ray`: the same grades as the local pool, a killed worker costs a retry and
nothing else, a rerun regrades nothing, and without Ray the command says how to install it.

The cluster is a private one the module starts on 127.0.0.1 with two CPUs and token authentication.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from autograder.batch import find_submissions, grade_batch
from autograder.cli import main
from autograder.jobs import Job
from helpers import ROOT

HW1 = "hw1_linear_regression"
EXAMPLES = ROOT / "tests" / "submissions" / HW1
# Quick ones, one of each kind: full marks, known mistakes, a half-done notebook, a worker that exits.
NAMES = ["correct_solution", "wrong_known_mistakes", "half_done", "cheat_exit_early"]


@pytest.fixture(scope="module")
def ray_cluster():
    """A private cluster (`ray start --head` on 127.0.0.1, two CPUs, its own token) for this module."""
    from autograder.layout import UsageError
    from autograder.ray_engine import import_ray, start_local_cluster
    try:
        import_ray()  # before any `import ray`: it asks for token authentication first
    except UsageError:
        pytest.skip("Ray is not installed (pip install '.[ray]'; `make test` installs it)")
    cluster = start_local_cluster(cpus=2)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def pool_results(course, tmp_path_factory):
    """The reference: the same submissions graded on this machine without Ray."""
    subs = find_submissions(HW1, [EXAMPLES / f"{n}.ipynb" for n in NAMES])
    return grade_batch(course, HW1, subs, tmp_path_factory.mktemp("pool"), jobs=1, device="cpu")


def outcome(result) -> dict:
    return {t.id: (t.passed, t.points) for t in result.tests}


def test_does_ray_give_the_same_grades_as_the_local_pool_and_regrade_nothing_on_rerun(
        ray_cluster, pool_results, course, tmp_path, monkeypatch):
    subs = find_submissions(HW1, [EXAMPLES / f"{n}.ipynb" for n in NAMES])
    on_ray = grade_batch(course, HW1, subs, tmp_path, device="cpu", engine="ray", address=ray_cluster.address)
    assert [r.student for r in on_ray] == NAMES
    assert [r.score for r in on_ray] == [r.score for r in pool_results]
    for ray_result, pool_result in zip(on_ray, pool_results):
        assert outcome(ray_result) == outcome(pool_result), ray_result.student
        assert not ray_result.harness_errors
        assert ray_result.submission == str(EXAMPLES / f"{ray_result.student}.ipynb")
        assert (tmp_path / HW1 / ray_result.student / "feedback.md").is_file()
    # The rerun: every result is reused from the driver's records; nothing goes to the cluster.
    written = {p: p.stat().st_mtime_ns for p in (tmp_path / HW1).rglob("result.json")}
    import autograder.ray_engine as ray_engine
    sent = []
    real = ray_engine.run_ray
    monkeypatch.setattr(ray_engine, "run_ray", lambda jobs, *a, **k: sent.extend(jobs) or real(jobs, *a, **k))
    again = grade_batch(course, HW1, subs, tmp_path, device="cpu", engine="ray", address=ray_cluster.address)
    assert sent == [] and [r.score for r in again] == [r.score for r in on_ray]
    assert {p: p.stat().st_mtime_ns for p in written} == written


def _grading_tasks():
    import psutil
    return [p for p in psutil.process_iter(["cmdline"])
            if any("autograder.grade" in part for part in p.info["cmdline"] or [])]


def test_does_a_ray_worker_killed_mid_batch_cost_a_retry_and_nothing_else(ray_cluster, pool_results, course):
    import psutil

    from autograder.ray_engine import run_ray
    names = NAMES[:3]
    jobs = [Job(str(course.root), HW1, n, str(EXAMPLES / f"{n}.ipynb"), "cpu", 0) for n in names]
    written, infos, killed = {}, {}, []

    def kill_one():  # the first grading task seen running: SIGKILL its Ray worker and note its children
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for proc in _grading_tasks():
                try:
                    children = proc.children(recursive=True)
                    os.kill(proc.pid, signal.SIGKILL)
                except (psutil.Error, ProcessLookupError):
                    continue
                killed.append((proc.pid, children))
                break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one)
    killer.start()
    lost = run_ray(jobs, lambda job, result, attachments: written.setdefault(job.student, []).append(result),
                   course, address=ray_cluster.address, on_info=lambda job, info: infos.__setitem__(job.student, info))
    killer.join()
    assert killed, "no grading task was seen running"
    pid, children = killed[0]
    assert lost == []
    assert sorted(written) == sorted(names) and all(len(v) == 1 for v in written.values())  # each written once
    expected = {r.student: r.score for r in pool_results}
    from autograder.results import GradingResult
    scores = {n: GradingResult.from_dict(v[0]).score for n, v in written.items()}
    assert scores == {n: expected[n] for n in names}
    assert pid not in {info["pid"] for info in infos.values()}  # the killed job was graded again elsewhere
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"the killed worker's grading processes outlived it: {alive}"


def test_does_engine_ray_without_ray_say_how_to_install_it_and_exit_two(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code = main(["batch", HW1, str(EXAMPLES / "correct_solution.ipynb"), "--out", str(tmp_path), "--engine", "ray"])
    assert code == 2
    assert "pip install '.[ray]'" in capsys.readouterr().err
    assert not (tmp_path / HW1).exists()


def test_does_the_course_sent_to_nodes_hold_only_what_grading_that_assignment_reads(course, tmp_path):
    from autograder.jobs import graders_version
    from autograder.layout import Course
    from autograder.ray_engine import stage_course
    staged = stage_course(course, [HW1], tmp_path / "staged")
    assert sorted(p.name for p in staged.iterdir()) == ["autograder", "graders", "nbgrader_config.py", "release",
                                                         "solutions"]
    assert [p.name for p in (staged / "graders").iterdir() if p.is_dir()] == [HW1]
    assert [p.name for p in (staged / "solutions").iterdir()] == [f"{HW1}.py"]
    assert not (staged / "source").exists(), "the master notebook (solutions) must not travel"
    assert not list(staged.rglob("tests")) and not list(staged.rglob("*.pyc"))
    assert oct(staged.stat().st_mode & 0o777) == "0o700"
    assert graders_version(Course.find(staged), HW1) == graders_version(course, HW1)

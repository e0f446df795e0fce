"""The command line as TAs use it: exit codes, results.json, reports, batches that resume."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from autograder.batch import find_submissions, grade_batch
from autograder.plugin import seed_for
from helpers import ROOT

HW1 = "hw1_linear_regression"
EXAMPLES = ROOT / "tests" / "submissions" / HW1


def autograder(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_does_grading_the_release_write_score_zero_and_exit_zero(tmp_path):
    done = autograder("grade", HW1, ROOT / "release" / HW1 / f"{HW1}.ipynb", "--results", tmp_path / "r.json",
                      "--feedback", tmp_path / "f.md", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["score"] == 0 and results["tests"]
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility", "status"} <= set(test)
        assert test["status"] == "failed" and "not implemented yet" in test["output"]
    assert sum(t["max_score"] for t in results["tests"]) == 100
    assert "Score: 0 / 100" in (tmp_path / "f.md").read_text()
    assert "score 0 / 100" in done.stdout


def test_does_a_broken_notebook_get_zero_not_a_crash(tmp_path):
    done = autograder("grade", HW1, EXAMPLES / "malformed_truncated.ipynb", "--results", tmp_path / "r.json",
                      "--device", "cpu")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["score"] == 0 and "not valid notebook JSON" in results["output"]


@pytest.mark.parametrize("args, says", [
    (["grade", "hw9_nothing", "x.ipynb"], "unknown assignment 'hw9_nothing'"),
    (["grade", HW1, "no/such/file.ipynb"], "no such file"),
    (["validate", "hw9_nothing"], "this course has: hw0_tensors_autograd, hw1_linear_regression"),
])
def test_does_bad_usage_exit_two_with_a_message(args, says):
    done = autograder(*args)
    assert done.returncode == 2 and says in done.stderr


def test_does_a_batch_resume_without_regrading(course, tmp_path, monkeypatch):
    submissions = find_submissions(HW1, [EXAMPLES / "correct_solution.ipynb", EXAMPLES / "half_done.ipynb"])
    first = grade_batch(course, HW1, submissions, tmp_path, jobs=1, device="cpu")
    assert [r.score for r in first] == [100, 40]
    import autograder.batch as batch
    monkeypatch.setattr(batch, "grade_job", lambda *a: pytest.fail("regraded a finished submission"))
    again = grade_batch(course, HW1, submissions, tmp_path, jobs=1, device="cpu")
    assert [r.score for r in again] == [100, 40]
    csv = (tmp_path / HW1 / "grades.csv").read_text().splitlines()
    assert csv[0].startswith("student,assignment,score,max_score,test_synthetic_data")
    assert csv[1].startswith("correct_solution,hw1_linear_regression,100,100")


def test_does_nbgraders_submitted_layout_name_the_students(tmp_path):
    for student in ("alice", "bob"):
        target = tmp_path / student / HW1 / f"{HW1}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes((EXAMPLES / "half_done.ipynb").read_bytes())
    assert [s for s, _ in find_submissions(HW1, [tmp_path])] == ["alice", "bob"]


def test_do_seeds_replay_and_depend_on_the_run_seed_and_the_test(grade):
    a = grade(HW1, EXAMPLES / "half_done.ipynb", tasks=["linreg"], seed=7)
    b = grade(HW1, EXAMPLES / "half_done.ipynb", tasks=["linreg"], seed=7)
    c = grade(HW1, EXAMPLES / "half_done.ipynb", tasks=["linreg"], seed=8)
    assert [t.seed for t in a.tests] == [t.seed for t in b.tests] != [t.seed for t in c.tests]
    assert a.tests[0].seed == seed_for(7, a.tests[0].id)
    assert len({t.seed for t in a.tests}) == len(a.tests)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_does_grading_on_cuda_give_full_marks_to_the_solution(grade):
    result = grade(HW1, EXAMPLES / "correct_solution.ipynb", device="cuda")
    assert result.device.startswith("cuda") and result.score == 100


def _dies_once(job):
    """A grading process that dies on its first try at the first job (a crash, a kill from outside)."""
    import os
    from pathlib import Path
    marker = Path(job.notebook).with_suffix(".died")
    if job.student == "first" and not marker.exists():
        marker.write_text("x")
        os._exit(9)
    return {"student": job.student}, {}


def test_does_a_dead_pool_process_cost_a_retry_not_the_batch(tmp_path):
    from autograder.batch import _run_pool
    from autograder.jobs import Job
    jobs = [Job(str(ROOT), HW1, name, str(tmp_path / f"{name}.ipynb"), "cpu", 0)
            for name in ("first", "second", "third")]
    finished = []
    failed = _run_pool(jobs, 2, lambda job, result, _: finished.append(result["student"]), task=_dies_once)
    assert failed == [] and sorted(finished) == ["first", "second", "third"]


def _threads_seen(job):
    """A pool task grading its job as a slot does, then reporting torch's threads in its grading process and in a
    worker of that process's launcher."""
    import torch

    from autograder import jobs
    from autograder.notebook import CodeCell
    from autograder.remote import Submission
    graded, _ = jobs.grade_job(job)
    assert graded["score"] == 100, graded["score"]
    source = "import torch\ndef threads():\n    return torch.get_num_threads()\n"
    sub = Submission(jobs.launcher(), [CodeCell(1, source)], {})
    try:
        sub.reset(0)
        worker = sub.threads()
    finally:
        sub.close()
    jobs.drop_spares()
    return {"student": job.student, "grader": torch.get_num_threads(), "worker": worker}, {}


def test_do_two_slots_share_the_cores_in_their_graders_and_workers(tmp_path, monkeypatch):
    """A slot's grader and worker take half of the slot's share of the cores for torch's threads
    (provision.torch_threads): `batch -j 2` on two cores gives every process one; an OMP_NUM_THREADS of the
    course's own is kept."""
    from autograder.batch import _run_pool
    from autograder.jobs import Job
    from autograder.provision import torch_threads
    assert torch_threads(1, cores=2) == 1 and torch_threads(1, cores=16) == 8 and torch_threads(2, cores=16) == 4
    assert torch_threads(2, cores=2) == 1 and torch_threads(8, cores=16) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert torch_threads(2, cores=16) is None
    monkeypatch.delenv("OMP_NUM_THREADS")
    jobs = [Job(str(ROOT), HW1, name, str(EXAMPLES / "correct_solution.ipynb"), "cpu", 0) for name in ("a", "b")]
    seen = []
    failed = _run_pool(jobs, 2, lambda job, result, _: seen.append(result), task=_threads_seen)
    share = torch_threads(2)
    if share is None:
        pytest.skip("OMP_NUM_THREADS is set here: the slots keep it")
    assert failed == [] and len(seen) == 2
    assert all(r["grader"] == share and r["worker"] == share for r in seen), (share, seen)


def test_does_a_grading_give_its_process_and_workers_one_slots_share_of_the_cores(grade, launcher):
    import torch

    from autograder.provision import torch_threads
    share = torch_threads()
    if share is None:
        pytest.skip("OMP_NUM_THREADS is set here: gradings keep it")
    torch.set_num_threads(max(2, share + 1))
    assert grade(HW1, EXAMPLES / "correct_solution.ipynb").score == 100
    assert torch.get_num_threads() == share and launcher.threads == share  # the workers' config carries it


def test_is_a_harness_error_no_zero_in_grades_results_json(tmp_path, monkeypatch):
    """`autograder grade --results`: a part the harness could not grade says NOT GRADED there, as in a batch."""
    import autograder.cli as cli
    import autograder.grade as grade
    from autograder.results import GradingResult
    from autograder.results import TestResult as Check

    class NoWorkers:  # the grading itself is replaced: no fork server needed
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def close(self):
            return None

    def broken(assignment_id, notebook, **kwargs):
        tests = [Check("a", "linreg", "test_linreg", "Is linreg right?", 10, 10, True, 1),
                 Check("b", "sgd", "test_sgd", "Does sgd step?", 0, 5, False, 2, harness_error=True)]
        return GradingResult(assignment_id, notebook, tests, 15, 0)

    monkeypatch.setattr(cli, "Launcher", NoWorkers)
    monkeypatch.setattr(grade, "grade_submission", broken)
    results = tmp_path / "results.json"
    notebook = ROOT / "tests" / "submissions" / "hw1_linear_regression" / "correct_solution.ipynb"
    code = cli.main(["grade", "hw1_linear_regression", str(notebook), "--results", str(results)])
    data = json.loads(results.read_text())
    sgd = [row for row in data["tests"] if row["name"] == "sgd"]
    assert code == 2 and sgd and "score" not in sgd[0] and sgd[0]["output"].startswith("NOT GRADED")
    assert data["extra_data"]["not_graded"] == ["sgd"] and data["score"] == 10

"""A TA's batch: progress with an ETA, and Ctrl-C / SIGTERM stopping it cleanly, with nothing half-graded kept."""
from __future__ import annotations

import ctypes
import io
import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from autograder.progress import Progress
from helpers import ROOT

HW1 = "hw1_linear_regression"
CORRECT = ROOT / "tests" / "submissions" / HW1 / "correct_solution.ipynb"
STUDENTS = ["ann", "ben", "cat", "dan"]


def test_does_progress_print_one_line_per_submission_with_an_eta_when_not_a_tty():
    """The first line comes at once; the ETA is from measured grading times, never the pool's start-up (30 s
    of importing torch here: counting it, the first ETA would read 1:30 instead of 0:14)."""
    now = [0.0]
    out = io.StringIO()
    progress = Progress(4, reused=1, stream=out, clock=lambda: now[0], workers=2)
    assert out.getvalue().splitlines()[1].startswith("grading 4 submission(s) with 2 worker(s)")
    now[0] = 30.0
    progress.done("ann", 90, 100, 9.5)
    now[0] = 40.0
    progress.done("ben", 100, 100, 9.9)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("1 submission(s) already graded")
    assert lines[2] == "[1/4] ann 90/100 in 9.5 s; elapsed 0:30, ETA 0:14"  # 9.5 s x 3 left / 2 workers
    assert lines[3] == "[2/4] ben 100/100 in 9.9 s; elapsed 0:40, ETA 0:20"  # 10 s apart x 2 left
    assert "\r" not in out.getvalue()


def test_does_the_resume_hint_of_a_forced_batch_drop_force():
    from autograder.progress import Interrupted
    assert "without --force" in str(Interrupted(2, 3, 5, "the same command without --force"))
    assert "not graded again" in str(Interrupted(2, 3, 5))


def _children() -> set[int]:
    """This process's living children (orphans come here: the test makes itself a subreaper)."""
    found = set()
    for task in os.listdir("/proc/self/task"):
        try:
            found |= {int(p) for p in open(f"/proc/self/task/{task}/children").read().split()}
        except OSError:
            pass
    alive = set()
    for pid in found:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            os.waitpid(pid, os.WNOHANG)  # an orphan that has ended: reap it
        else:
            alive.add(pid)
    return alive


@pytest.fixture
def subreaper():
    libc = ctypes.CDLL(None)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: the batch's orphans become our children
    yield
    libc.prctl(36, 0, 0, 0, 0)


def _batch(folder, out, jobs):
    return subprocess.Popen([sys.executable, "-m", "autograder", "batch", HW1, str(folder), "--out", str(out),
                             "--jobs", str(jobs), "--device", "cpu"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.slow
@pytest.mark.parametrize("signum, jobs, whole_group", [(signal.SIGINT, 1, True), (signal.SIGTERM, 2, False)],
                         ids=["ctrl-c-one-job", "sigterm-pool"])
def test_does_a_signal_stop_the_batch_with_no_process_left_and_no_half_graded_result(
        tmp_path, subreaper, signum, jobs, whole_group):
    folder = tmp_path / "submitted"
    for student in STUDENTS:  # nbgrader's layout: submitted/<student>/<id>/<id>.ipynb
        target = folder / student / HW1 / f"{HW1}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes(CORRECT.read_bytes())
    out = tmp_path / "graded"
    before = _children()
    batch = _batch(folder, out, jobs)
    seen, deadline = "", time.monotonic() + 300
    while "[1/4]" not in seen:  # one submission saved, others being graded: now stop it
        if not select.select([batch.stderr], [], [], max(0.0, deadline - time.monotonic()))[0]:
            batch.kill()
            pytest.fail(f"no submission graded within 300 s: {seen}")
        line = batch.stderr.readline()
        assert line or batch.poll() is None, f"the batch ended first: {seen}"
        seen += line
    (os.killpg if whole_group else os.kill)(batch.pid, signum)  # Ctrl-C reaches the whole process group
    try:
        rest = batch.communicate(timeout=90)[1]
    except subprocess.TimeoutExpired:
        batch.kill()
        pytest.fail("the batch did not stop within 90 s of the signal")
    assert batch.returncode == 128 + signum, seen + rest
    assert "none was saved half-graded" in rest and "Traceback" not in rest

    deadline = time.monotonic() + 30
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    left = _children() - before
    assert not left, [open(f"/proc/{p}/cmdline").read().replace("\0", " ")[:200] for p in left]

    base = out / HW1
    saved = sorted(p.parent.name for p in base.glob("*/result.json"))
    assert 1 <= len(saved) < len(STUDENTS)
    for student in saved:  # whatever was saved is complete and final
        record = json.loads((base / student / "result.json").read_text())
        assert record["score"] == 100 and not any(t["harness_error"] for t in record["tests"])
    assert not list(base.rglob("*.tmp")) and not (base / "grades.csv").exists()

    again = _batch(folder, out, jobs)
    stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    assert f"{len(saved)} submission(s) already graded" in stderr
    assert sum(line.startswith("[") for line in stderr.splitlines()) == len(STUDENTS) - len(saved)  # the rest only
    rows = (base / "grades.csv").read_text().splitlines()[1:]
    assert sorted(r.split(",")[0] for r in rows) == STUDENTS and all(",100,100," in r for r in rows)


def _read_until(proc, text: str, timeout: float = 600) -> str:
    """The batch's stderr up to the line holding ``text`` (the phase it names has begun), failing otherwise."""
    seen, deadline = "", time.monotonic() + timeout
    while text not in seen:
        if not select.select([proc.stderr], [], [], max(0.0, deadline - time.monotonic()))[0]:
            proc.kill()
            pytest.fail(f"no {text!r} within {timeout} s: {seen}")
        line = proc.stderr.readline()
        assert line or proc.poll() is None, f"the batch ended first: {seen}"
        seen += line
    return seen


@pytest.mark.slow
def test_does_ctrl_c_in_the_gradebook_phase_leave_every_file_it_claims_and_resume_without_regrading(tmp_path):
    """A real `autograder batch` on a released course, Ctrl-C once its gradebook phase has said it began: every
    file the message claims saved is there and complete, and the same command records the rest, grading none."""
    pytest.importorskip("nbgrader")
    import csv

    from test_gradebook import EXAMPLES, HW2, make_course

    from autograder.layout import Course
    from autograder.release import release
    root = make_course(tmp_path / "course", HW2)
    release(Course(root.resolve()), HW2)
    folder, out = tmp_path / "submitted", tmp_path / "graded"
    students = {"ann": "correct_solution", "ben": "half_done", "cat": "wrong_known_mistakes"}
    for student, example in students.items():
        target = folder / student / HW2 / f"{HW2}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes((EXAMPLES / f"{example}.ipynb").read_bytes())
    command = [sys.executable, "-m", "autograder", "batch", HW2, str(folder), "--out", str(out), "--jobs", "1",
               "--device", "cpu"]
    batch = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    seen = _read_until(batch, "gradebook: recording")
    os.killpg(batch.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    _, rest = batch.communicate(timeout=120)
    assert batch.returncode == 130, seen + rest
    assert "gradebook stopped by Ctrl-C" in rest and "Traceback" not in rest, rest
    base = out / HW2
    rows = {r["student"]: r for r in csv.DictReader(open(base / "grades.csv", encoding="utf-8"))}
    assert sorted(rows) == sorted(students)  # the message claims grades.csv: complete, every student in it
    for student in students:
        for name in ("results.json", "result.json"):
            json.loads((base / student / name).read_text(encoding="utf-8"))
        assert (base / student / "feedback.md").read_text(encoding="utf-8").strip()
        assert float(rows[student]["score"]) == json.loads((base / student / "result.json").read_text())["score"]
    assert not list(out.rglob("*.tmp")) and not list(root.rglob("*.tmp")) and not list(root.rglob(".*.tmp"))

    again = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"{len(students)} submission(s) already graded" in again.stderr
    assert not [line for line in again.stderr.splitlines() if line.startswith("[")], again.stderr  # none regraded
    assert f"{len(students)} submissions recorded" in again.stdout


def test_does_the_resume_hint_of_an_interrupted_forced_batch_regrade_nothing_it_saved(tmp_path, monkeypatch, course):
    """--force, Ctrl-C during the second submission: the command the message names regrades nothing saved,
    neither what the forced run saved nor what an earlier run saved (those keep their earlier results)."""
    import autograder.batch as batch
    from autograder.progress import Interrupted
    from autograder.results import GradingResult
    from autograder.results import TestResult as Check
    graded: list[str] = []

    def fake(job, stop_on=None):
        graded.append(job.student)
        if job.student == stop_on:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while this one is graded
            time.sleep(5)
        tests = [Check("t", "linreg", "test_linreg", "Is linreg right?", 10, 10, True, 1)]
        return GradingResult(HW1, job.notebook, tests, 10, job.seed, student=job.student).to_dict(), {}

    submissions = []
    for student in STUDENTS:
        target = tmp_path / "submitted" / student / HW1 / f"{HW1}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes(CORRECT.read_bytes())
        submissions.append((student, target))
    out = tmp_path / "graded"
    monkeypatch.setattr(batch, "grade_job", fake)
    batch.grade_batch(course, HW1, submissions, out, jobs=1, device="cpu")  # a first, complete run
    graded.clear()
    monkeypatch.setattr(batch, "grade_job", lambda job: fake(job, stop_on="ben"))
    with pytest.raises(Interrupted) as stopped:
        batch.grade_batch(course, HW1, submissions, out, jobs=1, device="cpu", force=True)
    assert graded == ["ann", "ben"] and stopped.value.graded == 1
    assert "run the same command without --force again" in str(stopped.value)
    assert "3 submission(s) this --force run did not reach keep the results saved before it" in str(stopped.value)
    graded.clear()
    monkeypatch.setattr(batch, "grade_job", fake)
    results = batch.grade_batch(course, HW1, submissions, out, jobs=1, device="cpu")  # what the hint says
    assert graded == [], "the hint's command regraded saved work"
    assert [r.student for r in results] == STUDENTS


def test_is_a_harness_error_no_zero_in_the_batchs_results_json(tmp_path, monkeypatch, course):
    import autograder.batch as batch
    from autograder.results import GradingResult
    from autograder.results import TestResult as Check

    def broken(job):
        tests = [Check("a", "linreg", "test_linreg", "Is linreg right?", 10, 10, True, 1),
                 Check("b", "sgd", "test_sgd", "Does sgd step?", 0, 5, False, 2, harness_error=True)]
        return GradingResult(HW1, job.notebook, tests, 15, job.seed, student=job.student).to_dict(), {}

    target = tmp_path / "submitted" / "ann" / HW1 / f"{HW1}.ipynb"
    target.parent.mkdir(parents=True)
    target.write_bytes(CORRECT.read_bytes())
    monkeypatch.setattr(batch, "grade_job", broken)
    batch.grade_batch(course, HW1, [("ann", target)], tmp_path / "graded", jobs=1, device="cpu")
    results = json.loads((tmp_path / "graded" / HW1 / "ann" / "results.json").read_text())
    sgd = [row for row in results["tests"] if row["name"] == "sgd"]
    assert sgd and "score" not in sgd[0] and sgd[0]["output"].startswith("NOT GRADED")
    assert results["extra_data"]["not_graded"] == ["sgd"] and results["score"] == 10

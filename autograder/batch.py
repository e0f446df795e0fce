"""Grade many submissions: a local process pool, resumable, one student's failure never stops the batch.

Output layout, per assignment: ``<out>/<id>/<student>/results.json`` (Gradescope's, what the student
may see), ``feedback.md`` (the student's report), ``result.json`` (everything, for staff and for
resuming), and ``<out>/<id>/grades.csv`` for the LMS.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import os
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

from .course import Course
from .results import GradingResult, write_grades_csv, write_reports

_launcher = None  # one per pool process: its fork server serves every submission that process grades


def find_submissions(assignment_id: str, paths: list[Path]) -> list[tuple[str, Path]]:
    """(student, notebook) pairs from notebooks, folders of notebooks, or nbgrader's submitted/ layout."""
    found: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_file():
            found.append((path.stem, path))
        elif path.is_dir():
            nbgrader_layout = sorted(path.glob(f"*/{assignment_id}/*.ipynb"))
            if nbgrader_layout:
                found += [(p.parent.parent.name, p) for p in nbgrader_layout]
            else:
                found += [(p.stem, p) for p in sorted(path.glob("*.ipynb"))]
    return found


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def graders_version(course: Course, assignment_id: str) -> str:
    """A digest of everything that decides a score: the harness, this assignment's graders, its reference."""
    assignment = course.assignment(assignment_id)
    files = sorted([*(course.root / "autograder").glob("*.py"), *assignment.graders_dir.glob("*.py"),
                    assignment.solution_file])
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + (f.read_bytes() if f.is_file() else b""))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Job:
    """One submission to grade: everything a grading process needs, as plain data."""

    course_root: str
    assignment_id: str
    student: str
    notebook: str
    device: str
    seed: int

    def record_key(self, version: str) -> dict:
        """What a saved result must match to be reused on a rerun."""
        return {"notebook_sha256": _sha256(Path(self.notebook)), "seed": self.seed, "device_asked": self.device,
                "graders_version": version}


def _done_before(folder: Path, key: dict) -> GradingResult | None:
    """A saved result for exactly this submission and graders, or None: anything unexpected means regrade."""
    try:
        saved = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        if any(saved.get(k) != v for k, v in key.items()):
            return None
        return GradingResult.from_dict({k: v for k, v in saved.items() if k not in key})
    except Exception:  # unreadable, edited by hand, forged with an extra key: grade it again
        return None


def _init_slot(counter) -> None:
    """Each pool process gets its own slot (and so its own worker uid)."""
    global _slot
    with counter.get_lock():
        _slot = counter.value
        counter.value += 1


_slot = 0


def grade_job(job: Job) -> tuple[dict, dict[str, bytes]]:
    """Grade one submission in this (trusted) process; the driver writes the files."""
    global _launcher
    from .grade import grade_submission
    from .launcher import Launcher
    if _launcher is None:
        _launcher = Launcher(slot=_slot)
        atexit.register(_launcher.close)
    course = Course.find(job.course_root)
    try:
        result = grade_submission(job.assignment_id, job.notebook, course=course, device=job.device, seed=job.seed,
                                  launcher=_launcher, student=job.student)
    except Exception:  # the harness failed on this one; record it and go on with the others
        result = harness_failure(course, job, traceback.format_exc())
    return result.to_dict(), result.attachments


def harness_failure(course: Course, job: Job, detail: str) -> GradingResult:
    from .grade import whole_task_failures
    from .messages import internal_error
    assignment = course.assignment(job.assignment_id)
    claim = "the submission could be graded"
    tests = whole_task_failures(assignment, job.seed, claim, internal_error(claim), harness=True, detail=detail)
    return GradingResult(job.assignment_id, job.notebook, tests, sum(t.points for t in assignment.tasks), job.seed,
                         student=job.student)


def _run_pool(jobs: list[Job], workers: int, done: Callable[[Job, dict, dict], None], attempts: int = 2,
              task: Callable[[Job], tuple[dict, dict]] = grade_job) -> list[Job]:
    """Grade ``jobs`` on a local process pool. A pool process that dies costs its submissions a retry on a
    new pool, never the batch; returns the jobs that failed every attempt."""
    pending, tries = list(jobs), {job: 0 for job in jobs}
    while pending:
        counter = get_context("spawn").Value("i", 0)
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_slot,
                                 initargs=(counter,)) as pool:
            futures = {pool.submit(task, job): job for job in pending}
            pending = []
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result, attachments = future.result()
                except BrokenProcessPool:
                    tries[job] += 1
                    if tries[job] < attempts:
                        pending.append(job)
                    continue
                done(job, result, attachments)
    return [job for job, n in tries.items() if n >= attempts]


def grade_batch(course: Course, assignment_id: str, submissions: list[tuple[str, Path]], out: Path, jobs: int = 0,
                device: str = "auto", seed: int = 0, force: bool = False) -> list[GradingResult]:
    course.assignment(assignment_id)  # fail fast on an unknown id
    base = out / assignment_id
    version = graders_version(course, assignment_id)
    results: dict[str, GradingResult] = {}
    todo = []
    for student, notebook in submissions:
        job = Job(str(course.root), assignment_id, student, str(notebook), device, seed)
        previous = None if force else _done_before(base / student, job.record_key(version))
        if previous is not None:
            results[student] = previous
        else:
            todo.append(job)

    def done(job: Job, data: dict, attachments: dict[str, bytes]) -> None:
        result = GradingResult.from_dict(data)
        result.attachments = attachments
        folder = base / job.student
        write_reports(result, results_json=folder / "results.json", feedback=folder / "feedback.md",
                      record=folder / "result.json", record_extra=job.record_key(version))
        results[job.student] = result

    workers = jobs or max(1, (os.cpu_count() or 2) // 2)
    if workers == 1 or len(todo) <= 1:
        for job in todo:
            done(job, *grade_job(job))
    else:
        for job in _run_pool(todo, workers, done):
            failed = harness_failure(course, job, "the grading process died twice on this submission")
            done(job, failed.to_dict(), {})
    ordered = [results[s] for s, _ in submissions]
    write_grades_csv(base / "grades.csv", ordered)
    return ordered


def print_table(results: list[GradingResult]) -> None:
    if not results:
        return
    width = max(len(r.student) for r in results)
    print(f"{'student'.ljust(width)}  {'score':>7}  parts lost")
    for r in results:
        lost = [task for task, (got, most) in r.task_scores().items() if got < most]
        note = " (HARNESS ERROR)" if r.harness_errors else ""
        print(f"{r.student.ljust(width)}  {r.score:>7g}  {', '.join(c.removeprefix('test_') for c in lost) or '-'}{note}")

"""Grade many submissions: a local process pool, resumable, one student's failure never stops the batch.

Output layout, per assignment: ``<out>/<id>/<student>/results.json`` (Gradescope's, what the student
may see), ``feedback.md`` (the student's report), ``result.json`` (everything, for staff and for
resuming), and ``<out>/<id>/grades.csv`` for the LMS.
"""
from __future__ import annotations

import hashlib
import json
import os
import traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

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


def _done_before(folder: Path, digest: str, seed: int, device: str) -> GradingResult | None:
    try:
        saved = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (saved.get("notebook_sha256"), saved.get("seed"), saved.get("device_asked")) != (digest, seed, device):
        return None
    saved = {k: v for k, v in saved.items() if k not in ("notebook_sha256", "device_asked")}
    return GradingResult.from_dict(saved)


def _grade_one(course_root: str, assignment_id: str, student: str, notebook: str, folder: str, device: str,
               seed: int) -> dict:
    global _launcher
    from .grade import grade_submission
    from .launcher import Launcher
    if _launcher is None:
        _launcher = Launcher()
    course = Course.find(course_root)
    try:
        result = grade_submission(assignment_id, notebook, course=course, device=device, seed=seed,
                                  launcher=_launcher, student=student)
    except Exception:  # the harness failed on this one; record it and go on with the others
        result = _harness_failure(course, assignment_id, student, notebook, seed, traceback.format_exc())
    out = Path(folder)
    write_reports(result, results_json=out / "results.json", feedback=out / "feedback.md", record=out / "result.json",
                  record_extra={"notebook_sha256": _sha256(Path(notebook)), "device_asked": device})
    return result.to_dict()


def _harness_failure(course: Course, assignment_id: str, student: str, notebook: str, seed: int,
                     detail: str) -> GradingResult:
    from .grade import whole_task_failures
    from .messages import internal_error
    assignment = course.assignment(assignment_id)
    claim = "the submission could be graded"
    tests = whole_task_failures(assignment, seed, claim, internal_error(claim), harness=True, detail=detail)
    return GradingResult(assignment_id, notebook, tests, sum(t.points for t in assignment.tasks), seed,
                         student=student)


def grade_batch(course: Course, assignment_id: str, submissions: list[tuple[str, Path]], out: Path, jobs: int = 0,
                device: str = "auto", seed: int = 0, force: bool = False) -> list[GradingResult]:
    course.assignment(assignment_id)  # fail fast on an unknown id
    base = out / assignment_id
    results: dict[str, GradingResult] = {}
    todo = []
    for student, notebook in submissions:
        folder = base / student
        previous = None if force else _done_before(folder, _sha256(notebook), seed, device)
        if previous is not None:
            results[student] = previous
        else:
            todo.append((str(course.root), assignment_id, student, str(notebook), str(folder), device, seed))
    jobs = jobs or max(1, (os.cpu_count() or 2) // 2)
    if jobs == 1 or len(todo) <= 1:
        for args in todo:
            results[args[2]] = GradingResult.from_dict(_grade_one(*args))
    else:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            for args, done in zip(todo, pool.map(_grade_one, *zip(*todo))):
                results[args[2]] = GradingResult.from_dict(done)
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


def demo(course: Course, out: Path, jobs: int = 0, device: str = "auto", seed: int = 0) -> int:
    """Release every assignment, then grade the example submissions kept in tests/submissions/<id>/."""
    from .course import UsageError
    from .release import release
    for assignment_id in course.assignment_ids():
        try:
            print(f"released {release(course, assignment_id).relative_to(course.root)}")
        except UsageError as exc:
            print(f"could not release {assignment_id}: {exc}")
            return 2
    out = out if out.is_absolute() else course.root / out
    status = 0
    for assignment_id in course.assignment_ids():
        folder = course.root / "tests" / "submissions" / assignment_id
        submissions = find_submissions(assignment_id, [folder]) if folder.is_dir() else []
        if not submissions:
            continue
        print(f"\n== {assignment_id}: {len(submissions)} example submissions")
        results = grade_batch(course, assignment_id, submissions, out, jobs=jobs, device=device, seed=seed, force=True)
        print_table(results)
        status |= 2 if any(r.harness_errors for r in results) else 0
    print(f"\nReports: {out}/<assignment>/<student>/feedback.md (what the student reads), results.json "
          f"(Gradescope), result.json (staff detail); gradebooks: {out}/<assignment>/grades.csv")
    return status

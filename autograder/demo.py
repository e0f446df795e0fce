"""The main job on the local default: release every assignment, then grade the example submissions."""
from __future__ import annotations

from pathlib import Path

from . import defaults
from .batch import find_submissions, grade_batch, print_table
from .errors import UsageError
from .layout import Course
from .release import release


def demo(course: Course, out: Path = defaults.DEMO_OUT, jobs: int = defaults.JOBS, device: str = defaults.DEVICE,
         seed: int = defaults.SEED) -> int:
    """Release every assignment, then grade the example submissions kept in tests/submissions/<id>/."""
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

"""Check an assignment end to end: the source scores full marks, the release scores zero, cleanly."""
from __future__ import annotations

from .course import Course
from .grade import grade_submission
from .results import GradingResult


def point_problems(result: GradingResult, expected: dict[str, float]) -> list[str]:
    """Each graded part's hidden tests must add up to the points its notebook cell shows."""
    got: dict[str, float] = {}
    for t in result.tests:
        got[t.task] = got.get(t.task, 0.0) + t.max_points
    return [f"{task}: hidden tests are worth {got.get(task, 0):g} points, the notebook says {points:g}"
            for task, points in expected.items() if abs(got.get(task, 0) - points) > 1e-9]


def validate(course: Course, assignment_id: str, device: str = "auto", seed: int = 0) -> list[str]:
    assignment = course.assignment(assignment_id)
    problems = []
    total = sum(t.points for t in assignment.tasks)
    if abs(total - 100) > 1e-9:
        problems.append(f"the notebook's graded cells add up to {total:g} points, not 100")
    source = grade_submission(assignment_id, assignment.source_notebook, course=course, device=device, seed=seed)
    problems += point_problems(source, {t.name: t.points for t in assignment.tasks})
    if source.score != source.max_score:
        failed = ", ".join(f"{t.task}: {t.name}" for t in source.tests if not t.passed)
        problems.append(f"the source notebook scores {source.score:g}/{source.max_score:g} (failed: {failed})")
    release = grade_submission(assignment_id, assignment.release_notebook, course=course, device=device, seed=seed)
    if release.score != 0:
        passed = ", ".join(f"{t.task}: {t.name}" for t in release.tests if t.passed)
        problems.append(f"the released notebook scores {release.score:g} (passed: {passed})")
    for result, which in ((source, "source"), (release, "release")):
        problems += [f"{which}: harness error in {t.task}: {t.name}" for t in result.harness_errors]
    unnamed = [t for t in release.tests if not t.passed and t.message and t.task not in t.message.render()]
    problems += [f"release: the failure of '{t.name}' does not name its task {t.task}" for t in unnamed]
    return problems

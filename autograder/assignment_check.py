"""``autograder validate <id>``, the staff's check of an assignment end to end: the source notebook scores full
marks, the release scores zero, cleanly. (The student's check of a submission is ``d2lcourse.submission_check``.)
"""
from __future__ import annotations

from .grade import grade_submission
from .layout import Course, Task
from .results import GradingResult


def point_problems(result: GradingResult, expected: dict[str, float]) -> list[str]:
    """Each graded part's hidden tests must add up to the points its notebook cell shows."""
    got: dict[str, float] = {}
    for t in result.tests:
        got[t.task] = got.get(t.task, 0.0) + t.max_points
    return [f"{task}: hidden tests are worth {got.get(task, 0):g} points, the notebook says {points:g}"
            for task, points in expected.items() if abs(got.get(task, 0) - points) > 1e-9]


def lost_points(result: GradingResult, tasks: list[Task]) -> list[str]:
    """Where a notebook's points went: each test that did not get its full points, each part with fewer test
    points than its cell shows, and the notebook's load notices."""
    lost = [f"{t.task}: {t.name} ({t.points:g}/{t.max_points:g}{', harness error' if t.harness_error else ''})"
            for t in result.tests if t.points < t.max_points]
    graded: dict[str, float] = {}
    for t in result.tests:
        graded[t.task] = graded.get(t.task, 0.0) + t.max_points
    lost += [f"{task.name}: graders worth {graded.get(task.name, 0):g} of its {task.points:g} points"
             for task in tasks if graded.get(task.name, 0) < task.points - 1e-9]
    lost += [f"notice: {n}" for n in result.notices]
    return lost or ["no test lost points, yet the total is short: compare the tests' points with the notebook's"]


def check_assignment(course: Course, assignment_id: str, device: str = "auto", seed: int = 0) -> list[str]:
    assignment = course.assignment(assignment_id)
    missing = assignment.missing()
    if missing:  # nothing to grade yet: say what to add, rather than fail inside the grading
        return missing
    problems = []
    total = sum(t.points for t in assignment.tasks)
    if abs(total - 100) > 1e-9:
        problems.append(f"the notebook's graded cells add up to {total:g} points, not 100")
    source = grade_submission(assignment_id, assignment.source_notebook, course=course, device=device, seed=seed)
    problems += point_problems(source, {t.name: t.points for t in assignment.tasks})
    if source.score != source.max_score:
        problems.append(f"the source notebook scores {source.score:g}/{source.max_score:g} (lost: "
                        f"{'; '.join(lost_points(source, assignment.tasks))})")
    release = grade_submission(assignment_id, assignment.release_notebook, course=course, device=device, seed=seed)
    if release.score != 0:
        passed = ", ".join(f"{t.task}: {t.name}" for t in release.tests if t.passed)
        problems.append(f"the released notebook scores {release.score:g} (passed: {passed})")
    for result, which in ((source, "source"), (release, "release")):
        problems += [f"{which}: harness error in {t.task}: {t.name}" for t in result.harness_errors]
    unnamed = [t for t in release.tests if not t.passed and t.message and t.task not in t.message.render()]
    problems += [f"release: the failure of '{t.name}' does not name its task {t.task}" for t in unnamed]
    return problems

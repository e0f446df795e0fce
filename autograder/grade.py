"""Grade one submission: load it, run the hidden graders against it, and return the result as data."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from .course import Assignment, Course, UsageError
from .launcher import Launcher
from .notebook import NotebookError, code_to_run, read_notebook, tampering_signs
from .plugin import GradingContext, GradingPlugin, internal_error, seed_for
from .remote import Submission
from .results import GradingResult, Message, TestResult


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise UsageError(f"--device must be auto, cpu or cuda, not {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for, but torch sees no CUDA device here; use --device auto or cpu")
    return torch.device(name)


def whole_task_failures(assignment: Assignment, seed: int, claim: str, message: Message, harness: bool = False,
                        tasks: list[str] | None = None, detail: str = "") -> list[TestResult]:
    """One failed result per graded part, for when its graders could not run at all."""
    return [TestResult(f"{t.cell_id}::{claim}", t.name, t.cell_id, claim, 0.0, t.points, False,
                       seed_for(seed, t.cell_id), message=message, detail=detail, harness_error=harness)
            for t in assignment.tasks if tasks is None or t.name in tasks]


def _pytest_args(assignment: Assignment, select: str | None, tasks: list[str] | None) -> list[str]:
    graders = assignment.course.root / "autograder"
    files = assignment.grader_files()
    targets = [str(f) for t in tasks for f in files.get(t, [])] if tasks else [str(assignment.graders_dir)]
    args = [*targets, "-p", "no:terminal", "-p", "no:cacheprovider", "-p", "no:randomly",
            "-p", "no:xdist", "-p", "no:warnings", f"--rootdir={graders}", f"--confcutdir={graders}",
            "-c", str(graders / "pytest.ini")]
    return args + (["-k", select] if select else [])


def grade_submission(assignment_id: str, notebook: str | os.PathLike, *, course: Course | None = None,
                     device: str = "auto", seed: int = 0, select: str | None = None, tasks: list[str] | None = None,
                     launcher: Launcher | None = None, student: str = "") -> GradingResult:
    """Grade ``notebook`` against ``assignment_id``'s hidden graders. Never raises for bad submissions.

    ``select`` is a pytest ``-k`` expression; ``tasks`` limits grading to those contract functions.
    """
    started = time.perf_counter()
    course = course or Course.find()
    assignment = course.assignment(assignment_id)
    course.register_graders()
    dev = resolve_device(device)
    if tasks:
        unknown = sorted(set(tasks) - {t.name for t in assignment.tasks})
        if unknown:
            raise UsageError(f"{assignment.id} has no graded part {', '.join(unknown)}")
    result = GradingResult(assignment.id, str(notebook), max_score=sum(t.points for t in assignment.tasks
                                                                         if not tasks or t.name in tasks),
                           seed=seed, device=str(dev), student=student or Path(notebook).stem)
    try:
        nb = read_notebook(Path(notebook))
    except NotebookError as exc:
        result.notices.append(str(exc))
        result.tests = whole_task_failures(assignment, seed, "the notebook can be read", Message(
            "the notebook can be read", comparison=str(exc), hint="fix the file and submit again"), tasks=tasks)
        result.seconds = time.perf_counter() - started
        return result

    own_launcher = launcher is None
    launcher = launcher or Launcher()
    submission = Submission(launcher, code_to_run(nb), assignment.forbidden, assignment.private_modules)
    plugin = GradingPlugin(GradingContext(assignment, submission, assignment.load_reference(), dev, seed))
    try:
        with _tf32_off():
            pytest.main(_pytest_args(assignment, select, tasks), plugins=[plugin])
    finally:
        submission.close()
        if own_launcher:
            launcher.close()
    result.tests = plugin.results + _missing_tasks(assignment, plugin, seed, select, tasks)
    signs = tampering_signs(submission.cells)
    if signs:
        result.notices.append(f"your notebook reaches into the grading machinery ({'; '.join(signs)}): parts "
                              "with forbidden calls get no credit, since their check cannot be trusted")
        _forfeit_monitored_parts(result, assignment, signs)
    result.protections = [*launcher.protections, "notebook text scanned for code reaching into the grader"]
    if submission.load_report is not None:
        result.notices += [f"while loading your notebook, {p}" for p in submission.load_report.problems()]
    result.seconds = time.perf_counter() - started
    return result


def _forfeit_monitored_parts(result: GradingResult, assignment: Assignment, signs: list[str]) -> None:
    for t in result.tests:
        if assignment.forbidden.get(t.task) and t.passed:
            t.passed, t.points = False, 0.0
            t.message = Message(t.name, comparison=f"{t.task} is checked for forbidden calls, and your notebook reaches into "
                                f"the grader's call monitor ({'; '.join(signs)})",
                                hint="remove that code: grading decides from values in its own process, and the "
                                     "monitor's check is worth nothing once it is tampered with")
            t.detail = "flagged for review: " + "; ".join(signs)


def _missing_tasks(assignment: Assignment, plugin: GradingPlugin, seed: int, select: str | None,
                   tasks: list[str] | None) -> list[TestResult]:
    """A task whose graders did not run (a broken grader file) still shows, as a harness error."""
    if select:
        return []
    graded = {r.task for r in plugin.results}
    missing = [t.name for t in assignment.tasks if t.name not in graded and (tasks is None or t.name in tasks)]
    claim = "the graders for this part ran"
    return whole_task_failures(assignment, seed, claim, internal_error(claim), harness=True, tasks=missing,
                               detail="\n".join(plugin.collect_errors) or "no grader collected for this task")


class _tf32_off:
    """Compare in full precision: TF32 matmuls would blur float32 checks on Ampere and newer GPUs."""

    def __enter__(self) -> None:
        self.saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False

    def __exit__(self, *exc: object) -> None:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self.saved


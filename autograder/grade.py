"""Grade one submission: load it, run the hidden graders against it, and return the result as data."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from gradeworker.lazydynamo import defer as defer_dynamo
from gradeworker.lazyshapes import defer as defer_symbolic_shapes

from . import defaults, integrity
from .errors import NotebookError, UsageError
from .intake import check_upload, looks_like, solution_leak
from .launcher import Launcher
from .layout import Assignment, Course
from .messages import internal_error
from .notebook import code_to_run, defined_functions, parse_notebook, read_bytes, tampering_signs
from .plugin import GradingContext, GradingPlugin, seed_for
from .remote import Submission
from .results import Extras, GradingResult, Message, TestResult

# The references' optimizers would import torch._dynamo here too (1.5-2.5 s) for a graph break that does nothing
# while nothing compiles: kept off until something does (gradeworker.lazydynamo). The references' first gradient
# with grad_outputs would import sympy (0.4-0.7 s) to compare two plain shapes (gradeworker.lazyshapes).
defer_dynamo()
defer_symbolic_shapes()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return resolve_device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise UsageError(f"--device must be auto, cpu or cuda, not {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for, but torch sees no CUDA device here; use --device auto or cpu")
    if name == "cuda":
        torch.cuda.init()  # now, so that each test's seed reaches the CUDA generators too (see plugin)
    return torch.device(name)


def whole_task_failures(assignment: Assignment, seed: int, claim: str, message: Message, harness: bool = False,
                        tasks: list[str] | None = None, detail: str = "") -> list[TestResult]:
    """One failed result per graded part, for when its graders could not run at all."""
    return [TestResult(f"{t.cell_id}::{claim}", t.name, t.cell_id, claim, 0.0, t.points, False,
                       seed_for(seed, t.cell_id), message=message, detail=detail, harness_error=harness)
            for t in assignment.tasks if tasks is None or t.name in tasks]


def _pytest_args(assignment: Assignment, select: str | None, tasks: list[str] | None) -> list[str]:
    graders = assignment.course.graders_root
    files = assignment.grader_files()
    targets = [str(f) for t in tasks for f in files.get(t, [])] if tasks else [str(assignment.graders_dir)]
    # no:unraisableexception: its two gc.collect() after every run cost ~0.3 s a submission, for nothing here;
    # no:logging: its handlers, added and removed around every phase of every test, ~40 ms (no grader logs)
    # --disable-plugin-autoload: no plugin of the environment's (anyio's alone costs ~0.15 s a fresh grading)
    # --assert=plain: graders report through compare.expect, never a bare assert (tests/test_assignments.py keeps it
    # so), and rewriting every grader module's asserts cost a fresh grading ~0.1 s of parsing
    args = [*targets, "--disable-plugin-autoload", "--assert=plain", "-p", "no:terminal", "-p", "no:cacheprovider",
            "-p", "no:randomly", "-p", "no:xdist", "-p", "no:warnings", "-p", "no:unraisableexception",
            "-p", "no:logging", f"--rootdir={graders}", f"--confcutdir={graders}", "-c", str(graders / "pytest.ini")]
    return args + (["-k", select] if select else [])


def grade_submission(assignment_id: str, notebook: str | os.PathLike, *, course: Course | None = None,
                     device: str = defaults.DEVICE, seed: int = defaults.SEED, select: str | None = None,
                     tasks: list[str] | None = None, launcher: Launcher | None = None, student: str = "",
                     intake: Path | None = None) -> GradingResult:
    """Grade ``notebook`` against ``assignment_id``'s hidden graders. Never raises for bad submissions.

    ``select`` is a pytest ``-k`` expression; ``tasks`` limits grading to those contract functions.
    ``intake``: the folder a student's upload was found in; given, the upload is checked as intake.py says
    (no links, not the master notebook). The steps: read the notebook, load it into a worker, run the
    graders, apply the policies, finish.
    """
    started = time.perf_counter()
    course = course or Course.find()
    assignment = course.assignment(assignment_id)
    dev = resolve_device(device)
    result = _empty_result(assignment, notebook, seed, dev, student, _check_tasks(assignment, tasks))
    result.data_notice = integrity.refuse_without_data(course, assignment_id)
    try:
        cells = _intake(result, assignment, Path(notebook), intake, tasks)
    except NotebookError as exc:
        _unreadable(result, assignment, exc, tasks)
    else:
        if cells is None:  # refused, or another assignment's notebook: nothing of it runs
            result.seconds = time.perf_counter() - started
            return result
        with _owned(launcher) as active:
            if active.threads:  # the graders' references run here with the workers' share (provision.torch_threads)
                torch.set_num_threads(active.threads)
            submission = Submission(active, cells, assignment.forbidden, assignment.private_modules,
                                    assignment.allow_fork, grader_text=assignment.grader_text)
            # Without a GPU, device mistakes are looked for on the meta device; on a GPU the checks see them.
            submission.device_probe_skip = assignment.device_probe_skip if dev.type == "cpu" else None
            try:
                plugin = run_graders(assignment, submission, dev, seed, select, tasks)
            finally:
                submission.close()
            result.tests = plugin.results + _missing_tasks(assignment, plugin, seed, select, tasks)
            _apply_policies(result, assignment, submission)
            _add_extras(result, plugin.ctx.extras)
            result.protections = [*active.protections, *submission.protections(),
                                  "notebook text scanned for code reaching into the grader"]
    result.seconds = time.perf_counter() - started
    return result


def _check_tasks(assignment: Assignment, tasks: list[str] | None) -> list[str] | None:
    unknown = sorted(set(tasks or []) - {t.name for t in assignment.tasks})
    if unknown:
        raise UsageError(f"{assignment.id} has no graded part {', '.join(unknown)}; it has: "
                         f"{', '.join(t.name for t in assignment.tasks)}")
    return tasks


def _empty_result(assignment: Assignment, notebook: str | os.PathLike, seed: int, dev: torch.device, student: str,
                  tasks: list[str] | None) -> GradingResult:
    most = sum(t.points for t in assignment.tasks if not tasks or t.name in tasks)
    return GradingResult(assignment.id, str(notebook), max_score=most, seed=seed, device=str(dev),
                         student=student or Path(notebook).stem)


def _intake(result: GradingResult, assignment: Assignment, notebook: Path, base: Path | None,
            tasks: list[str] | None) -> list | None:
    """The code to run, or None when the result is already decided (and written on ``result``)."""
    if base is not None:
        check_upload(notebook, base)
    data = read_bytes(notebook)
    nb = parse_notebook(data, notebook.name)
    leak = solution_leak(assignment, data, nb) if base is not None else None
    if leak:
        result.refused = True
        result.flags.append(f"refused: {leak}")
        why = "your upload holds the instructor's solution notebook, not your own work"
        result.notices.append(f"{why}: it was not graded, and the course staff were told")
        result.tests = whole_task_failures(assignment, result.seed, "the submission is the student's own work",
                                           Message("the submission is the student's own work", comparison=why,
                                                   hint="submit the notebook you worked in"), tasks=tasks)
        return None
    cells = code_to_run(nb)
    other = looks_like(assignment, defined_functions(cells))
    if other:
        other_id, shared = other
        asked = ", ".join(t.name for t in assignment.tasks if not tasks or t.name in tasks)
        why = (f"this looks like {other_id} (it defines {', '.join(shared[:6])}), not {assignment.id}, which asks "
               f"for {asked}")
        result.notices.append(f"{why}: submit your {assignment.id} notebook")
        result.tests = whole_task_failures(assignment, result.seed, f"the notebook is {assignment.id}'s", Message(
            f"the notebook is {assignment.id}'s", comparison=why, hint=f"submit your {assignment.id} notebook"),
            tasks=tasks)
        return None
    return cells


def _unreadable(result: GradingResult, assignment: Assignment, exc: NotebookError, tasks: list[str] | None) -> None:
    result.notices.append(str(exc))
    result.tests = whole_task_failures(assignment, result.seed, "the notebook can be read", Message(
        "the notebook can be read", comparison=str(exc), hint="fix the file and submit again"), tasks=tasks)


def run_graders(assignment: Assignment, submission: Submission, dev: torch.device, seed: int,
                select: str | None, tasks: list[str] | None) -> GradingPlugin:
    """Run the assignment's hidden graders (pytest, in this process) against the loaded submission."""
    plugin = GradingPlugin(GradingContext(assignment, submission, assignment.load_reference(), dev, seed))
    with _tf32_off():
        pytest.main(_pytest_args(assignment, select, tasks), plugins=[plugin])
    return plugin


def _apply_policies(result: GradingResult, assignment: Assignment, submission: Submission) -> None:
    """What the checks alone do not decide: code reaching into the grader, and problems while loading."""
    signs = tampering_signs(submission.cells)
    if signs:
        result.notices.append(f"your notebook reaches into the grading machinery ({'; '.join(signs)}): parts "
                              "with forbidden calls get no credit, since their check cannot be trusted")
        _forfeit_monitored_parts(result, assignment, signs)
    if submission.load_report is not None:
        result.notices += [f"while loading your notebook, {p}" for p in submission.load_report.problems()]


def _add_extras(result: GradingResult, extras: Extras) -> None:
    result.notices += extras.notes
    result.leaderboard += extras.leaderboard
    result.attachments.update(extras.attachments)
    result.device_notes.update(extras.device_notes)


class _owned:
    """The caller's launcher, or one of our own for this submission alone (closed afterwards)."""

    def __init__(self, launcher: Launcher | None):
        self.given = launcher
        self.own: Launcher | None = None

    def __enter__(self) -> Launcher:
        if self.given is not None:
            return self.given
        self.own = Launcher()
        return self.own

    def __exit__(self, *exc: object) -> None:
        if self.own is not None:
            self.own.close()


def _forfeit_monitored_parts(result: GradingResult, assignment: Assignment, signs: list[str]) -> None:
    for t in result.tests:
        if assignment.forbidden.get(t.task) and t.passed:
            t.passed, t.points = False, 0.0
            t.message = Message(t.name, comparison=f"{t.task} is checked for forbidden calls, and your notebook "
                                f"reaches into the grader's call monitor ({'; '.join(signs)})",
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


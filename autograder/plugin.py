"""The pytest plugin that runs an assignment's hidden graders against one submission.

Conventions (the same id end to end): ``autograder/<id>/test_<task>.py`` grades the contract
function ``<task>`` and counts for the notebook's autograded cell ``test_<task>`` (a file may name its
task with ``TASK = "<task>"`` instead); each test carries
``@pytest.mark.points(n)`` (split evenly between parametrised cases); its docstring is the claim a
student reads. Fixtures: ``student`` (the submission in its worker), ``ref`` (the reference module),
``device`` (torch.device), ``seed`` (this test's seed; torch is already seeded with it).
"""
from __future__ import annotations

import hashlib
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
import torch

from .compare import CheckFailed
from .course import Assignment
from .failures import ForbiddenCallUsed, MissingFunction, SignatureMismatch, StudentCodeError, WorkerLost
from .remote import Submission
from .results import Message, TestResult


def seed_for(run_seed: int, node_id: str) -> int:
    """Each test's seed, from the run's seed and the test's id: a failure replays exactly."""
    return int.from_bytes(hashlib.sha256(f"{run_seed}:{node_id}".encode()).digest()[:4], "big")


@dataclass
class GradingContext:
    assignment: Assignment
    submission: Submission
    reference: Any
    device: torch.device
    run_seed: int


def task_of(item: pytest.Item) -> str:
    """The task a grader counts for: its module's ``TASK``, else its file name without ``test_``."""
    return getattr(getattr(item, "module", None), "TASK", None) or item.path.stem.removeprefix("test_")


def claim_of(item: pytest.Item) -> str:
    doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
    name = doc[0].strip() if doc else item.originalname.removeprefix("test_").replace("_", " ")
    params = getattr(item, "callspec", None)
    return f"{name} [{item.callspec.id}]" if params else name


class GradingPlugin:
    def __init__(self, ctx: GradingContext):
        self.ctx = ctx
        self.results: list[TestResult] = []
        self.max_points: dict[str, float] = {}
        self.cell_of = {t.name: t.cell_id for t in ctx.assignment.tasks}
        self.collect_errors: list[str] = []

    # ----- fixtures ------------------------------------------------------------------------------
    @pytest.fixture
    def student(self) -> Submission:
        return self.ctx.submission

    @pytest.fixture
    def ref(self) -> Any:
        return self.ctx.reference

    @pytest.fixture
    def device(self) -> torch.device:
        return self.ctx.device

    @pytest.fixture
    def seed(self, request: pytest.FixtureRequest) -> int:
        return seed_for(self.ctx.run_seed, request.node.nodeid)

    # ----- hooks ---------------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points this test is worth")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        order = {t.name: i for i, t in enumerate(self.ctx.assignment.tasks)}
        items.sort(key=lambda it: order.get(task_of(it), len(order)))  # notebook order; stable within a file
        siblings = Counter((it.path, it.originalname) for it in items)
        for it in items:
            marker = it.get_closest_marker("points")
            points = float(marker.args[0]) if marker else 0.0
            self.max_points[it.nodeid] = points / siblings[(it.path, it.originalname)]

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        seed = seed_for(self.ctx.run_seed, item.nodeid)
        torch.manual_seed(seed)
        item.stash[_started] = time.perf_counter()
        # The worker gets its own stream, derived from the same seed: were it seeded alike, a student's
        # first random draw would copy the grader's random inputs.
        self.ctx.submission.reset(seed_for(seed, "worker"))  # a dead worker is replaced here

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        report = outcome.get_result()
        if call.when == "call" or (call.when == "setup" and report.failed):
            self.results.append(self._result(item, call))

    def _result(self, item: pytest.Item, call: pytest.CallInfo) -> TestResult:
        task = task_of(item)
        max_points = self.max_points.get(item.nodeid, 0.0)
        seed = seed_for(self.ctx.run_seed, item.nodeid)
        seconds = time.perf_counter() - item.stash.get(_started, time.perf_counter())
        result = TestResult(item.nodeid, task, self.cell_of.get(task, f"test_{task}"), claim_of(item), 0.0,
                            max_points, False, seed, round(seconds, 3))
        if call.excinfo is None:
            result.passed, result.points = True, max_points
            return result
        exc = call.excinfo.value
        result.message, result.harness_error = explain(exc, task, result.name)
        result.detail = _detail(call.excinfo, exc)
        return result


_started = pytest.StashKey[float]()


def _detail(excinfo: pytest.ExceptionInfo, exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(excinfo.type, exc, excinfo.tb))[-6000:]]
    if isinstance(exc, StudentCodeError) and exc.traceback:
        parts.append(f"student traceback:\n{exc.traceback}")
    if isinstance(exc, WorkerLost) and exc.output:
        parts.append(f"worker output (tail):\n{exc.output}")
    return "\n".join(parts)


# PyTorch errors students meet most, and what to do about each.
ERROR_HINTS = [
    ("leaf Variable that requires grad is being used in an in-place operation",
     "a tensor that requires grad was changed in place: update parameters inside `with torch.no_grad():`, "
     "and never write into a function's inputs (return a new tensor)"),
    ("Expected all tensors to be on the same device",
     "create new tensors on the input's device (device=X.device); never call .cpu() or .cuda() on inputs"),
    ("can't convert cuda", "stay in torch: NumPy only works on CPU tensors"),
    ("Can't call numpy() on Tensor that requires grad", "stay in torch, or use .detach() before .numpy()"),
    ("shapes cannot be multiplied", "print the shapes of both operands of the matrix product: for A @ B, "
     "A.shape[-1] must equal B.shape[0] (flatten images to (n, d) first)"),
    ("must match the size of tensor", "print the shapes of both operands; broadcasting could not line them up"),
    ("expected scalar type", "create new tensors with the input's dtype (dtype=X.dtype)"),
    ("same dtype", "create new tensors with the input's dtype (dtype=X.dtype)"),
    ("does not require grad and does not have a grad_fn",
     "the parameters need requires_grad=True, and the loss must be computed from them with torch operations"),
    ("backward through the graph a second time", "compute a fresh loss for every backward()"),
    ("'NoneType' object has no attribute", "a tensor's .grad is None until backward() fills it, and `p = p - ...` "
     "makes a new tensor without one: update parameters in place"),
]


def error_hint(text: str) -> str:
    for pattern, hint in ERROR_HINTS:
        if pattern in text:
            return hint
    return "run the notebook's public tests for this function and read the traceback"


def internal_error(claim: str) -> Message:
    return Message(claim, comparison="the grader could not run this check (internal error)",
                   hint="this is not your fault; your TA has the details")


def explain(exc: BaseException, task: str, claim: str) -> tuple[Message, bool]:
    """The student message for any way a test can fail, and whether the grader itself is at fault."""
    if isinstance(exc, CheckFailed):
        return Message(exc.checked, exc.inputs, exc.comparison, exc.hint, exc.mistake), False
    if isinstance(exc, StudentCodeError):
        where = f" ({exc.traceback.strip().splitlines()[0].strip()})" if exc.traceback.strip() else ""
        if exc.type == "NotImplementedError":
            return Message(claim, comparison=f"{exc.function} is not implemented yet (it raises "
                           "NotImplementedError)", hint=f"replace `raise NotImplementedError()` in {exc.function} "
                           "with your code"), False
        return Message(claim, comparison=f"{exc.function} raised {exc.type}: {exc.text}{where}",
                       hint=error_hint(exc.text)), False
    if isinstance(exc, MissingFunction):
        return Message(claim, comparison=f"no function named {exc.name} is defined in your notebook",
                       hint=f"keep the name and signature of the released stub `def {exc.name}(...)`; check the "
                            "cell that defines it runs without errors (see the notes above)"), False
    if isinstance(exc, SignatureMismatch):
        return Message(claim, comparison=exc.text, hint="keep the signature of the released stub"), False
    if isinstance(exc, ForbiddenCallUsed):
        if exc.tampered:
            return Message(claim, comparison=f"{exc.function} switched off the forbidden-call monitor "
                           "(sys.setprofile / threading.setprofile)", hint="do not change profiling hooks"), False
        return Message(claim, comparison=f"{exc.function} called {', '.join(exc.calls)}, which this exercise "
                       "forbids", hint="implement it yourself from basic tensor operations; "
                       "the library call would do the exercise for you"), False
    if isinstance(exc, WorkerLost):
        why = ("it may loop forever, or be far too slow" if "did not finish" in exc.reason
               else "os._exit, sys.exit in a thread, a crash in native code, or running out of memory")
        return Message(claim, comparison=f"while running {exc.function}: {exc.reason} (worker {exc.status})",
                       hint=f"{why}; the grader started a fresh process for the next check"), False
    if isinstance(exc, AssertionError):
        return Message(claim, comparison=str(exc).split("\n")[0][:500] or "a check failed"), False
    return internal_error(claim), True  # a HarnessError, or a grader that raised: not the student's doing

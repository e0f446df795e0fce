"""The pytest plugin that runs an assignment's hidden graders against one submission.

Conventions (the same id end to end): ``graders/<id>/test_<task>.py`` grades the contract
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
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from gradeworker.seeding import seed_torch

from .compare import device_probe_failure, device_probe_note
from .errors import CheckFailed, StudentCodeError, WorkerLost
from .layout import Assignment
from .messages import explain
from .remote import Submission
from .results import Extras, Message, TestResult


def seed_for(run_seed: int, node_id: str) -> int:
    """Each test's seed, from the run's seed and the test's id: a failure replays exactly."""
    return int.from_bytes(hashlib.sha256(f"{run_seed}:{node_id}".encode()).digest()[:4], "big")


DTYPES = [torch.float32, torch.float64]


@dataclass
class GradingContext:
    assignment: Assignment
    submission: Submission
    reference: Any
    device: torch.device
    run_seed: int
    extras: Extras = field(default_factory=Extras)


class Report:
    """A grader's handle on the report: ``note`` (text the student reads), ``attach`` (a file written
    beside feedback.md, e.g. a PNG of training curves), ``leaderboard`` (Gradescope leaderboard rows)."""

    def __init__(self, extras: Extras, task: str):
        self.extras, self.task = extras, task

    def note(self, text: str) -> None:
        self.extras.notes.append(f"{self.task}: {text}")

    def attach(self, filename: str, data: bytes) -> None:
        if "/" in filename or "\\" in filename or filename.startswith("."):
            raise ValueError(f"attachment names are plain file names, not {filename!r}")
        self.extras.attachments[filename] = bytes(data)

    def leaderboard(self, name: str, value: float | int | str, order: str = "desc") -> None:
        if order not in ("asc", "desc"):
            raise ValueError("order is 'asc' or 'desc'")
        self.extras.leaderboard.append({"name": name, "value": value, **({"order": order} if order == "asc" else {})})


def task_of(item: pytest.Item) -> str:
    """The task a grader counts for: its module's ``TASK``, else its file name without ``test_``."""
    return getattr(getattr(item, "module", None), "TASK", None) or item.path.stem.removeprefix("test_")


def _original_name(item: pytest.Item) -> str:
    """The test function's own name, without its parameters (every grader item is a pytest.Function)."""
    return getattr(item, "originalname", item.name)


def claim_of(item: pytest.Item) -> str:
    doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
    name = doc[0].strip() if doc else _original_name(item).removeprefix("test_").replace("_", " ")
    params = getattr(item, "callspec", None)
    return f"{name} [{params.id}]" if params else name


class GradingPlugin:
    def __init__(self, ctx: GradingContext):
        self.ctx = ctx
        self.results: list[TestResult] = []
        self.max_points: dict[str, float] = {}
        self.cell_of = {t.name: t.cell_id for t in ctx.assignment.tasks}
        self.collect_errors: list[str] = []
        self.general_rules: set[str] = set()  # node ids of tests marked general_rule

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

    @pytest.fixture(params=DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
    def dtype(self, request: pytest.FixtureRequest) -> torch.dtype:
        """Each floating dtype the contract accepts: a test using it runs once per dtype."""
        return request.param

    @pytest.fixture
    def report(self, request: pytest.FixtureRequest) -> "Report":
        """What a grader adds to the student's report besides pass or fail: notes, files, leaderboard rows."""
        return Report(self.ctx.extras, task_of(request.node))

    # ----- hooks ---------------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points this test is worth")
        config.addinivalue_line("markers", "general_rule: a rule a non-answer passes too (inputs untouched, the "
                                "input's dtype kept): its points need one of the task's other tests passed")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        order = {t.name: i for i, t in enumerate(self.ctx.assignment.tasks)}
        items.sort(key=lambda it: order.get(task_of(it), len(order)))  # notebook order; stable within a file
        siblings = Counter((it.path, _original_name(it)) for it in items)
        for it in items:
            marker = it.get_closest_marker("points")
            points = float(marker.args[0]) if marker else 0.0
            self.max_points[it.nodeid] = points / siblings[(it.path, _original_name(it))]
            if it.get_closest_marker("general_rule"):
                self.general_rules.add(it.nodeid)

    def pytest_sessionfinish(self) -> None:
        """A general rule earns nothing for a non-answer: ``return X * 0`` leaves X untouched, in its dtype,
        but computes nothing; its points come once any of the task's value checks passes."""
        answered = {r.task for r in self.results if r.passed and r.id not in self.general_rules}
        for r in self.results:
            if r.id in self.general_rules and r.passed and r.task not in answered:
                r.passed, r.points = False, 0.0
                r.message = Message(r.name, comparison=f"not counted yet: none of {r.task}'s checks of its values "
                                    "passed, and this rule holds for code that computes nothing too",
                                    hint=f"make {r.task} compute the right result first (see its other checks)")

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        seed = seed_for(self.ctx.run_seed, item.nodeid)
        seed_torch(seed)
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
        exc = call.excinfo.value if call.excinfo is not None else self._device_failure()
        if exc is None:
            result.passed, result.points = True, max_points
            return result
        result.message, result.harness_error = explain(exc, task, result.name)
        result.detail = _detail(call.excinfo, exc) if call.excinfo is not None else ""
        return result

    def _device_failure(self) -> CheckFailed | None:
        """A test whose checks all passed still fails when a function it called, made again with its inputs
        on the meta device, left a tensor on the CPU (it would fail on the GPU runner). Only then: a wrong
        answer is told about its values first. Probes that could conclude nothing go to the staff notes."""
        failure = None
        for label, probe in self.ctx.submission.device_probes.items():
            failure = failure or device_probe_failure(probe, label)
            note = device_probe_note(probe)
            if note is not None:
                self.ctx.extras.device_notes.setdefault(label, note)
        return failure


_started = pytest.StashKey[float]()


def _detail(excinfo: pytest.ExceptionInfo, exc: BaseException) -> str:
    parts = ["".join(traceback.format_exception(excinfo.type, exc, excinfo.tb))[-6000:]]
    if isinstance(exc, StudentCodeError) and exc.traceback:
        parts.append(f"student traceback:\n{exc.traceback}")
    if isinstance(exc, WorkerLost) and exc.output:
        parts.append(f"worker output (tail):\n{exc.output}")
    return "\n".join(parts)

"""The floor of a grading: the same graders, in this process, with no worker, no sandbox, no fork (UNSAFE).

``floor_seconds(course, notebooks, assignment_id)`` execs each notebook's cells in this process and runs the
assignment's graders against them through the worker's own request handlers and an in-memory codec round
trip, so values and handles behave as in a real worker: what grading costs with none of the isolation. An
unsafe mode that exists only in the benchmarks (class_scale, assignment_speed, grade_speed), never reachable
from the CLI; never use it on untrusted code. ``floors_at_once`` measures it in several processes at the
same time: the contention a pool's slots have.
"""
from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path[:0] = [str(ROOT)]

_FLOOR_MONITOR: dict = {}  # assignment id -> the worker's monitor factory, installed once per process


def floor_seconds(course, notebooks: list[Path], assignment_id: str = "hw1_linear_regression",
                  threads: int | None = None) -> list[float]:
    """Each notebook's grading time with its cells exec'd in this process and the graders calling them
    directly (through the worker's own request handlers and an in-memory codec round trip, so values and
    handles behave as in a real worker). ``threads``: torch's, as a grading of one slot has them
    (provision.torch_threads) unless told. Never use this on untrusted code."""
    import torch

    from autograder.grade import run_graders
    from autograder.handles import wrap
    from autograder.notebook import code_to_run, read_notebook
    from autograder.provision import Limits, torch_threads
    from autograder.remote import LoadReport, Submission
    from gradeworker import codec, toolbox
    from gradeworker.protocol import Op, Reply
    from gradeworker.server import Worker

    def roundtrip(message, to_handle=None):  # what a socket would carry, in memory
        return codec.read_message(io.BytesIO(codec.encode(message, to_handle)).read)

    class InProcessSubmission(Submission):
        def __init__(self, cells, assignment):
            super().__init__(None, cells, assignment.forbidden, assignment.private_modules)
            self.server = Worker(None, {})
            # The dispatcher's check is installed once per process, as in a real worker: installing it again
            # would wrap the previous kernels, and freeing those later breaks the operators (lstsq).
            if _FLOOR_MONITOR.get(assignment.id) is None:
                self.server.op_prepare(sorted({n for names in self.forbidden.values() for n in names}))
                _FLOOR_MONITOR[assignment.id] = self.server.monitor_for
            self.server.monitor_for = _FLOOR_MONITOR[assignment.id]
            loaded = self.server.op_load([{"index": c.index, "source": c.source} for c in cells], 10.0).value
            self.load_report = LoadReport(cells=loaded["cells"], names=sorted(self.server.op_names().value))
            self.generation = 1
            # An open part graded by training (hw7) reads the run's limits, and evaluates its weights in a
            # fresh worker: here the same process (the floor has no isolation to renew).
            self.launcher = SimpleNamespace(limits=Limits())

        def ensure_worker(self) -> None:
            pass

        def fresh_worker(self) -> None:
            pass

        def request(self, op, function, timeout=None, inherit=None, on_progress=None, **fields):
            from autograder.handles import unwrap
            fields = roundtrip({k: unwrap(v, 1) for k, v in fields.items()})
            self.server.request_id = self._new_id()
            # Interim replies (a training run's weights) go straight to the caller, through the same round trip.
            toolbox.progress_sink = lambda value: on_progress and on_progress(
                Reply.from_wire(roundtrip(self.server.reply(value=value, progress=True).to_wire(),
                                          self.server.to_handle), self.server.request_id).value)
            reply = getattr(self.server, f"op_{Op(op).value}")(**fields)
            wire = roundtrip(reply.to_wire(), self.server.to_handle)
            reply = Reply.from_wire(wire, self.server.request_id)
            reply.value = wrap(reply.value, self, 1, inherit or [])
            return reply

        def close(self) -> None:
            pass

    assignment = course.assignment(assignment_id)
    # What the fork server preloads for its workers' meta-device probes: the real symbolic_shapes and sympy, where
    # this (grader) process has lazyshapes' stand-in.
    from gradeworker.lazyshapes import real_module
    real_module()
    times = []
    threads = threads or torch_threads() or torch.get_num_threads()
    home = os.getcwd()
    for nb in notebooks:
        torch.set_num_threads(threads)  # again each time: graders set one thread for their timings
        started = time.perf_counter()
        cells = code_to_run(read_notebook(nb))
        # In a folder of its own, as a worker's: graders write files there (hw7's checkpoints, hw8's CSV files).
        with tempfile.TemporaryDirectory(prefix="floor-") as folder:
            os.chdir(folder)
            try:
                submission = InProcessSubmission(cells, assignment)
                # The same checks as a CPU grading makes, the device probe on meta included (grade_submission).
                submission.device_probe_skip = assignment.device_probe_skip
                plugin = run_graders(assignment, submission, torch.device("cpu"), 0, None, None)
            finally:
                os.chdir(home)
        times.append(time.perf_counter() - started)
        score, most = sum(r.points for r in plugin.results), sum(t.points for t in assignment.tasks)
        failed = [(r.name, str(r.detail)[-600:]) for r in plugin.results if not r.passed]
        assert score == most, f"the floor graded {nb.name} {score}, not {most}: {failed}"
    return times


def _floor_in_child(job: tuple[list[str], str, int | None]) -> list[float]:
    from autograder.layout import Course
    paths, assignment_id, threads = job
    return floor_seconds(Course.find(ROOT), [Path(p) for p in paths], assignment_id, threads)


def floors_at_once(notebooks: list[Path], copies: int, assignment_id: str = "hw1_linear_regression",
                   threads: int | None = None) -> list[float]:
    """The floor measured in ``copies`` processes at the same time: the contention the pool's slots had;
    ``threads``: torch's intra-op threads in each, as the slots measured beside it had them."""
    import multiprocessing
    with multiprocessing.get_context("spawn").Pool(copies) as pool:
        runs = pool.map(_floor_in_child, [([str(nb) for nb in notebooks], assignment_id, threads)] * copies)
    return [t for run in runs for t in run]

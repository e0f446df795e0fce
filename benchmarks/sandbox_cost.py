"""What the walls cost: one sandboxed worker start, and hw1's per-submission batch time, with and without.

    .venv/bin/python benchmarks/sandbox_cost.py [--runs 5]

Side by side in one run, in one process, each a median of --runs:
  - a submission's first process started and ready (fork server warm): with the walls (cgroup, namespaces,
    private filesystem, uid, seccomp) and without (a plain fork);
  - a worker lost in a test, replaced: a new process that loads the notebook's good cells again (hw1's
    correct submission) and serves the next test (what a crash or a timeout costs);
  - grading a correct hw1 submission in a warm batch, with and without the walls.
Goals (the hardening issue): under 100 ms per sandboxed start, a batch no more than 15 % slower.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ID = "hw1_linear_regression"
NOTEBOOK = ROOT / "tests" / "submissions" / ID / "correct_solution.ipynb"


def start_times(launcher, runs: int) -> tuple[list[float], list[float]]:
    """(first process of a submission, up to its hello; a lost worker replaced, up to serving)."""
    from autograder.layout import Course
    from autograder.notebook import CodeCell, code_to_run, read_notebook
    from autograder.remote import Submission
    assignment = Course.find(ROOT).assignment(ID)
    cells = code_to_run(read_notebook(NOTEBOOK))
    starts, replaced = [], []
    for _ in range(runs + 1):  # the first warms the fork server
        sub = Submission(launcher, [CodeCell(1, "x = 1")], {})
        began = time.perf_counter()
        sub._launch()
        starts.append(time.perf_counter() - began)
        sub.close()
        sub = Submission(launcher, cells, assignment.forbidden, assignment.private_modules)
        sub.ensure_worker()
        sub._drop("worker")  # as a crash or a timeout would
        began = time.perf_counter()
        sub.ensure_worker()
        replaced.append(time.perf_counter() - began)
        sub.close()
    return starts[1:], replaced[1:]


def batch_times(launcher, runs: int) -> list[float]:
    from autograder.grade import grade_submission
    grade_submission(ID, NOTEBOOK, device="cpu", launcher=launcher)  # warm-up, paid once per batch
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        assert grade_submission(ID, NOTEBOOK, device="cpu", launcher=launcher).score == 100
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from autograder.launcher import Launcher
    figures = {}
    for walls in (True, False):
        with Launcher(jail=walls) as launcher:
            if not walls:
                launcher.cgroups.where = None  # no cgroup either: the bare fork
            starts, replaced = start_times(launcher, args.runs)
            figures[walls] = (statistics.median(starts), statistics.median(replaced),
                              statistics.median(batch_times(launcher, args.runs)))
            if walls:
                from autograder.notebook import CodeCell
                from autograder.remote import Submission
                sub = Submission(launcher, [CodeCell(1, "x = 1")], {})
                sub.reset(0)
                layers = sub.protections()
                sub.close()
    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores); median of {args.runs}")
    print(f"walls in force: {'; '.join(layers)}")
    print(f"{'':36} {'with walls':>12} {'without':>12}")
    labels = ["submission's first process ready", "lost worker replaced (cells again)", "hw1 correct, warm batch"]
    for i, label in enumerate(labels):
        unit, scale = ("ms", 1000) if i < 2 else ("s", 1)
        print(f"{label:36} {figures[True][i] * scale:>10.1f}{unit:>2} {figures[False][i] * scale:>10.1f}{unit:>2}")
    slower = figures[True][2] / figures[False][2] - 1
    print(f"sandboxed start: {figures[True][0] * 1000:.0f} ms (goal < 100 ms); batch {slower:+.0%} (goal <= +15 %)")


if __name__ == "__main__":
    main()

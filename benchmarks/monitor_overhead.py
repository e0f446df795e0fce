"""What the forbidden-call monitor costs: hw1's and hw2's grading with it and without it.

    .venv/bin/python benchmarks/monitor_overhead.py [--runs 3] [--ids hw1_linear_regression hw2_softmax_regression]

Grades each assignment's correct example submission in one process with a warm fork server (a batch's
steady state), alternating two modes so that load on the machine hits both alike:
  - on:  as graded (profile hook + the dispatcher's check, armed during every monitored call);
  - off: the same grading with an empty forbidden list (no hook, no kernels registered).
Prints the median seconds of each mode and the overhead (on / off - 1); the goal is under 10 %.
Also the cost of one call of a checked operator outside a monitored call (the kernels stay registered).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grade import grade_submission  # noqa: E402
from autograder.launcher import Launcher  # noqa: E402
from autograder.layout import Course  # noqa: E402

IDS = ["hw1_linear_regression", "hw2_softmax_regression"]


def grade_once(course: Course, assignment_id: str, launcher: Launcher, monitored: bool) -> float:
    assignment = course.assignment(assignment_id)
    original = Course.assignment
    if not monitored:
        assignment.__dict__["forbidden"] = {}  # the cached property, emptied for this run
    Course.assignment = lambda self, name: assignment
    try:
        notebook = ROOT / "tests" / "submissions" / assignment_id / "correct_solution.ipynb"
        result = grade_submission(assignment_id, notebook, course=course, launcher=launcher, device="cpu")
    finally:
        Course.assignment = original
    if result.score != result.max_score:
        raise SystemExit(f"{assignment_id}: the correct solution scored {result.score} (monitored={monitored})")
    return result.seconds


def kernel_cost(calls: int = 200, blocks: int = 10) -> tuple[float, float]:
    """Microseconds per torch.softmax call without and with the check registered (not armed): the best
    of several blocks, which a loaded machine disturbs least."""
    import torch

    from gradeworker.dispatch import install
    X = torch.randn(64, 10)

    def per_call() -> float:
        best = float("inf")
        for _ in range(blocks):
            started = time.perf_counter()
            for _ in range(calls):
                torch.softmax(X, 1)
            best = min(best, (time.perf_counter() - started) / calls * 1e6)
        return best
    per_call()
    before = per_call()
    arm, disarm = install(["torch.softmax"])
    after = per_call()
    del arm, disarm
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ids", nargs="*", default=IDS)
    args = parser.parse_args()
    course = Course.find(ROOT)
    launcher = Launcher()
    try:
        grade_once(course, args.ids[0], launcher, True)  # warm-up: fork server, imports, caches
        for assignment_id in args.ids:
            times = {True: [], False: []}
            for _ in range(args.runs):
                for monitored in (False, True):
                    times[monitored].append(grade_once(course, assignment_id, launcher, monitored))
            on, off = statistics.median(times[True]), statistics.median(times[False])
            print(f"{assignment_id}: monitor on {on:.2f} s, off {off:.2f} s (median of {args.runs}); "
                  f"overhead {100 * (on / off - 1):+.1f} %  [on: {' '.join(f'{t:.2f}' for t in times[True])}; "
                  f"off: {' '.join(f'{t:.2f}' for t in times[False])}]")
    finally:
        launcher.close()
    before, after = kernel_cost()
    print(f"torch.softmax outside a monitored call: {before:.1f} us plain, {after:.1f} us with the check registered")


if __name__ == "__main__":
    main()

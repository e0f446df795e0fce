"""Each assignment's warm grading time beside its floor: its correct example submission, in a batch's steady state.

    .venv/bin/python benchmarks/assignment_speed.py [--runs 3] [--ids hw4_dropout hw5_cnn ...] [--no-floor]

One grading process and one launcher (a fork server already running, a spare worker started ahead), as a
batch slot grades; each assignment is graded once to warm up, then --runs times; prints the median and
every run, and beside it the floor (``floor.py``: the same graders against the same notebook exec'd in this
process, no worker and no sandbox; median of --runs) and the ratio. Goal (the hw5 issue): a correct hw5
submission takes no more than twice hw4's time. ``grade_speed.py`` prints this table too.
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

SUBMISSIONS = ROOT / "tests" / "submissions"


def correct_notebook(assignment_id: str) -> Path:
    return SUBMISSIONS / assignment_id / "correct_solution.ipynb"


def warm_times(ids: list[str], runs: int, threads: int | None = None) -> dict[str, list[float]]:
    """Per assignment, --runs warm grading times of its correct submission (one launcher for all); ``threads``:
    torch's intra-op threads here and in the workers (default: one slot's, as a grading sets them)."""
    from autograder.grade import grade_submission
    from autograder.launcher import Launcher
    times: dict[str, list[float]] = {}
    with Launcher(spares=True, threads=threads) as launcher:
        for assignment_id in ids:
            notebook = correct_notebook(assignment_id)
            grade_submission(assignment_id, notebook, device="cpu", launcher=launcher)  # warm-up
            times[assignment_id] = []
            for _ in range(runs):
                started = time.perf_counter()
                result = grade_submission(assignment_id, notebook, device="cpu", launcher=launcher)
                times[assignment_id].append(time.perf_counter() - started)
                if result.score != result.max_score:
                    sys.exit(f"{assignment_id}: the correct submission scored {result.score}/{result.max_score}")
    return times


def floor_times(ids: list[str], runs: int) -> dict[str, list[float]]:
    """Per assignment, the floor of the same grading, ``runs`` times (after one warm-up, as the warm times)."""
    from floor import floor_seconds

    from autograder.layout import Course
    course = Course.find(ROOT)
    return {a: floor_seconds(course, [correct_notebook(a)] * (runs + 1), a)[1:] for a in ids}


def print_table(warm: dict[str, list[float]], floor: dict[str, list[float]] | None) -> None:
    med = statistics.median
    print(f"  {'assignment':24} {'warm':>7} {'floor':>7} {'ratio':>6}   (each warm run)")
    for assignment_id, times in warm.items():
        base = med(floor[assignment_id]) if floor else None
        beside = f"{base:6.2f} s {med(times) / base:5.2f}x" if base else f"{'':8} {'':6}"
        print(f"  {assignment_id:24} {med(times):5.2f} s {beside}   ({' '.join(f'{t:.2f}' for t in times)})",
              flush=True)
    if "hw4_dropout" in warm and "hw5_cnn" in warm:
        ratio = med(warm["hw5_cnn"]) / med(warm["hw4_dropout"])
        print(f"  hw5 / hw4: {ratio:.2f} (goal <= 2: {'met' if ratio <= 2 else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ids", nargs="*", help="assignment ids (default: every one with a correct_solution)")
    parser.add_argument("--no-floor", action="store_true", help="leave the floor out (it doubles the time)")
    args = parser.parse_args()
    ids = args.ids or sorted(p.parent.name for p in SUBMISSIONS.glob("*/correct_solution.ipynb"))
    load = os.getloadavg()[0]
    warm = warm_times(ids, args.runs)
    floor = None if args.no_floor else floor_times(ids, args.runs)
    print(f"warm grading, median of {args.runs}, {os.cpu_count()} CPU cores, load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (1 min)")
    print_table(warm, floor)


if __name__ == "__main__":
    main()

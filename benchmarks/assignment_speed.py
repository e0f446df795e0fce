"""Each assignment's warm grading time: its correct example submission, in a batch's steady state.

    .venv/bin/python benchmarks/assignment_speed.py [--runs 3] [--ids hw4_dropout hw5_cnn ...]

One grading process and one launcher (a fork server already running, a spare worker started ahead), as a
batch slot grades; each assignment is graded once to warm up, then --runs times; prints the median and
every run. Goal (the hw5 issue): a correct hw5 submission takes no more than twice hw4's time.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBMISSIONS = ROOT / "tests" / "submissions"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ids", nargs="*", help="assignment ids (default: every one with a correct_solution)")
    args = parser.parse_args()
    from autograder.grade import grade_submission
    from autograder.launcher import Launcher
    ids = args.ids or sorted(p.parent.name for p in SUBMISSIONS.glob("*/correct_solution.ipynb"))
    medians = {}
    with Launcher(spares=True) as launcher:
        for assignment_id in ids:
            notebook = SUBMISSIONS / assignment_id / "correct_solution.ipynb"
            grade_submission(assignment_id, notebook, device="cpu", launcher=launcher)  # warm-up
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = grade_submission(assignment_id, notebook, device="cpu", launcher=launcher)
                times.append(time.perf_counter() - started)
                if result.score != result.max_score:
                    sys.exit(f"{assignment_id}: the correct submission scored {result.score}/{result.max_score}")
            medians[assignment_id] = statistics.median(times)
            print(f"{assignment_id:24} {medians[assignment_id]:6.2f} s   ({' '.join(f'{t:.2f}' for t in times)})",
                  flush=True)
    if "hw4_dropout" in medians and "hw5_cnn" in medians:
        ratio = medians["hw5_cnn"] / medians["hw4_dropout"]
        print(f"hw5 / hw4: {ratio:.2f} (goal <= 2: {'met' if ratio <= 2 else 'MISSED'})")


if __name__ == "__main__":
    main()

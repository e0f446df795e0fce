"""How often the graders NAME the mistake of a catalogued wrong implementation, per assignment.

    .venv/bin/python benchmarks/named_rate.py [--ids hw1_linear_regression hw5_cnn ...] [--list]

Grades every entry of tests/catalogue/<id>.py (the reference's solution with that one part replaced, only that
part graded, as tests/test_catalogue.py does) and prints, per assignment: how many were caught (lost points),
and of those how many messages carry a "Likely mistake" (a named mistake, not only the check that failed).
The goal (issue 21) is 90 % named on every assignment. --list prints the entries caught but not named.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ids", nargs="*", help="assignment ids (default: every one with a catalogue)")
    parser.add_argument("--list", action="store_true", help="print the entries caught without a named mistake")
    args = parser.parse_args()
    from autograder.grade import grade_submission
    from autograder.launcher import Launcher
    from conftest import TEST_LIMITS, load_module
    from helpers import assignment_ids, fill, solution_cells, write

    ids = args.ids or [i for i in assignment_ids() if (ROOT / "tests" / "catalogue" / f"{i}.py").is_file()]
    rows = []
    with Launcher(limits=TEST_LIMITS) as launcher, tempfile.TemporaryDirectory() as tmp:
        for assignment_id in ids:
            caught, named, unnamed = 0, 0, []
            entries = load_module(ROOT / "tests" / "catalogue" / f"{assignment_id}.py").WRONG
            for wrong in entries:
                answers = {**solution_cells(assignment_id), wrong.task: wrong.source}
                notebook = write(fill(assignment_id, answers), Path(tmp) / f"{wrong.task}.ipynb")
                result = grade_submission(assignment_id, notebook, device="cpu", launcher=launcher,
                                          tasks=[wrong.task])
                if result.score >= result.max_score:
                    continue
                caught += 1
                if any(t.message is not None and t.message.mistake for t in result.tests if not t.passed):
                    named += 1
                else:
                    unnamed.append(f"{wrong.task}: {wrong.title}")
            rows.append((assignment_id, len(entries), caught, named))
            print(f"{assignment_id:24s} {len(entries):4d} entries, {caught:4d} caught, {named:4d} named "
                  f"({100 * named / max(caught, 1):.0f} %)", flush=True)
            if args.list:
                for line in unnamed:
                    print(f"    not named: {line}")
    total_caught, total_named = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"{'all':24s} {sum(r[1] for r in rows):4d} entries, {total_caught:4d} caught, {total_named:4d} named "
          f"({100 * total_named / max(total_caught, 1):.0f} %)")


if __name__ == "__main__":
    main()

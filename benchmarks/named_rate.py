"""How often the graders NAME the mistake of a catalogued wrong implementation, per assignment.

    .venv/bin/python benchmarks/named_rate.py [--ids hw1_linear_regression hw5_cnn ...] [--list]

Grades every entry of tests/catalogue/<id>.py (the reference's solution with that one part replaced, only that
part graded, as tests/test_catalogue.py does) and prints, per assignment: how many were caught (lost points),
and of those how many messages name what the code did. What counts as named:

- a failed check whose message carries a "Likely mistake" (``Message.mistake``): the grader recognised the
  mistake from the code's behaviour (its output matched what that mistake gives, a dtype, a detached graph...);
- a forbidden call seen by the call monitor ("f called torch.cdist, which this exercise forbids"): the message
  names the very call the code made. These are counted, but shown apart (the "forbidden" column), so that a
  catalogue cannot reach its rate on them alone.

Not named: a message that only says which check failed or what value differed ("X modified in place",
"expected 2.19, got 2.18") without a "Likely mistake". The goal (issue 21) is 90 % named on every
assignment. --list prints the entries caught but not named. tests/test_catalogue.py prints the same rate per
assignment (run it with -n 0 -s to see it).
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
    from helpers import assignment_ids, fill, named_kind, solution_cells, write

    ids = args.ids or [i for i in assignment_ids() if (ROOT / "tests" / "catalogue" / f"{i}.py").is_file()]
    rows = []
    with Launcher(limits=TEST_LIMITS) as launcher, tempfile.TemporaryDirectory() as tmp:
        for assignment_id in ids:
            caught, named, forbidden, unnamed = 0, 0, 0, []
            entries = load_module(ROOT / "tests" / "catalogue" / f"{assignment_id}.py").WRONG
            for wrong in entries:
                answers = {**solution_cells(assignment_id), wrong.task: wrong.source}
                notebook = write(fill(assignment_id, answers), Path(tmp) / f"{wrong.task}.ipynb")
                result = grade_submission(assignment_id, notebook, device="cpu", launcher=launcher,
                                          tasks=[wrong.task])
                if result.score >= result.max_score:
                    continue
                caught += 1
                kind = named_kind(result)
                if kind == "named":
                    named += 1
                elif kind == "forbidden":
                    named += 1
                    forbidden += 1
                else:
                    unnamed.append(f"{wrong.task}: {wrong.title}")
            rows.append((assignment_id, len(entries), caught, named))
            print(f"{assignment_id:24s} {len(entries):4d} entries, {caught:4d} caught, {named:4d} named "
                  f"({100 * named / max(caught, 1):.0f} %; {forbidden} of them forbidden calls)", flush=True)
            if args.list:
                for line in unnamed:
                    print(f"    not named: {line}")
    total_caught, total_named = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"{'all':24s} {sum(r[1] for r in rows):4d} entries, {total_caught:4d} caught, {total_named:4d} named "
          f"({100 * total_named / max(total_caught, 1):.0f} %)")


if __name__ == "__main__":
    main()

"""A cell that hangs costs its time once: grading a correct hw1 notebook with and without an untagged
cell that trains for 60 s (a student's training loop left without the `demo` tag).

    .venv/bin/python benchmarks/endless_cell.py

Both are graded in one process by a fresh `autograder grade`-like run (own launcher each). Goal: the
second within the first plus the cell limit (10 s) plus 5 s: the cell is stopped once, while loading,
and no test's worker runs it again (a replaced worker loads only the cells that did not hang).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ID = "hw1_linear_regression"
CORRECT = ROOT / "tests" / "submissions" / ID / "correct_solution.ipynb"
TRAINING_CELL = """\
# my training run (left without the demo tag)
import time
features, labels = synthetic_data(torch.tensor([2.0, -3.4]), 4.2, 1000)
started = time.time()
while time.time() - started < 60:
    w, b = train_linreg(features, labels, num_epochs=1)
"""


def with_training_cell(path: Path) -> dict:
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": TRAINING_CELL.splitlines(keepends=True)})
    return nb


def graded_seconds(notebook: Path) -> tuple[float, float]:
    from autograder.grade import grade_submission
    from autograder.launcher import Launcher
    began = time.perf_counter()
    with Launcher() as launcher:
        result = grade_submission(ID, notebook, device="cpu", launcher=launcher)
    return time.perf_counter() - began, result.score


def main() -> None:
    from autograder.provision import Limits
    with tempfile.TemporaryDirectory() as tmp:
        slow = Path(tmp) / "untagged_training.ipynb"
        slow.write_text(json.dumps(with_training_cell(CORRECT)))
        plain_s, plain_score = graded_seconds(CORRECT)
        slow_s, slow_score = graded_seconds(slow)
    limit = Limits().cell_seconds
    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores)")
    print(f"correct hw1:                          {plain_s:6.1f} s  score {plain_score:g}")
    print(f"same + an untagged 60 s training cell: {slow_s:6.1f} s  score {slow_score:g}")
    print(f"difference {slow_s - plain_s:+.1f} s; goal: at most the cell limit ({limit:g} s) + 5 s")


if __name__ == "__main__":
    main()

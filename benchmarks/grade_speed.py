"""Grading speed: our autograder against `nbgrader autograde`, on the same correct hw1 submission.

    .venv/bin/python benchmarks/grade_speed.py [--runs 3] [--notebook PATH]

Measured side by side in one run, each the median of --runs:
  - `autograder grade` as a TA runs it: a fresh process (Python start-up, import torch, the fork server);
  - our steady state in a batch: a grading process whose fork server is already running;
  - `nbgrader autograde` in a scratch course (it executes the whole notebook in a kernel, demos included).
Also the peak resident memory of the largest process in each cold run.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ID = "hw1_linear_regression"
DEFAULT_NOTEBOOK = ROOT / "tests" / "submissions" / ID / "correct_solution.ipynb"


# nbgrader runs `alembic` by name: the environment's bin folder must be on PATH even when not activated.
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MiB) of the largest process the command ran."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def ours_cold(notebook: Path, out: Path) -> tuple[float, float]:
    return timed([sys.executable, "-m", "autograder", "grade", ID, str(notebook), "--device", "cpu",
                  "--results", str(out / "results.json")], ROOT)


def ours_warm(notebook: Path, runs: int) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from autograder.grade import grade_submission
    from autograder.launcher import Launcher
    times = []
    with Launcher() as launcher:
        grade_submission(ID, notebook, device="cpu", launcher=launcher)  # start-up, paid once per batch
        for _ in range(runs):
            started = time.perf_counter()
            result = grade_submission(ID, notebook, device="cpu", launcher=launcher)
            times.append(time.perf_counter() - started)
            assert result.score == 100, result.score
    return times


def nbgrader_course(notebook: Path) -> Path:
    course = Path(tempfile.mkdtemp(prefix="nbgrader-bench-"))
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = '.'\nc.CourseDirectory.course_id = 'bench'\n")
    shutil.copytree(ROOT / "source" / ID, course / "source" / ID)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for step in (["generate_assignment", ID, "--force"], ["db", "student", "add", "bench"]):
        subprocess.run([*nbgrader, *step, "--log-level=ERROR"], cwd=course, check=True, env=ENV)
    return course


def nbgrader_cold(course: Path, notebook: Path) -> tuple[float, float]:
    target = course / "submitted" / "bench" / ID / f"{ID}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, target)
    return timed([sys.executable, "-m", "nbgrader", "autograde", ID, "--student", "bench", "--force",
                  "--log-level=ERROR"], course)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--notebook", type=Path, default=DEFAULT_NOTEBOOK)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="grade-bench-"))
    course = nbgrader_course(args.notebook)
    ours, theirs = [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine load
        ours.append(ours_cold(args.notebook, out))
        theirs.append(nbgrader_cold(course, args.notebook))
    warm = ours_warm(args.notebook, args.runs)
    shutil.rmtree(course, ignore_errors=True)
    med = lambda xs: statistics.median(xs)  # noqa: E731
    print(f"{ID}, correct submission {args.notebook.name}, median of {args.runs} runs, {os.cpu_count()} CPU cores")
    print(f"  autograder grade (fresh process, CLI)        {med([s for s, _ in ours]):6.2f} s")
    print(f"  autograder, batch steady state (warm)        {med(warm):6.2f} s per submission")
    print(f"  nbgrader autograde (fresh process, CLI)      {med([s for s, _ in theirs]):6.2f} s")
    speedup = med([s for s, _ in theirs]) / med([s for s, _ in ours])
    print(f"  speed-up, CLI against CLI                    {speedup:6.2f}x")
    print(f"  peak RSS of the largest process so far        {max(m for _, m in ours + theirs):6.0f} MiB")


if __name__ == "__main__":
    main()

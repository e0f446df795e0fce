"""How long a student waits for a check of a complete hw2 notebook (goal: under 5 s on the 2-core machine).

Three checks of the same notebook (the release filled with the solution, forbidden.json beside it), each in a
fresh process, as a student starts them:

* ``python -m d2lcourse validate``: the course's check (one fresh Python process, demo cells skipped);
* ``nbgrader validate`` with the course's ``nbgrader_config.py``: the toolbar's Validate as configured, which
  runs the same check inside nbgrader's Validator;
* ``nbgrader validate`` with nbgrader's own settings: a Jupyter kernel runs every cell, demos included (what the
  toolbar did before).

Prints, per check, the median wall time and the CPU time the processes used (wall time on a shared machine
depends on the others; CPU time much less), and the load average when the run began.

    .venv/bin/python benchmarks/validate_speed.py [--runs 3] [--assignment hw2_softmax_regression] [--no-stock]
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
sys.path.insert(0, str(ROOT / "tests"))

from helpers import fill, solution_cells, write  # noqa: E402


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode, done.stdout + done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="hw2_softmax_regression")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-stock", action="store_true", help="leave out nbgrader's own (slow) Validate")
    args = parser.parse_args()
    aid = args.assignment
    with tempfile.TemporaryDirectory(prefix="validate-speed-") as tmp:
        folder = Path(tmp)
        notebook = write(fill(aid, solution_cells(aid)), folder / f"{aid}.ipynb")
        shutil.copy(ROOT / "release" / aid / "forbidden.json", folder)
        stock = folder / "stock"
        stock.mkdir()
        shutil.copy(notebook, stock)
        shutil.copy(ROOT / "release" / aid / "forbidden.json", stock)
        shutil.copy(ROOT / "nbgrader_config.py", folder)  # the course's: nbgrader's Validate runs our check
        env = {**os.environ, "D2L_DATA_ROOT": str(folder / "no-data"), "MPLBACKEND": "Agg", "TQDM_DISABLE": "1"}
        checks = [("python -m d2lcourse validate", [sys.executable, "-m", "d2lcourse", "validate", notebook.name],
                   folder),
                  ("nbgrader validate, the course's config", [sys.executable, "-m", "nbgrader", "validate",
                                                              notebook.name], folder)]
        if not args.no_stock:
            checks.append(("nbgrader validate, nbgrader's own", [sys.executable, "-m", "nbgrader", "validate",
                                                                 notebook.name], stock))
        print(f"{aid}, complete notebook; load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
              f"{args.runs} runs each (median)")
        for name, cmd, cwd in checks:
            walls, cpus = [], []
            for _ in range(args.runs):
                wall, cpu, rc, out = timed(cmd, cwd, env)
                if rc != 0 or "FAILED" in out or "Traceback" in out:
                    print(f"{name}: exit {rc}, not a clean pass:\n{out[-3000:]}")
                    return 1
                walls.append(wall)
                cpus.append(cpu)
            print(f"  {name:<42} wall {statistics.median(walls):5.1f} s   cpu {statistics.median(cpus):5.1f} s"
                  f"   (wall runs: {', '.join(f'{w:.1f}' for w in walls)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

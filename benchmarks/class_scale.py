"""Class-scale grading cost: 100 hw1 submissions on the local pool and on Ray, 20 with nbgrader, and a floor.

    .venv/bin/python benchmarks/class_scale.py [--quick] [--jobs 2] [--no-ray] [--no-nbgrader]

One run, on the same generated submissions (a temp dir; a mix of correct, wrong, half-done, cheating and
one notebook with a looping cell, made from tests/submissions/hw1_linear_regression/ and the catalogue):
  - the local pool (``grade_batch(..., jobs=J)``), as ``autograder batch`` runs it;
  - Ray on this machine (a private cluster on 127.0.0.1 with J CPUs), as ``--engine ray`` runs it;
  - ``nbgrader autograde`` on 20 of them (the looping one left out: it would only measure nbgrader's timeout);
  - the floor: the same graders run in this process against the correct notebooks' functions, with no
    worker process, no sandbox and no fork (``InProcessSubmission`` below: an unsafe mode that exists only
    here, never reachable from the CLI).
Printed: seconds per submission (batch wall time / count, and each correct submission's own grading
time in the warm batch), peak memory per slot (PSS of a grading process and everything under it), and
the overhead of the harness above the floor, next to the goals; with several slots, also above the floor
measured in as many processes at once (the same contention for the cores as the pool's slots had).
``--quick``: 24 submissions, 6 for nbgrader.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
ID = "hw1_linear_regression"
EXAMPLES = ROOT / "tests" / "submissions" / ID
GOAL_SECONDS, GOAL_OVERHEAD = 1.0, 1.5
from floor import floor_seconds, floors_at_once  # noqa: E402  (benchmarks/ is the script's folder)

ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


# ----- the submissions -------------------------------------------------------------------------------
def make_submissions(folder: Path, count: int) -> dict[str, str]:
    """``count`` notebooks in ``folder``, about 40 % correct, 35 % wrong (one catalogued mistake each),
    10 % half done, 13 % cheating, and exactly one with a looping cell. Returns student -> kind."""
    from catalogue.hw1_linear_regression import WRONG

    from helpers import fill, load, solution_cells, write
    solved = solution_cells(ID)
    kinds: dict[str, str] = {}
    cheats = sorted(p.stem for p in EXAMPLES.glob("cheat_*.ipynb") if p.stem != "cheat_infinite_loop")
    plan = (["correct"] * round(count * 0.40) + ["wrong"] * round(count * 0.35) + ["half_done"] * round(count * 0.10)
            + ["cheat"] * round(count * 0.13))
    plan = (plan + ["correct"] * count)[:count - 1] + ["looping"]
    random.Random(0).shuffle(plan)
    for i, kind in enumerate(plan):
        student = f"s{i:03d}_{kind}"
        if kind == "correct":
            nb = load(EXAMPLES / ("correct_solution.ipynb" if i % 3 else "correct_alternative.ipynb"))
        elif kind == "wrong":
            mistake = WRONG[i % len(WRONG)]
            nb = fill(ID, {**solved, mistake.task: mistake.source})
        elif kind == "half_done":
            nb = load(EXAMPLES / "half_done.ipynb")
        elif kind == "cheat":
            nb = load(EXAMPLES / f"{cheats[i % len(cheats)]}.ipynb")
        else:
            nb = load(EXAMPLES / "cheat_infinite_loop.ipynb")
        nb.setdefault("metadata", {})["bench_student"] = student  # every file distinct, as real ones are
        write(nb, folder / f"{student}.ipynb")
        kinds[student] = kind
    return kinds


# ----- memory: PSS per slot (a grading process and all its descendants) --------------------------------
def _proc_table() -> dict[int, tuple[int, str]]:
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        table[int(entry)] = (ppid, cmd)
    return table


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    """Every ``period`` s: the PSS of each slot's process tree; slots are processes whose command line
    contains ``marker``. Keeps the peak per slot, and the peak of the other processes matching ``fixed``."""

    def __init__(self, marker: str, fixed: str | None = None, period: float = 0.5):
        super().__init__(daemon=True)
        self.marker, self.fixed, self.period = marker, fixed, period
        self.peak_slot_kib, self.peak_fixed_kib, self.stop = 0, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            table = _proc_table()
            children: dict[int, list[int]] = {}
            for pid, (ppid, _) in table.items():
                children.setdefault(ppid, []).append(pid)
            roots = [pid for pid, (_, cmd) in table.items() if self.marker in cmd]
            in_slots = set()
            for root in roots:
                tree, stack = [], [root]
                while stack:
                    pid = stack.pop()
                    tree.append(pid)
                    stack += children.get(pid, [])
                in_slots.update(tree)
                self.peak_slot_kib = max(self.peak_slot_kib, sum(_pss_kib(p) for p in tree))
            if self.fixed:
                fixed = [p for p, (_, cmd) in table.items() if self.fixed in cmd and p not in in_slots
                         and p != os.getpid()]
                self.peak_fixed_kib = max(self.peak_fixed_kib, sum(_pss_kib(p) for p in fixed))
            self.stop.wait(self.period)

    def __enter__(self) -> "MemorySampler":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join()


# ----- the engines ----------------------------------------------------------------------------------
def run_batch(course, subs, out: Path, jobs: int, engine: str) -> tuple[float, list]:
    from autograder.batch import grade_batch
    started = time.perf_counter()
    results = grade_batch(course, ID, subs, out, jobs=jobs, device="cpu", engine=engine, force=True)
    return time.perf_counter() - started, results


def run_ray(course, subs, out: Path, jobs: int) -> dict:
    from autograder.batch import grade_batch
    from autograder.ray_engine import import_ray, start_local_cluster
    import_ray()
    started = time.perf_counter()
    cluster = start_local_cluster(cpus=jobs)
    cluster_start = time.perf_counter() - started
    try:
        with MemorySampler("ray::", fixed="/ray/") as memory:
            started = time.perf_counter()
            results = grade_batch(course, ID, subs, out, jobs=jobs, device="cpu", engine="ray", force=True,
                                  address=cluster.address)
            wall = time.perf_counter() - started
    finally:
        cluster.stop()
    return {"wall": wall, "results": results, "start": cluster_start, "memory": memory}


def nbgrader_batch(notebooks: list[Path]) -> float:
    """``nbgrader autograde`` of these notebooks in a scratch course, one nbgrader process for all."""
    course = Path(tempfile.mkdtemp(prefix="nbgrader-bench-"))
    try:
        (course / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.root = '.'\nc.CourseDirectory.course_id = 'bench'\n")
        shutil.copytree(ROOT / "source" / ID, course / "source" / ID)
        nbgrader = [sys.executable, "-m", "nbgrader"]
        subprocess.run([*nbgrader, "generate_assignment", ID, "--force", "--log-level=ERROR"], cwd=course,
                       check=True, env=ENV, capture_output=True)
        for nb in notebooks:
            target = course / "submitted" / nb.stem / ID / f"{ID}.ipynb"
            target.parent.mkdir(parents=True)
            shutil.copy(nb, target)
        started = time.perf_counter()
        subprocess.run([*nbgrader, "autograde", ID, "--force", "--log-level=ERROR"], cwd=course, env=ENV,
                       capture_output=True, timeout=3600)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(course, ignore_errors=True)


# ----- main -------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="24 submissions (6 for nbgrader): for a shared machine")
    parser.add_argument("--count", type=int, help="submissions to generate (default 100, --quick 24)")
    parser.add_argument("--jobs", type=int, default=2, help="slots: pool processes, and Ray CPUs")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--no-nbgrader", action="store_true")
    parser.add_argument("--keep", type=Path, help="write the submissions and results here instead of a temp dir")
    args = parser.parse_args()
    count = args.count or (24 if args.quick else 100)
    n_nbgrader = 6 if args.quick else 20
    from autograder.batch import find_submissions
    from autograder.layout import Course
    course = Course.find(ROOT)
    work = args.keep or Path(tempfile.mkdtemp(prefix="class-scale-"))
    kinds = make_submissions(work / "submitted", count)
    subs = find_submissions(ID, [work / "submitted"])
    load_before = os.getloadavg()
    counts = list(kinds.values())
    mix = ", ".join(f"{k} {counts.count(k)}" for k in ("correct", "wrong", "half_done", "cheat", "looping"))
    print(f"{count} hw1 submissions in {work}: {mix}", flush=True)

    # With one slot the batch grades in this process (no pool): its tree is the slot.
    with MemorySampler("spawn_main" if args.jobs > 1 else Path(__file__).name) as pool_memory:
        pool_wall, pool_results = run_batch(course, subs, work / "pool", args.jobs, "pool")
    print(f"pool done in {pool_wall:.1f} s", flush=True)
    ray = None
    if not args.no_ray:
        from autograder.layout import UsageError
        try:
            ray = run_ray(course, subs, work / "ray", args.jobs)
            print(f"ray done in {ray['wall']:.1f} s", flush=True)
        except UsageError:
            print("Ray is not installed (pip install '.[ray]'): its line is left out")
    correct = [work / "submitted" / f"{s}.ipynb" for s, k in kinds.items() if k == "correct"]
    floor = floor_seconds(course, correct[:8])
    floor_loaded = floors_at_once(correct[:8], args.jobs) if args.jobs > 1 else floor
    nb_wall = None
    if not args.no_nbgrader:
        sample = [work / "submitted" / f"{s}.ipynb" for s, k in kinds.items() if k != "looping"][:n_nbgrader]
        nb_wall = nbgrader_batch(sample) / len(sample)
    load_after = os.getloadavg()

    med = statistics.median
    by_student = {r.student: r for r in pool_results}
    warm_correct = [by_student[s].seconds for s, k in kinds.items() if k == "correct"][args.jobs:]  # past start-up
    if ray is not None:
        mismatched = [r.student for r, p in zip(ray["results"], pool_results) if r.score != p.score]
        assert not mismatched, f"Ray and the pool disagree on {mismatched}"
    looping = next(by_student[s] for s, k in kinds.items() if k == "looping")
    print()
    print(f"hw1, {count} submissions, {args.jobs} slots, {os.cpu_count()} CPU cores; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (1 min)")
    print(f"  {'':44} {'measured':>10}   goal")
    print(f"  {'pool: batch wall / submission':44} {pool_wall / count:8.2f} s")
    print(f"  {'pool: one correct submission, warm (median)':44} {med(warm_correct):8.2f} s   <= {GOAL_SECONDS:.1f} s"
          f"  {'met' if med(warm_correct) <= GOAL_SECONDS else 'MISSED'}")
    print(f"  {'  (each: ' + ' '.join(f'{t:.2f}' for t in sorted(warm_correct)) + ')'}")
    print(f"  {'floor: same graders in-process (median)':44} {med(floor):8.2f} s")
    overhead = med(warm_correct) / med(floor)
    print(f"  {'overhead: warm correct / floor':44} {overhead:8.2f} x   <= {GOAL_OVERHEAD:.1f} x"
          f"  {'met' if overhead <= GOAL_OVERHEAD else 'MISSED'}")
    if args.jobs > 1:  # like for like: the floor with as many copies sharing the cores as the pool had slots
        loaded_overhead = med(warm_correct) / med(floor_loaded)
        print(f"  {f'floor: {args.jobs} copies at once (median)':44} {med(floor_loaded):8.2f} s")
        print(f"  {'overhead: warm correct / that floor':44} {loaded_overhead:8.2f} x   <= {GOAL_OVERHEAD:.1f} x"
              f"  {'met' if loaded_overhead <= GOAL_OVERHEAD else 'MISSED'}")
    print(f"  {'pool: peak memory per slot (PSS)':44} {pool_memory.peak_slot_kib / 1024:8.0f} MiB")
    print(f"  {'the looping submission alone':44} {looping.seconds:8.2f} s   (score {looping.score:g})")
    if ray is not None:
        ray_seconds = [r.seconds for r in ray["results"]]
        print(f"  {'ray (1 node): batch wall / submission':44} {ray['wall'] / count:8.2f} s")
        print(f"  {'ray: one submission inside its task (median)':44} {med(ray_seconds):8.2f} s")
        print(f"  {'ray: cluster start (once)':44} {ray['start']:8.2f} s")
        print(f"  {'ray: peak memory per slot (PSS)':44} {ray['memory'].peak_slot_kib / 1024:8.0f} MiB")
        print(f"  {'ray: its own processes (gcs, raylet, ...)':44} {ray['memory'].peak_fixed_kib / 1024:8.0f} MiB")
    if nb_wall is not None:
        print(f"  {f'nbgrader autograde ({n_nbgrader}, one process)':44} {nb_wall:8.2f} s per submission")
    print(json.dumps({"count": count, "slots": args.jobs, "pool_wall_per_sub": pool_wall / count,
                      "warm_correct_median": med(warm_correct), "floor_median": med(floor), "overhead": overhead,
                      "floor_at_once_median": med(floor_loaded),
                      "overhead_at_once": med(warm_correct) / med(floor_loaded),
                      "pool_peak_slot_mib": pool_memory.peak_slot_kib / 1024,
                      "ray_wall_per_sub": ray and ray["wall"] / count,
                      "ray_peak_slot_mib": ray and ray["memory"].peak_slot_kib / 1024,
                      "ray_fixed_mib": ray and ray["memory"].peak_fixed_kib / 1024,
                      "nbgrader_per_sub": nb_wall, "load": [load_before[0], load_after[0]]}))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Grading speed in one run: a fresh `autograder grade` beside stock `nbgrader autograde`, Gradescope's
run_autograder, where the fresh grading spends its time, and the warm per-assignment times beside the floor.

    .venv/bin/python benchmarks/grade_speed.py [--runs 5] [--warm-runs 3] [--ids hw1_linear_regression ...]
                                               [--skip nbgrader gradescope profile warm slots]

On the correct hw1 submission (tests/submissions/hw1_linear_regression/correct_solution.ipynb), each figure
the median of --runs, interleaved so that all of them see the same machine load (the 1-minute load average is
printed beside each run, since a shared machine's figures move with it):
  - `autograder grade` as a TA runs it: a fresh process (Python start-up, import torch, the fork server);
  - stock `nbgrader autograde` in a scratch course: nbgrader's preprocessors as shipped (it executes the whole
    notebook in a kernel, demos included), not routed through our graders;
  - Gradescope's `run_autograder` in the stand-in layout tests/test_gradescope.py builds (the bundle unzipped
    into <root>/source, the upload in <root>/submission, GRADESCOPE_ROOT=<root>), after setup.sh's warm step;
  - profile: one more fresh grading, in a child process, timed phase by phase: the grader's own start-up, the
    fork server's preload step by step (as it reports it), the worker's requests (seconds by operation and
    function, as the grader waits for them), and the grader process's heaviest calls (cProfile);
  - warm: each assignment's correct submission in a batch's steady state beside its floor (the same graders
    in-process, no worker, no sandbox: floor.py), --warm-runs each (assignment_speed.py's table);
  - slots: two warm slots at once (two grading processes, each its own launcher) beside the floor run two
    at once (floor.py's floors_at_once): the overhead of two slots, like for like: every process with the
    torch threads `autograder batch -j 2` gives a slot here (provision.torch_threads); the warm table's floor,
    those of one slot.
Goals (issue 23): fresh grade <= 3 s and <= 0.3x nbgrader; run_autograder within 0.5 s of the fresh grade;
two warm slots <= 1.5x the floor run two at once.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
ID = "hw1_linear_regression"
NOTEBOOK = ROOT / "tests" / "submissions" / ID / "correct_solution.ipynb"
GOAL_FRESH, GOAL_VS_NBGRADER, GOAL_GRADESCOPE_GAP, GOAL_SLOTS = 3.0, 0.3, 0.5, 1.5
SECTIONS = ("nbgrader", "gradescope", "profile", "warm", "slots")

# nbgrader runs `alembic` by name: the environment's bin folder must be on PATH even when not activated.
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
med = statistics.median


def load() -> float:
    return os.getloadavg()[0]


def timed(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """Wall seconds of the command, and the 1-minute load average when it started."""
    before = load()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env or ENV)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, before


# ----- the three fresh ways ----------------------------------------------------------------------------
def fresh_grade(out: Path) -> tuple[float, float]:
    return timed([str(Path(sys.executable).parent / "autograder"), "grade", ID, str(NOTEBOOK), "--device", "cpu",
                  "--results", str(out / "results.json")], ROOT)


def nbgrader_course() -> Path:
    course = Path(tempfile.mkdtemp(prefix="nbgrader-bench-"))
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = '.'\nc.CourseDirectory.course_id = 'bench'\n")
    shutil.copytree(ROOT / "source" / ID, course / "source" / ID)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for step in (["generate_assignment", ID, "--force"], ["db", "student", "add", "bench"]):
        subprocess.run([*nbgrader, *step, "--log-level=ERROR"], cwd=course, check=True, env=ENV)
    target = course / "submitted" / "bench" / ID / f"{ID}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(NOTEBOOK, target)
    return course


def nbgrader_autograde(course: Path) -> tuple[float, float]:
    return timed([sys.executable, "-m", "nbgrader", "autograde", ID, "--student", "bench", "--force",
                  "--log-level=ERROR"], course)


def gradescope_root() -> Path:
    """The stand-in for Gradescope's /autograder, as tests/test_gradescope.py builds it."""
    from autograder.gradescope import build_bundle
    from autograder.layout import Course
    root = Path(tempfile.mkdtemp(prefix="gradescope-bench-"))
    bundle = build_bundle(Course.find(ROOT), ID, root / f"{ID}.zip")
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy(NOTEBOOK, root / "submission" / "my upload.ipynb")
    # setup.sh's last step, as when Gradescope builds the image: the fork server's cache filled once
    subprocess.run([sys.executable, "-m", "autograder.gradescope", "warm"], cwd=root / "source" / "course_root",
                   check=True, env={**_gradescope_env(root), "PYTHONPATH": str(root / "source" / "course_root")})
    return root


def _gradescope_env(root: Path) -> dict:
    return {"GRADESCOPE_ROOT": str(root), "PYTHON": sys.executable, "PATH": "/usr/bin:/bin",
            "AUTOGRADER_CACHE": str(root / "cache")}


def run_autograder(root: Path) -> tuple[float, float]:
    seconds = timed(["bash", str(root / "source" / "run_autograder")], root, _gradescope_env(root))
    score = json.loads((root / "results" / "results.json").read_text())["score"]
    assert score == 100, f"run_autograder scored the correct submission {score}"
    return seconds


# ----- the profile of one fresh grading (in a child process: --profile-child) ----------------------------
def profile_child() -> None:
    """One fresh grading as `autograder grade` does it (the launcher first, then the grading code), timed
    phase by phase from this process's start; prints one JSON object."""
    started = time.perf_counter()
    marks: list[tuple[str, float]] = []

    def mark(what: str) -> None:
        marks.append((what, time.perf_counter() - started))

    import cProfile
    import io
    import pstats
    profile = cProfile.Profile()
    profile.enable()
    from autograder import cli  # noqa: F401  (what the console script imports first)
    from autograder.launcher import Launcher
    from autograder.layout import Course
    mark("CLI imported (no torch yet)")
    course = Course.find(ROOT)
    launcher = Launcher()
    mark("fork server started")
    from autograder import grade, remote
    mark("grading code imported (torch, pytest)")
    asks: dict[str, list[float]] = {}
    ask = remote.Submission._ask

    def timed_ask(self, role, op, function, *args, **kwargs):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return ask(self, role, op, function, *args, **kwargs)
        finally:
            key = f"{op.value if op is not None else 'reply'} ({function})"
            entry = asks.setdefault(key, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - began
            if op is not None and op.value == "serve":
                mark("worker loaded the notebook and serves")
    remote.Submission._ask = timed_ask  # type: ignore[method-assign]
    start_worker = launcher.start

    def timed_start(*args, **kwargs):  # type: ignore[no-untyped-def]
        if launcher.forkserver is not None:
            launcher.forkserver.wait_ready()
            mark("fork server ready (its preload done)")
        worker = start_worker(*args, **kwargs)
        mark("worker forked")
        return worker
    launcher.start = timed_start  # type: ignore[method-assign]
    with launcher:
        result = grade.grade_submission(ID, NOTEBOOK, course=course, device="cpu", launcher=launcher)
        mark("graded")
    mark("launcher closed")
    profile.disable()
    assert result.score == 100, result.score
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(14)  # where the grader's own time goes (waiting on the worker: recv)
    stats.sort_stats("cumulative").print_stats(r"graders/|solutions/|autograder/(compare|plugin|handles)", 10)
    print(json.dumps({"marks": marks, "preload": launcher.forkserver.preload if launcher.forkserver else [],
                      "asks": asks, "cprofile": text.getvalue()}))


def print_profile() -> None:
    done = subprocess.run([sys.executable, __file__, "--profile-child"], capture_output=True, text=True, env=ENV,
                          cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"the profiled grading failed:\n{done.stderr[-3000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nprofile of one fresh grading (load average {load():.1f}):")
    print("  the grader process, seconds since it started:")
    for what, at in data["marks"]:
        print(f"    {at:7.2f}  {what}")
    print("  the fork server's preload (its own clock; in parallel with the grader's imports):")
    for step, seconds in data["preload"]:
        print(f"    {seconds:7.2f}  {step}")
    print("  the worker's requests, as the grader waits for them (count, seconds):")
    for key, (count, seconds) in sorted(data["asks"].items(), key=lambda kv: -kv[1][1])[:12]:
        print(f"    {seconds:7.2f}  {count:4d}  {key}")
    print("  the grader process (cProfile): its heaviest functions by own time, then the graders' and the")
    print("  comparisons' by cumulative time (recv: waiting for the worker)")
    for line in data["cprofile"].splitlines():
        line = line.strip().replace(str(ROOT) + "/", "").replace(sys.prefix + "/", "")
        if line and line[0].isdigit():
            print("    " + line[:140])


# ----- warm slots ----------------------------------------------------------------------------------------
def _warm_slot(job: tuple[int, int | None]) -> list[float]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from assignment_speed import warm_times
    runs, threads = job
    return warm_times([ID], runs, threads)[ID]


def two_slots(runs: int, threads: int | None) -> tuple[list[float], list[float]]:
    """Warm hw1 times of two grading processes running at once, and the floor measured two at once, each process
    (and each slot's workers) with ``threads`` torch threads."""
    import multiprocessing

    from floor import floors_at_once
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        runs_each = pool.map(_warm_slot, [(runs, threads)] * 2)
    floor = floors_at_once([NOTEBOOK] * (runs + 1), 2, threads=threads)
    return [t for run in runs_each for t in run], floor


# ----- main ---------------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh gradings of each kind (median)")
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--ids", nargs="*", help="assignments for the warm table (default: every one)")
    parser.add_argument("--skip", nargs="*", default=[], choices=SECTIONS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_child:
        profile_child()
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    print(f"{os.cpu_count()} CPU cores; load average {load():.1f} at the start (1 min)", flush=True)
    out = Path(tempfile.mkdtemp(prefix="grade-bench-"))
    course = nbgrader_course() if "nbgrader" not in args.skip else None
    gradescope = gradescope_root() if "gradescope" not in args.skip else None
    fresh, stock, bundle = [], [], []
    for _ in range(args.runs):  # interleaved, so that all three see the same machine load
        fresh.append(fresh_grade(out))
        if course is not None:
            stock.append(nbgrader_autograde(course))
        if gradescope is not None:
            bundle.append(run_autograder(gradescope))
    print(f"\nfresh grading of {NOTEBOOK.relative_to(ROOT)}, median of {args.runs} "
          "(each run: seconds@load average at its start)")

    def line(label: str, runs: list[tuple[float, float]], goal: str = "") -> None:
        each = " ".join(f"{s:.2f}@{la:.0f}" for s, la in runs)
        print(f"  {label:42} {med([s for s, _ in runs]):6.2f} s  {goal:30} ({each})")
    fresh_med = med([s for s, _ in fresh])
    line("autograder grade (fresh process, CLI)", fresh, f"<= {GOAL_FRESH:g} s: {verdict(fresh_med <= GOAL_FRESH)}")
    if stock:
        stock_med = med([s for s, _ in stock])
        line("nbgrader autograde (stock, fresh process)", stock)
        ratio = fresh_med / stock_med
        print(f"  {'autograder / nbgrader':42} {ratio:6.2f} x  "
              f"<= {GOAL_VS_NBGRADER:g}x: {verdict(ratio <= GOAL_VS_NBGRADER)}")
    if bundle:
        bundle_med = med([s for s, _ in bundle])
        gap = bundle_med - fresh_med
        line("Gradescope run_autograder (stand-in)", bundle, f"within {GOAL_GRADESCOPE_GAP:g} s of grade: "
             f"{gap:+.2f} s {verdict(gap <= GOAL_GRADESCOPE_GAP)}")
    shutil.rmtree(out, ignore_errors=True)
    for folder in (course, gradescope):
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    if "profile" not in args.skip:
        print_profile()
    if "warm" not in args.skip:
        from assignment_speed import SUBMISSIONS, floor_times, print_table, warm_times
        ids = args.ids or sorted(p.parent.name for p in SUBMISSIONS.glob("*/correct_solution.ipynb"))
        before = load()
        warm = warm_times(ids, args.warm_runs)
        floor = floor_times(ids, args.warm_runs)
        print(f"\nwarm grading (one slot, a batch's steady state) beside the floor, median of {args.warm_runs}; "
              f"load average {before:.1f} before, {load():.1f} after")
        print_table(warm, floor)
    if "slots" not in args.skip:
        from autograder.provision import torch_threads
        threads = torch_threads(2)  # what `autograder batch -j 2` gives each slot here (jobs.share_cores)
        before = load()
        slots, floor2 = two_slots(args.warm_runs + 2, threads)
        ratio = med(slots) / med(floor2)
        print(f"\ntwo warm slots at once, hw1 correct, {threads or 'torch default'} torch thread(s) in every process "
              f"as `batch -j 2` sets them (load average {before:.1f} before, {load():.1f} after)")
        print(f"  {'two slots: warm grading (median)':42} {med(slots):6.2f} s  ({' '.join(f'{t:.2f}' for t in slots)})")
        print(f"  {'floor, two at once (median)':42} {med(floor2):6.2f} s  ({' '.join(f'{t:.2f}' for t in floor2)})")
        print(f"  {'two slots / floor two at once':42} {ratio:6.2f} x  "
              f"<= {GOAL_SLOTS:g}x: {verdict(ratio <= GOAL_SLOTS)}")


if __name__ == "__main__":
    main()

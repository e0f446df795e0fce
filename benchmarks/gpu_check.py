"""The GPU runner, proven in one command: grade on CUDA what CI grades on the CPU, and time it.

    python benchmarks/gpu_check.py --device cuda --out docs/gpu-check-$(date +%F).md    # on the GPU machine
    python benchmarks/gpu_check.py --device cpu --quick                                 # CI's rehearsal

Needs only what a GPU host has: Python 3.12, torch, torchvision, pytest, scikit-learn (no nbgrader, no
nbformat; run from the checkout with ``PYTHONPATH=.:course`` when the project is not installed). Prints,
and writes to ``--out`` as Markdown:

1. the walls that hold around student code on this host (``autograder probe``);
2. per assignment, the source notebook's and two example submissions' scores graded with ``--device``
   beside the same graded on the CPU in this run (they must be equal), and the grading time of each;
3. hw5's ``conv2d`` (the source notebook's, in the worker) against ``F.conv2d``, on ``--device``;
4. hw7's open part on ``--device``: the leaderboard's training time and accuracy, and the reference
   model's training throughput in images per second on Fashion-MNIST-shaped batches;
5. hw8's open part on ``--device``: the embedder's KNN accuracy and training time.

Exit status 1 when a score on ``--device`` differs from the CPU's, or a section could not run. With
``--device cpu`` the same code runs against itself: CI's rehearsal, so that the command cannot rot.
"""
from __future__ import annotations

import argparse
import datetime
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "course")]  # a GPU host may run it from the checkout, nothing installed

from autograder.grade import grade_submission  # noqa: E402
from autograder.launcher import Launcher  # noqa: E402
from autograder.layout import Course  # noqa: E402
from autograder.remote import Submission  # noqa: E402

EXAMPLES = 2  # example submissions per assignment, besides the source notebook


class Report:
    """Lines printed as they come and kept for the Markdown file."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failed: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def fail(self, why: str) -> None:
        self.failed.append(why)
        self(f"**FAILED**: {why}")


def host(report: Report, device: str) -> None:
    report(f"# GPU check, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    report()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    report(f"- host: {platform.node()}, {platform.machine()}, Python {platform.python_version()}, "
           f"torch {torch.__version__}, CUDA device: {gpu}; graded with --device {device}")
    kernel = platform.release()
    report(f"- kernel: {kernel}{' (gVisor?)' if 'gvisor' in kernel.lower() or kernel.startswith('4.4.0') else ''}")


def walls(report: Report) -> None:
    report()
    report("## 1. Walls around student code (`autograder probe`)")
    report()
    done = subprocess.run([sys.executable, "-m", "autograder", "probe"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=_env())
    report("```")
    for line in (done.stdout + done.stderr).strip().splitlines()[-40:]:
        report(line)
    report("```")
    report(f"exit {done.returncode} ({'every wall holds' if done.returncode == 0 else 'some walls do not hold'})")


def _env() -> dict:
    import os
    path = os.pathsep.join([str(ROOT), str(ROOT / "course"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def notebooks(course: Course, assignment_id: str, examples: int) -> list[Path]:
    assignment = course.assignment(assignment_id)
    found = sorted(assignment.submissions_dir.glob("correct_*.ipynb"))
    named = [p for p in found if p.stem == "correct_solution"] + [p for p in found if p.stem != "correct_solution"]
    return [assignment.source_notebook, *named[:examples]]


def scores(report: Report, course: Course, ids: list[str], device: str, examples: int) -> None:
    report()
    report(f"## 2. Scores and grading time: {device} against cpu, in this run")
    report()
    report(f"| assignment | notebook | score cpu | score {device} | seconds cpu | seconds {device} |")
    report("|---|---|---|---|---|---|")
    with Launcher(spares=True) as launcher:
        for assignment_id in ids:
            for notebook in notebooks(course, assignment_id, examples):
                row = []
                for dev in ("cpu", device):
                    started = time.perf_counter()
                    result = grade_submission(assignment_id, notebook, course=course, device=dev, launcher=launcher)
                    row.append((result.final_score, time.perf_counter() - started, result))
                (cpu_score, cpu_s, cpu_result), (dev_score, dev_s, dev_result) = row
                report(f"| {assignment_id} | {notebook.name} | {cpu_score:g} | {dev_score:g} | {cpu_s:.1f} "
                       f"| {dev_s:.1f} |")
                if cpu_score != dev_score:
                    differing = [t.name for t, u in zip(cpu_result.tests, dev_result.tests) if t.passed != u.passed]
                    report.fail(f"{assignment_id} {notebook.name}: {cpu_score:g} on cpu, {dev_score:g} on {device} "
                                f"(checks that differ: {'; '.join(differing[:5])})")
                if dev_result.harness_errors:
                    report.fail(f"{assignment_id} {notebook.name}: harness errors on {device}: "
                                f"{dev_result.harness_errors[0].message.render()[:300]}")


def conv2d_timing(report: Report, course: Course, device: str) -> None:
    report()
    report(f"## 3. hw5's conv2d (source notebook, in the worker) against F.conv2d on {device}")
    report()
    from autograder.notebook import code_to_run, read_notebook
    assignment = course.assignment("hw5_cnn")
    cells = code_to_run(read_notebook(assignment.source_notebook))
    dev = torch.device(device)
    X = torch.randn(64, 3, 32, 32, device=dev)
    W = torch.randn(16, 3, 3, 3, device=dev)
    best_f = min(_timed(lambda: torch.nn.functional.conv2d(X, W, padding=1), dev) for _ in range(5))
    with Launcher() as launcher:
        student = Submission(launcher, cells, assignment.forbidden, assignment.private_modules)
        try:
            student.reset(0)
            fn = student.function("conv2d", timeout=120)
            fn(X, W, padding=1)  # warm-up (first CUDA call, kernel selection)
            best_s = min(fn.run((X, W), {"padding": 1}).seconds for _ in range(5))
        finally:
            student.close()
    report(f"X (64, 3, 32, 32), weight (16, 3, 3, 3), padding 1: student's conv2d {best_s * 1e3:.2f} ms, "
           f"F.conv2d {best_f * 1e3:.3f} ms (best of 5), ratio {best_s / best_f:.1f}x")


def _timed(fn, dev: torch.device) -> float:
    if dev.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    fn()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def open_part(report: Report, course: Course, device: str, quick: bool) -> None:
    report()
    report(f"## 4. hw7's open part on {device}")
    report()
    assignment = course.assignment("hw7_training")
    started = time.perf_counter()
    result = grade_submission("hw7_training", assignment.submissions_dir / "correct_solution.ipynb", course=course,
                              device=device, tasks=["build_model"])
    seconds = time.perf_counter() - started
    board = {row.get("name"): row.get("value") for row in result.leaderboard}
    report(f"graded in {seconds:.1f} s: {result.score:g} of {result.max_score:g} points; leaderboard {board}")
    for note in result.notices[:6]:
        report(f"- {note[:300]}")
    dev = torch.device(device)
    from solutions import hw7_training as ref
    torch.manual_seed(0)
    model = ref.build_model().to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch, steps = 128, (5 if quick else 50)
    X = torch.rand(batch, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        optimizer.step()

    step()  # warm-up
    elapsed = sum(_timed(step, dev) for _ in range(steps))
    rate = batch * steps / elapsed
    report(f"reference model, batches of {batch}: {rate:,.0f} training images/s on {device} "
           f"(one Fashion-MNIST epoch of 54,000 images: {54_000 / rate:.1f} s)")


def embedding_part(report: Report, course: Course, device: str) -> None:
    """hw8's open part on ``--device``: the embedder trained by the student's triplet loss, scored by KNN."""
    report()
    report(f"## 5. hw8's open part on {device}")
    report()
    assignment = course.assignment("hw8_metric_learning")
    started = time.perf_counter()
    result = grade_submission("hw8_metric_learning", assignment.submissions_dir / "correct_solution.ipynb",
                              course=course, device=device, tasks=["build_embedder"])
    seconds = time.perf_counter() - started
    board = {row.get("name"): row.get("value") for row in result.leaderboard}
    report(f"graded in {seconds:.1f} s: {result.score:g} of {result.max_score:g} points; leaderboard {board}")
    for note in result.notices[:6]:
        report(f"- {note[:300]}")
    if result.score != result.max_score:
        report.fail(f"hw8's correct open part scored {result.score:g} of {result.max_score:g} on {device}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--assignments", default="", help="comma-separated ids (default: all)")
    parser.add_argument("--examples", type=int, default=EXAMPLES, help="example submissions per assignment")
    parser.add_argument("--quick", action="store_true", help="CI's rehearsal: one example, fewer timing steps")
    parser.add_argument("--skip", default="",
                        help="comma-separated sections to skip: walls,scores,conv2d,open,embedding")
    parser.add_argument("--out", type=Path, help="also write the report here (Markdown)")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: torch sees no CUDA device here; run it on the GPU machine, or --device cpu to rehearse",
              file=sys.stderr)
        return 2
    course = Course.find(ROOT)
    ids = [i for i in args.assignments.split(",") if i] or course.assignment_ids()
    skip = set(filter(None, args.skip.split(",")))
    report = Report()
    host(report, args.device)
    sections = {"walls": lambda: walls(report),
                "scores": lambda: scores(report, course, ids, args.device, 1 if args.quick else args.examples),
                "conv2d": lambda: conv2d_timing(report, course, args.device),
                "open": lambda: open_part(report, course, args.device, args.quick),
                "embedding": lambda: embedding_part(report, course, args.device)}
    for name, run in sections.items():
        needs = {"conv2d": "hw5_cnn", "open": "hw7_training", "embedding": "hw8_metric_learning"}.get(name)
        if name in skip or (needs is not None and needs not in ids):
            continue
        try:
            run()
        except Exception as exc:  # a section that cannot run is reported, and the others still run
            report.fail(f"section {name} raised {type(exc).__name__}: {str(exc)[:500]}")
    report()
    report(f"**{'all held' if not report.failed else f'{len(report.failed)} problem(s)'}**")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""hw7's open part: grading time, the reference's accuracy and its training throughput.

    .venv/bin/python benchmarks/hw7_open_part.py [--device cpu|cuda] [--skip-grade] [--splits N]

Prints, on this machine:
  0. the reference's test accuracy on the fallback test set as it is and under the open part's secret
     transformation (``autograder.integrity.perturb``, ten transformation seeds per split), for N split
     seeds: what the transformation costs (goal: under 0.5 points);
  1. the time `autograder grade` takes for the open part (`-k build_model`) of the correct example
     submission, before (the grader as it was before autograder.integrity: one worker, a SIGALRM budget,
     clean test images) and after, side by side, with the notes each printed;
  2. the reference model's (solutions/hw7_training.py) test accuracy on the data the grader would use,
     trained as the grader trains it (10% of the training split held out, one CPU thread), and the
     fallback thresholds that accuracy gives (full from accuracy - 0.03, partial from accuracy - 0.13);
  3. its training throughput in images per second on Fashion-MNIST-shaped batches, and the projected
     time of one real Fashion-MNIST epoch (54,000 training images) and of the HYPERPARAMS run, against
     the grader's budget for the device.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
ID = "hw7_training"
NOTEBOOK = ROOT / "tests" / "submissions" / ID / "correct_solution.ipynb"
FASHION_TRAIN = 54_000  # 60,000 less the 10% held out for validation


def _grade_seconds(device: str, course_root: Path) -> tuple[float, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        started = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).parent / "autograder"), "grade", ID, str(NOTEBOOK),
                               "-k", "build_model", "--device", device, "--results", str(results),
                               "--course-root", str(course_root)],
                              cwd=course_root, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    notes = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith(("note:", "score"))]
    return seconds, notes


def _course_before(tmp: Path) -> Path | None:
    """This checkout with hw7's open-part grader as it was before autograder.integrity (from git history)."""
    grader = "graders/hw7_training/test_build_model.py"
    commits = subprocess.run(["git", "rev-list", "HEAD", "--", grader], cwd=ROOT, capture_output=True,
                             text=True).stdout.split()
    for commit in commits:
        text = subprocess.run(["git", "show", f"{commit}:{grader}"], cwd=ROOT, capture_output=True, text=True).stdout
        if text and "integrity" not in text:
            break
    else:
        return None
    course = tmp / "course"
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    course.mkdir()
    subprocess.run(["tar", "-x", "-C", str(course)], input=archive, check=True)
    (course / grader).write_text(text)
    return course


def grading_time(device: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        before = _course_before(Path(tmp))
        rows = [("after", ROOT)] + ([("before", before)] if before else [])
        timed = {label: _grade_seconds(device, root) for label, root in rows}
    print(f"1. grading the open part (autograder grade -k build_model, {device}, correct_solution.ipynb):")
    print("   " + "   ".join(f"{label}: {seconds:.1f} s wall" for label, (seconds, _) in
                            sorted(timed.items(), reverse=True)))
    for label, (_, notes) in sorted(timed.items(), reverse=True):
        for note in notes:
            print(f"   [{label}] {note}")


@torch.no_grad()
def _accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((model(images).argmax(1) == labels).float().mean())


def transformation_cost(splits: int) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "graders")]
    from autograder import integrity
    from d2lcourse.data import fallback_datasets
    from solutions import hw7_training as ref

    torch.set_num_threads(1)
    print(f"0. the reference on the fallback test set, as it is and transformed (shift <= {integrity.SHIFT} px, "
          f"noise {integrity.NOISE}; mean of 10 transformations):")
    clean_all, seen_all = [], []
    for split_seed in range(splits):
        train, test = fallback_datasets(seed=split_seed)
        (X, y), (Xt, yt) = train.tensors, test.tensors
        ref.set_seed(0)
        model = ref.build_model()
        hp = ref.HYPERPARAMS
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), hp["batch_size"], shuffle=True)
        ref.fit(model, loader, loader, torch.nn.CrossEntropyLoss(), ref.make_optimizer(model.parameters(), hp),
                hp["epochs"], "cpu")
        model.eval()
        clean = _accuracy(model, Xt, yt)
        seen = sum(_accuracy(model, integrity.perturb(Xt, k), yt) for k in range(10)) / 10
        clean_all.append(clean)
        seen_all.append(seen)
        print(f"   split seed {split_seed}: clean {clean:.4f}   transformed {seen:.4f}   cost "
              f"{100 * (clean - seen):+.2f} points")
    cost = 100 * (sum(clean_all) - sum(seen_all)) / splits
    print(f"   mean cost over {splits} splits: {cost:.2f} points (goal: under 0.5)")


def reference_accuracy(device: torch.device) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "graders")]
    from hw7_training.test_build_model import BUDGET_SECONDS, THRESHOLDS, load_data, split

    from solutions import hw7_training as ref

    source, (X, y), (Xt, yt) = load_data(ref)
    (Xtr, ytr), (Xv, yv) = split(X, y, 0)
    if device.type == "cpu":
        torch.set_num_threads(1)
    ref.set_seed(0)
    model = ref.build_model().to(device)
    hp = ref.HYPERPARAMS
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(Xtr, ytr), hp["batch_size"], shuffle=True)
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(Xv, yv), 1024)
    started = time.perf_counter()
    history = ref.fit(model, loader, val, torch.nn.CrossEntropyLoss(), ref.make_optimizer(model.parameters(), hp),
                      hp["epochs"], device)
    seconds = time.perf_counter() - started
    model.eval()
    with torch.no_grad():
        accuracy = float((model(Xt.to(device)).argmax(1).cpu() == yt).float().mean())
    print(f"2. reference on {source}: test accuracy {accuracy:.4f} after {len(history)} epochs in {seconds:.1f} s "
          f"({device}, budget {BUDGET_SECONDS.get(device.type, 60)} s)")
    if source != "Fashion-MNIST":
        print(f"   thresholds it gives: full from {accuracy - 0.03:.2f}, partial from {accuracy - 0.13:.2f}; "
              f"the grader uses {THRESHOLDS['fallback'][1]:.2f} and {THRESHOLDS['fallback'][0]:.2f}")


def throughput(device: torch.device) -> None:
    from solutions import hw7_training as ref

    if device.type == "cpu":
        torch.set_num_threads(1)
    hp = ref.HYPERPARAMS
    model = ref.build_model().to(device)
    opt = ref.make_optimizer(model.parameters(), hp)
    loss_fn = torch.nn.CrossEntropyLoss()
    X = torch.rand(hp["batch_size"], 1, 28, 28, device=device)
    y = torch.randint(0, 10, (hp["batch_size"],), device=device)

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()

    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < 5.0:
        step()
        steps += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    rate = steps * hp["batch_size"] / (time.perf_counter() - started)
    epoch = FASHION_TRAIN / rate
    print(f"3. reference training throughput on {device} ({torch.get_num_threads()} thread(s) on CPU): "
          f"{rate:,.0f} images/s (batches of {hp['batch_size']} Fashion-MNIST-shaped images)")
    print(f"   projected Fashion-MNIST: {epoch:.1f} s per epoch of {FASHION_TRAIN:,} images, "
          f"{hp['epochs'] * epoch:.0f} s for the {hp['epochs']} epochs of HYPERPARAMS (training only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--skip-grade", action="store_true", help="skip the `autograder grade` timings")
    parser.add_argument("--splits", type=int, default=3, help="fallback split seeds for the transformation's cost")
    args = parser.parse_args()
    device = torch.device(args.device)
    transformation_cost(args.splits)
    if not args.skip_grade:
        grading_time(args.device)
    reference_accuracy(device)
    throughput(device)


if __name__ == "__main__":
    main()

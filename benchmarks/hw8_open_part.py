"""hw8's open part: the reference embedder's KNN accuracy by split seed, the baselines, and grading time.

    .venv/bin/python benchmarks/hw8_open_part.py [--device cpu|cuda] [--splits N] [--skip-grade]

Prints, on this machine:
  1. for N split seeds of the data the grader would use (the fallback's split is drawn from the seed; on
     Fashion-MNIST the split is fixed and the seed draws only the gallery and the transformation): the KNN
     accuracy (the grader's own: k = 5, its gallery, the transformed test images) of
     - the raw pixels (no model: the 784 numbers of each image),
     - the reference's untrained embedder (solutions/hw8_metric_learning.py),
     - the reference trained as the grader trains it (the whole training split, a shuffled DataLoader of
       HYPERPARAMS' batch size, one CPU thread), with its training time against the budget and the CI cap
       (tests/conftest.py's TEST_LIMITS.train_seconds);
     and the thresholds the smallest trained accuracy gives (full from it - 0.03, partial from it - 0.13) beside
     the grader's;
  2. the time `autograder grade -k build_embedder` takes for the correct example submission.
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
ID = "hw8_metric_learning"
NOTEBOOK = ROOT / "tests" / "submissions" / ID / "correct_solution.ipynb"
CI_CAP = 15.0  # tests/conftest.py's TEST_LIMITS.train_seconds


def _open_part():
    sys.path[:0] = [str(ROOT), str(ROOT / "graders")]
    from hw8_metric_learning import test_build_embedder as grader

    from solutions import hw8_metric_learning as ref
    return grader, ref


@torch.no_grad()
def _embed(model: torch.nn.Module | None, images: torch.Tensor, device: torch.device) -> torch.Tensor:
    if model is None:
        return images.flatten(1)
    model.eval()
    return torch.cat([model(chunk.to(device)).cpu() for chunk in images.split(1000)])


def _knn(grader, model: torch.nn.Module | None, sets: tuple, device: torch.device) -> float:
    """The grader's KNN accuracy of ``model``'s embeddings: (gallery images, labels, test images, labels)."""
    gallery, gallery_labels, test, labels = sets
    return grader.knn_accuracy(_embed(model, gallery, device), gallery_labels, _embed(model, test, device), labels)


def accuracies(device: torch.device, splits: int) -> None:
    from autograder import integrity
    grader, ref = _open_part()
    if device.type == "cpu":
        torch.set_num_threads(1)
    hp = ref.HYPERPARAMS
    budget = grader.BUDGET_SECONDS.get(device.type, grader.BUDGET_SECONDS["cpu"])
    print(f"1. KNN accuracy (k = {grader.K}) on the transformed test images, {device}, HYPERPARAMS {hp}:")
    trained_all = []
    for seed in range(splits):
        source, (X, y), (Xt, yt) = integrity.load_data(ref, split_seed=seed)
        per_class = grader.GALLERY_PER_CLASS[source if source == integrity.FASHION else "fallback"]
        chosen = grader.gallery_indices(y, per_class, seed + 3)
        scored = integrity.perturb(Xt, seed + 1)
        torch.manual_seed(0)
        model = ref.build_embedder().to(device)
        sets = (X[chosen], y[chosen], scored, yt)
        raw, untrained = _knn(grader, None, sets, device), _knn(grader, model, sets, device)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), hp["batch_size"], shuffle=True)
        started = time.perf_counter()
        ref.train_embedder(model, loader, dict(hp), device)
        seconds = time.perf_counter() - started
        trained = _knn(grader, model, sets, device)
        trained_all.append(trained)
        fits = "within" if seconds <= CI_CAP else ("over the CI cap, within" if seconds <= budget else "OVER")
        print(f"   {source}, split seed {seed}: raw pixels {raw:.4f}   untrained {untrained:.4f}   "
              f"trained {trained:.4f}"
              f"   ({hp['epochs']} epochs in {seconds:.1f} s: {fits} the budget of {budget} s, CI cap {CI_CAP:g} s;"
              f" gallery {len(chosen)})")
    low = min(trained_all)
    kind = source if source == integrity.FASHION else "fallback"
    partial, full = grader.THRESHOLDS[kind]
    print(f"   trained: {min(trained_all):.4f}-{max(trained_all):.4f}; thresholds it gives: full from "
          f"{low - 0.03:.2f}, partial from {low - 0.13:.2f}; the grader uses {full:.2f} and {partial:.2f} ({kind})")


def grading_time(device: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).parent / "autograder"), "grade", ID, str(NOTEBOOK),
                               "-k", "build_embedder", "--device", device, "--results", str(Path(tmp) / "r.json")],
                              cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    print(f"2. grading the open part (autograder grade -k build_embedder, {device}, correct_solution.ipynb): "
          f"{seconds:.1f} s wall")
    for line in done.stdout.splitlines():
        if line.strip().startswith(("note:", "score")):
            print(f"   {line.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--splits", type=int, default=5, help="split seeds")
    parser.add_argument("--skip-grade", action="store_true", help="skip the `autograder grade` timing")
    args = parser.parse_args()
    accuracies(torch.device(args.device), args.splits)
    if not args.skip_grade:
        grading_time(args.device)


if __name__ == "__main__":
    main()

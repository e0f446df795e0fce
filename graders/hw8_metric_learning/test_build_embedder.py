"""The open part, graded by training: build_embedder(), HYPERPARAMS and train_embedder, scored by KNN.

The rules are hw7's open part's (``autograder.integrity``). The grader loads the data itself, in this (trusted)
process, from the course's data root: Fashion-MNIST where it is there, the fallback data set otherwise (its
split drawn from the secret seed; refused under --require-data). Only the TRAINING images and labels go to the
worker, in a shuffled ``DataLoader`` of HYPERPARAMS' batch size; there the grader builds the student's
embedder and calls the student's own ``train_embedder`` (which trains it with the student's triplet loss)
against a deadline it keeps itself: at the deadline the worker is killed, and the weights scored are the last
the harness handed over. They are loaded into a new build_embedder() in a new worker, which embeds (a) a
labelled gallery drawn from the training split by the secret seed and (b) the test images under a secret
label-preserving transformation (or the course's private test set), mixed in a secret order. The test labels
never leave this process: the score is this grader's own KNN (k = 5, Euclidean distance, a tie to the nearest
neighbour's class) of the test embeddings against the gallery's.

The gallery is small (5 images per class on the fallback, 100 on Fashion-MNIST): a learned metric is what makes
few labelled examples enough. On the fallback with that gallery (``benchmarks/hw8_open_part.py``, split seeds 0-4),
KNN on the raw pixels (784 numbers, more than an embedding may have) reaches 0.79-0.88 and the reference's untrained
network 0.69-0.81: no credit, or a little, comes without training.

Credit for the accuracy: in steps of a tenth between the partial and the full threshold. The fallback's come from
the reference's measured accuracy (the same benchmark: 0.967-0.992 on the transformed test images, trained as the
grader trains it on one CPU thread in 6-8 s, within the CI cap of 15 s), less 0.03 for full credit and 0.13 for
partial, as hw7's: (0.84, 0.94). Fashion-MNIST's (0.70, 0.82) are not measured (the data set is not on this
machine): hw7's classifier thresholds less 0.08-0.10 for KNN with a 1,000-image gallery; run the benchmark where
the data is and set them from it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from autograder import integrity
from autograder.compare import CheckFailed, describe, expect
from autograder.errors import StudentFailure
from autograder.integrity import FASHION, integer_problems, number

BUDGET_SECONDS = {"cpu": 30, "cuda": 60}  # the training run's budget per device kind (stated in the notebook)
SECONDS = 60  # other calls (building the embedder, a forward pass)
EVAL_SECONDS = 30  # the trained embedder in a fresh worker: building it, loading the weights, every batch
THRESHOLDS = {FASHION: (0.70, 0.82), "fallback": (0.84, 0.94)}  # (partial from, full from)
GALLERY_PER_CLASS = {FASHION: 100, "fallback": 5}
K = 5  # the grader's KNN
MAX_DIM = 128
STEPS = 10
KEYS = ("lr", "batch_size", "epochs", "margin")
LIMITS = {"batch_size": (2, 4096), "epochs": (1, 500)}
HP_HINT = ('in the cell of build_embedder, define HYPERPARAMS = {"lr": 0.002, "batch_size": 128, "epochs": 8, '
           '"margin": 0.5}: lr > 0, batch_size an int from 2 to 4096 (a batch needs pairs of one class), epochs an '
           "int from 1 to 500, margin > 0")
SHAPE_HINT = (f"end with nn.Linear(..., d) for an embedding of d <= {MAX_DIM} numbers per image, flattening "
              "first (nn.Flatten()); no softmax")


# ----- HYPERPARAMS ----------------------------------------------------------------------------------------------
def read_hyperparams(student: Any) -> dict:
    """HYPERPARAMS read key by key in the worker (``integrity.read_hyperparams``), each value checked here."""
    return validate_hyperparams(integrity.read_hyperparams(student, KEYS, HP_HINT, SECONDS))


def validate_hyperparams(hp: dict) -> dict:
    """Every malformed value named at once (lr <= 0, a batch of 1, 1e6 epochs, a margin of 0 or a string)."""
    problems = []
    if not (number(hp["lr"]) and hp["lr"] > 0):
        problems.append(f"lr should be a number greater than 0, got {describe(hp['lr'])}")
    problems += integer_problems(hp, LIMITS)
    if not (number(hp["margin"]) and hp["margin"] > 0):
        problems.append(f"margin should be a number greater than 0, got {describe(hp['margin'])}")
    if problems:
        raise CheckFailed("HYPERPARAMS is well formed", inputs=f"HYPERPARAMS = {repr(hp)[:300]}",
                          comparison="; ".join(problems), hint=HP_HINT,
                          mistake="a batch of one image has no positive for any anchor"
                          if hp["batch_size"] == 1 else None)
    return dict(hp)


# ----- the embedder -----------------------------------------------------------------------------------------
def built_embedder(student: Any, device: torch.device) -> tuple[Any, int]:
    """(the model, d): build_embedder() in the worker, on the device, mapping 4 images to (4, d) finite numbers."""
    model = student.function("build_embedder", timeout=SECONDS).handle()
    kind = model.describe() if hasattr(model, "describe") else {"kind": describe(model)}
    expect(kind.get("kind") == "module", "build_embedder() returns an nn.Module", expected="an nn.Module",
           got=kind.get("type", kind.get("kind")), hint="return a new model, e.g. nn.Sequential(...)")
    model = model.call("to", device)
    model.call("eval")
    out = model(torch.rand(4, 1, 28, 28, device=device))
    model.call("train")
    check_embeddings(out, 4, "the embedder maps images (N, 1, 28, 28) to embeddings (N, d)",
                     "4 random images (4, 1, 28, 28)")
    return model, int(out.shape[1])  # an (N, d) tensor: check_embeddings failed the check otherwise


def check_embeddings(out: Any, n: int, claim: str, where: str, dim: int | None = None) -> None:
    """``out`` is a finite (n, d) tensor, 1 <= d <= MAX_DIM (d == ``dim`` where given); likely mistakes named."""
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else None
    want = f"(n, {dim})" if dim else f"(n, d) with 1 <= d <= {MAX_DIM}"
    mistake = None
    if shape is not None and len(shape) == 2 and shape[0] == n and shape[1] > MAX_DIM:
        mistake = f"the embedding has {shape[1]} numbers per image, more than {MAX_DIM} (the flattened image itself?)"
    elif shape is not None and len(shape) == 1:
        mistake = "one number per image: the embedding needs a second axis, (N, d)"
    elif shape is not None and len(shape) > 2:
        mistake = "the feature maps are not flattened into one vector per image"
    ok = shape is not None and len(shape) == 2 and shape[0] == n and 1 <= shape[1] <= MAX_DIM
    expect(ok and (dim is None or shape[1] == dim), claim, inputs=where, expected=f"a tensor of shape {want}",
           got=describe(out) if shape is None else f"shape {shape}", mistake=mistake, hint=SHAPE_HINT)
    expect(bool(torch.isfinite(out).all()), "the embeddings are finite", inputs=where, expected="finite numbers",
           got="NaN or inf", mistake="the loss became NaN during training" if dim else None,
           hint="lower the learning rate, or add batch normalisation")


# ----- the grader's KNN (in this process: the labels never leave it) ------------------------------------------
def knn_predict(gallery: torch.Tensor, gallery_labels: torch.Tensor, queries: torch.Tensor, k: int = K,
                chunk: int = 2048) -> torch.Tensor:
    """The majority class of each query's k nearest gallery rows (Euclidean), a tie to the nearest one's class."""
    gallery, classes = gallery.double(), int(gallery_labels.max()) + 1
    out = []
    for start in range(0, len(queries), chunk):
        dist = torch.cdist(queries[start:start + chunk].double(), gallery)
        nearest = dist.topk(min(k, len(gallery)), dim=1, largest=False).indices  # sorted, nearest first
        votes = gallery_labels[nearest]
        counts = torch.zeros(len(votes), classes, dtype=torch.float64).scatter_add_(
            1, votes, torch.ones(votes.shape, dtype=torch.float64))
        # tied classes: the nearest neighbour's class wins (a rank bonus smaller than one vote)
        rank = torch.arange(votes.shape[1], 0, -1, dtype=torch.float64).expand(votes.shape) / (votes.shape[1] + 1)
        bonus = torch.zeros_like(counts).scatter_reduce_(1, votes, rank, reduce="amax")
        out.append((counts + bonus).argmax(1))
    return torch.cat(out)


def knn_accuracy(gallery: torch.Tensor, gallery_labels: torch.Tensor, queries: torch.Tensor,
                 labels: torch.Tensor) -> float:
    return int((knn_predict(gallery, gallery_labels, queries) == labels).sum()) / len(labels)


def gallery_indices(y: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """``per_class`` training images of each class (all of a class that has fewer), drawn from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    picked = []
    for c in torch.unique(y).tolist():
        rows = torch.nonzero(y == c).flatten()
        picked.append(rows[torch.randperm(len(rows), generator=generator)[:per_class]])
    return torch.cat(picked)


# ----- the run -----------------------------------------------------------------------------------------------
@dataclass
class OpenRun:
    source: str = ""
    device: str = ""
    hyperparams: dict = field(default_factory=dict)
    dim: int = 0
    seconds: float = 0.0  # from building the embedder to the last weights handed over
    budget: float = 0.0
    cut_short: bool = False
    eval_seconds: float = 0.0
    history: list = field(default_factory=list)
    gallery_size: int = 0
    scored_on: str = ""
    accuracy: float | None = None  # KNN on the scored set (transformed test images, or the private ones)
    clean_accuracy: float | None = None  # KNN on the public test images as they are
    flagged: bool = False  # the memorisation check
    failure: BaseException | None = None  # why there is no accuracy (raised again by every test that needs one)

    @property
    def thresholds(self) -> tuple[float, float]:
        return THRESHOLDS[self.source if self.source == FASHION else "fallback"]


def train(student: Any, ref: Any, device: torch.device, seed: int) -> OpenRun:
    """Everything of the run; any failure is kept in ``failure`` (the tests that need the run raise it)."""
    budget = BUDGET_SECONDS.get(device.type, BUDGET_SECONDS["cpu"])
    cap = student.launcher.limits.train_seconds  # a grading run's own cap (the platform's tests use a short one)
    run = OpenRun(device=str(device), budget=min(budget, cap) if cap else budget)
    secret = integrity.secret_seed()
    try:
        run.hyperparams = hp = read_hyperparams(student)
        integrity.check_code_size(student)
        run.source, (X, y), test = integrity.load_data(ref, split_seed=secret)
        integrity.refuse_fallback(ref, run.source)
        run.scored_on, images, labels = integrity.scored_sets(ref, test, secret)
        chosen = gallery_indices(y, GALLERY_PER_CLASS[run.source if run.source == FASHION else "fallback"],
                                 secret + 3)
        images["gallery"], labels["gallery"] = X[chosen], y[chosen]
        run.gallery_size = len(chosen)
        threads = 1 if device.type == "cpu" else None  # one thread: steady timing when several are graded at once
        if threads:
            student.construct("torch.set_num_threads", threads)
        started = time.monotonic()  # the run's time: from building the embedder to the last weights handed over
        model, run.dim = built_embedder(student, device)
        train_set = student.construct("torch.utils.data.TensorDataset", X, y, timeout=SECONDS)
        loader = student.construct("torch.utils.data.DataLoader", train_set, batch_size=hp["batch_size"],
                                   shuffle=True)
        fit = student.function("train_embedder")
        trained = integrity.train_on_the_clock(
            student, model, started, run.budget,
            lambda timeout, on_progress: fit.with_timeout(timeout).run((model, loader, dict(hp), device), {},
                                                                       on_progress=on_progress))
        run.seconds, run.cut_short = trained.seconds, trained.cut_short
        run.history = checked_history(trained.value, run)
        expect(trained.weights is not None, "the training run hands over its weights before the budget ends",
               inputs=f"budget {run.budget:g} s", expected="the embedder's weights, taken by the grader every "
               f"{integrity.SNAPSHOT_SECONDS:g} s of training and when train_embedder returns",
               got="no weights: train_embedder neither returned in time nor ran the model's forward pass",
               hint="train the model you are given (its forward pass), and keep the run within the budget")
        outputs, run.eval_seconds = integrity.evaluate_fresh(student, trained.weights, images, device, EVAL_SECONDS,
                                                             secret + 2, build="build_embedder", threads=threads)
        for name, out in outputs.items():
            check_embeddings(out, len(images[name]), "the trained embedder maps images to (N, d) embeddings",
                             f"{len(images[name])} images", dim=run.dim)
        gallery = outputs["gallery"], labels["gallery"]
        run.accuracy = knn_accuracy(*gallery, outputs["scored"], labels["scored"])
        run.clean_accuracy = knn_accuracy(*gallery, outputs["clean"], labels["clean"])
        _, run.flagged = integrity.memorisation(run.clean_accuracy, run.accuracy, len(labels["clean"]),
                                                len(labels["scored"]))
    except (CheckFailed, StudentFailure) as exc:
        run.failure = integrity.out_of_memory_said(exc, "the embedder")
    return run


def checked_history(value: Any, run: OpenRun) -> list:
    """train_embedder's history where it returned one (an interrupted run returns none); a NaN loss fails the run."""
    if run.cut_short or not isinstance(value, list):
        return []
    rows = [h for h in value if isinstance(h, dict)]
    for h in rows:
        loss = h.get("loss")
        if isinstance(loss, (int, float)) and not isinstance(loss, bool) and not math.isfinite(loss):
            raise CheckFailed("the training loss stays finite", inputs=f"HYPERPARAMS = {run.hyperparams}",
                              comparison=f"loss of epoch {h.get('epoch')} is {loss}",
                              mistake="the loss became NaN (the learning rate is too high, or a distance's square "
                                      "root at 0: clamp the squared distances first)",
                              hint="lower the learning rate; clamp squared distances before the square root")
    return rows


@pytest.fixture
def open_run(request: pytest.FixtureRequest, student: Any, ref: Any, device: torch.device, seed: int,
             report: Any) -> OpenRun:
    """The training run, done once per grading (by the first test that needs it) and reported once."""
    cache = request.session.__dict__.setdefault("_hw8_open_run", {})
    if "run" not in cache:
        cache["run"] = run = train(student, ref, device, seed % 2**31)
        describe_run(run, report)
    return cache["run"]


# ----- the report ------------------------------------------------------------------------------------------------
def describe_run(run: OpenRun, report: Any) -> None:
    partial, full = run.thresholds
    data = run.source or "not loaded"
    if run.source and run.source != FASHION:
        data += " (Fashion-MNIST is not in this grader's data root)"
    report.note(f"data: {data}; thresholds: full credit from {full:.2f}, partial from {partial:.2f}; device: "
                f"{run.device}; budget {run.budget:g} s")
    if run.hyperparams:
        report.note("hyperparameters: " + ", ".join(f"{k} = {v}" for k, v in run.hyperparams.items()))
    if run.failure is not None:
        return
    if run.cut_short:
        done = (f"stopped at the {run.budget:g} s budget: scored on the last weights handed over, at "
                f"{run.seconds:.1f} s (train_embedder returned no history, so there is no curve)")
    else:
        done = f"{len(run.history)} epochs, weights handed over at {run.seconds:.1f} s"
    report.note(f"training time: {run.seconds:.1f} s (from building the embedder to the weights scored; budget "
                f"{run.budget:g} s): {done}")
    report.note(f"evaluation time: {run.eval_seconds:.1f} s (a new build_embedder() in a new worker, the trained "
                f"weights loaded, limit {EVAL_SECONDS:g} s)")
    report.note(f"KNN accuracy (k = {K}, gallery of {run.gallery_size} training images, {run.dim}-d embeddings) "
                f"{run.accuracy:.4f} on {run.scored_on}; on the test images as published: {run.clean_accuracy:.4f}")
    if run.flagged:
        report.note("memorisation check: FLAGGED for review: the embedder does much better on the published test "
                    "images than on images it cannot have seen; the score uses the latter")
    report.leaderboard("knn_accuracy", round(run.accuracy, 4))
    report.leaderboard("training_time", round(run.seconds, 2), order="asc")
    losses = [h.get("loss") for h in run.history]
    if losses and all(number(v) for v in losses):
        report.attach("loss.png", integrity.history_png(
            run.history, [("triplet loss", ["loss"])],
            f"{run.source}, {run.device}, {run.seconds:.1f} s, KNN accuracy {run.accuracy:.4f}"))


# ----- the tests ------------------------------------------------------------------------------------------------
@pytest.mark.points(2)
def test_is_hyperparams_well_formed(student):
    """Is HYPERPARAMS a dict with lr > 0, batch_size and epochs in range and margin > 0?"""
    read_hyperparams(student)


@pytest.mark.points(3)
def test_does_build_embedder_map_images_to_embeddings(student, device):
    """Does build_embedder() return an nn.Module mapping (N, 1, 28, 28) images to (N, d) embeddings, d <= 128?"""
    built_embedder(student, device)


@pytest.mark.points(5)
def test_does_the_training_run_finish_without_errors(open_run):
    """Does your train_embedder train your embedder with your HYPERPARAMS within the budget, loss finite?"""
    if open_run.failure is not None:
        raise open_run.failure


@pytest.mark.points(10)
@pytest.mark.parametrize("step", range(1, STEPS + 1), ids=[f"step{k}" for k in range(1, STEPS + 1)])
def test_does_the_knn_accuracy_reach_this_step(open_run, step):
    """Does KNN in the trained embedding reach this step (ten steps from the partial to the full threshold)?"""
    partial, full = open_run.thresholds
    needed = round(partial + (full - partial) * step / STEPS, 4)
    data = open_run.source or "not loaded (the training run stopped before)"
    expect(open_run.failure is None, "the KNN accuracy of the trained embedder",
           inputs=f"data: {data}", expected=f"an accuracy of {needed:.3f} or more",
           got="no accuracy: the training run of build_embedder() with HYPERPARAMS did not complete (see the "
               "training-run check above)",
           hint="fix what the training-run check reports first")
    expect(open_run.accuracy >= needed, f"KNN accuracy of at least {needed:.3f}",
           inputs=f"data: {open_run.source}; k = {K}, a gallery of {open_run.gallery_size} training images; full "
                  f"credit from {full:.2f}, partial from {partial:.2f}",
           expected=f"{needed:.3f} or more", got=f"{open_run.accuracy:.4f}",
           hint="mine harder triplets (batch-hard), train longer within the budget, try a CNN or a smaller "
                "margin; normalising the embeddings (F.normalize) often helps KNN")

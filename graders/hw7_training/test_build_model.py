"""The open part, the course's Fashion-MNIST homework, graded by training: build_model() and HYPERPARAMS.

The grader loads the data itself, in this (trusted) process, through d2lcourse from the course's data
root: Fashion-MNIST where it is there, the fallback data set otherwise (its split drawn from the secret
seed; refused under --require-data). Only the TRAINING images and labels go to the worker (as tensors),
split into training and validation; the worker never gets the data root. There the grader builds the
student's model, the optimizer HYPERPARAMS names and the loaders, and calls the student's own ``fit``
against a deadline it keeps itself (``autograder.integrity``): at the deadline the worker is killed, and
the weights scored are the last the harness handed over. They are evaluated in a new worker, in a new
build_model(), on the test images under a secret label-preserving transformation (or the course's private
test set); the labels never leave this process, and the accuracy is computed here.

Credit for the accuracy: in steps of a tenth between the partial and the full threshold (Fashion-MNIST:
0.80 and 0.90). The fallback's thresholds come from the reference model's measured accuracy on it
(``benchmarks/hw7_open_part.py``: 0.975-0.986 on this course's CPU, by split seed), less 0.03 for full credit and
0.13 for partial, the same width as on Fashion-MNIST.
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
from autograder.integrity import FASHION, PRIVATE_ENV, integer_problems, load_data, number, scored_sets  # noqa: F401  (shared with hw8)

BUDGET_SECONDS = {"cpu": 60, "cuda": 120}  # the training run's budget per device kind (stated in the notebook)
SECONDS = 60  # other calls (building the model, a forward pass)
EVAL_SECONDS = 30  # the trained model's evaluation in a fresh worker: building it, loading the weights, every batch
THRESHOLDS = {FASHION: (0.80, 0.90), "fallback": (0.85, 0.95)}  # (partial from, full from)
STEPS = 10
VAL_FRACTION = 0.1
TEST_BATCH = 1000
KEYS = ("lr", "batch_size", "epochs", "optimizer", "weight_decay")
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}
LIMITS = {"batch_size": (1, 4096), "epochs": (1, 500)}
HP_HINT = ('in the cell of build_model, define HYPERPARAMS = {"lr": 0.002, "batch_size": 128, "epochs": 10, '
           '"optimizer": "adam", "weight_decay": 1e-4}: '
           "lr > 0, batch_size an int from 1 to 4096, epochs an int from 1 to 500, optimizer one of 'sgd', 'adam', "
           "'adamw', weight_decay >= 0")


# ----- HYPERPARAMS ----------------------------------------------------------------------------------------------
def read_hyperparams(student: Any) -> dict:
    """HYPERPARAMS read key by key in the worker (``integrity.read_hyperparams``), each value checked here."""
    return validate_hyperparams(integrity.read_hyperparams(student, KEYS, HP_HINT, SECONDS))


def validate_hyperparams(hp: dict) -> dict:
    """Every malformed value named at once (lr <= 0, a batch size of 0 or 1e9, 1e6 epochs, an unknown optimizer)."""
    problems = []
    if not (number(hp["lr"]) and hp["lr"] > 0):
        problems.append(f"lr should be a number greater than 0, got {describe(hp['lr'])}")
    if not (number(hp["weight_decay"]) and hp["weight_decay"] >= 0):
        problems.append(f"weight_decay should be a number, 0 or more, got {describe(hp['weight_decay'])}")
    problems += integer_problems(hp, LIMITS)
    if not (isinstance(hp["optimizer"], str) and hp["optimizer"].lower() in OPTIMIZERS):
        problems.append(f"optimizer should be 'sgd', 'adam' or 'adamw' (an optimizer the grader can build), "
                        f"got {describe(hp['optimizer'])}")
    if problems:
        raise CheckFailed("HYPERPARAMS is well formed", inputs=f"HYPERPARAMS = {repr(hp)[:300]}",
                          comparison="; ".join(problems), hint=HP_HINT,
                          mistake="HYPERPARAMS names an optimizer the grader cannot build"
                          if any(p.startswith("optimizer") for p in problems) else None)
    return {**hp, "optimizer": hp["optimizer"].lower()}


# ----- the run -----------------------------------------------------------------------------------------------
@dataclass
class OpenRun:
    source: str = ""
    device: str = ""
    hyperparams: dict = field(default_factory=dict)
    seconds: float = 0.0  # from building the model to the last weights handed over
    budget: float = 0.0
    cut_short: bool = False
    handed_over: int = 0
    eval_seconds: float = 0.0
    history: list = field(default_factory=list)
    scored_on: str = ""  # what the accuracy is measured on
    accuracy: float | None = None  # on the scored set (transformed test images, or the private ones)
    clean_accuracy: float | None = None  # on the public test images as they are
    flagged: bool = False  # the memorisation check
    failure: BaseException | None = None  # why there is no accuracy (raised again by every test that needs one)

    @property
    def thresholds(self) -> tuple[float, float]:
        return THRESHOLDS[self.source if self.source == FASHION else "fallback"]


def built_model(student: Any, device: torch.device) -> Any:
    """build_model() in the worker, on the device, checked to map (4, 1, 28, 28) to (4, 10) finite logits."""
    model = student.function("build_model", timeout=SECONDS).handle()
    kind = model.describe() if hasattr(model, "describe") else {"kind": describe(model)}
    expect(kind.get("kind") == "module", "build_model() returns an nn.Module", expected="an nn.Module",
           got=kind.get("type", kind.get("kind")), hint="return a new model, e.g. nn.Sequential(...)")
    model = model.call("to", device)
    model.call("eval")
    X = torch.rand(4, 1, 28, 28, device=device)
    logits = model(X)
    model.call("train")
    expect(isinstance(logits, torch.Tensor) and tuple(logits.shape) == (4, 10),
           "the model maps images (N, 1, 28, 28) to logits (N, 10)", inputs="4 random images (4, 1, 28, 28)",
           expected="a tensor of shape (4, 10)",
           got=describe(logits) if not isinstance(logits, torch.Tensor) else f"shape {tuple(logits.shape)}",
           mistake="the last layer has one output instead of ten (one logit per class)"
           if isinstance(logits, torch.Tensor) and tuple(logits.shape) in ((4, 1), (4,)) else None,
           hint="end with nn.Linear(..., 10) and no softmax; flatten before the first Linear (nn.Flatten())")
    expect(bool(torch.isfinite(logits).all()), "the untrained model's logits are finite", inputs="4 random images",
           expected="finite numbers", got="NaN or inf", hint="check the initialisation of your layers")
    return model


def split(X: torch.Tensor, y: torch.Tensor, seed: int) -> tuple:
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    n_val = int(round(VAL_FRACTION * len(y)))
    return (X[order[n_val:]], y[order[n_val:]]), (X[order[:n_val]], y[order[:n_val]])


def train(student: Any, ref: Any, device: torch.device, seed: int) -> OpenRun:
    """Everything of the run; any failure is kept in ``failure`` (the tests that need the run raise it)."""
    budget = BUDGET_SECONDS.get(device.type, BUDGET_SECONDS["cpu"])
    cap = student.launcher.limits.train_seconds  # a grading run's own cap (the platform's tests use a short one)
    run = OpenRun(device=str(device), budget=min(budget, cap) if cap else budget)
    secret = integrity.secret_seed()
    try:
        run.hyperparams = read_hyperparams(student)
        integrity.check_code_size(student)
        run.source, (X, y), test = load_data(ref, split_seed=secret)
        integrity.refuse_fallback(ref, run.source)
        run.scored_on, images, labels = scored_sets(ref, test, secret)
        (Xt, yt), (Xv, yv) = split(X, y, seed)
        threads = 1 if device.type == "cpu" else None  # one thread: steady timing when several are graded at once
        if threads:
            student.construct("torch.set_num_threads", threads)
        started = time.monotonic()  # the run's time: from building the model to the last weights handed over
        model = built_model(student, device)
        hp = run.hyperparams
        train_set = student.construct("torch.utils.data.TensorDataset", Xt, yt, timeout=SECONDS)
        val_set = student.construct("torch.utils.data.TensorDataset", Xv, yv, timeout=SECONDS)
        train_loader = student.construct("torch.utils.data.DataLoader", train_set, batch_size=hp["batch_size"],
                                         shuffle=True)
        val_loader = student.construct("torch.utils.data.DataLoader", val_set, batch_size=1024)
        optimizer = student.construct(f"torch.optim.{OPTIMIZERS[hp['optimizer']]}", model.method("parameters").handle(),
                                      lr=hp["lr"], weight_decay=hp["weight_decay"], timeout=SECONDS)
        loss_fn = student.construct("torch.nn.CrossEntropyLoss")
        fit = student.function("fit")
        trained = integrity.train_on_the_clock(
            student, model, started, run.budget,
            lambda timeout, on_progress: fit.with_timeout(timeout).run(
                (model, train_loader, val_loader, loss_fn, optimizer, hp["epochs"], device), {},
                on_progress=on_progress))
        run.seconds, run.cut_short, run.handed_over = trained.seconds, trained.cut_short, trained.handed_over
        run.history = checked_history(trained.value, run)
        expect(trained.weights is not None, "the training run hands over its weights before the budget ends",
               inputs=f"budget {run.budget:g} s", expected="the model's weights, taken by the grader every "
               f"{integrity.SNAPSHOT_SECONDS:g} s of training and when fit returns",
               got="no weights: fit neither returned in time nor ran the model's forward pass",
               hint="train the model you are given (its forward pass), and keep the run within the budget")
        outputs, run.eval_seconds = integrity.evaluate_fresh(student, trained.weights, images, device,
                                                             EVAL_SECONDS, secret + 2, threads=threads)
        run.accuracy = accuracy(outputs["scored"], labels["scored"])
        run.clean_accuracy = accuracy(outputs["clean"], labels["clean"])
        _, run.flagged = integrity.memorisation(run.clean_accuracy, run.accuracy, len(labels["clean"]),
                                                len(labels["scored"]))
    except (CheckFailed, StudentFailure) as exc:
        run.failure = integrity.out_of_memory_said(exc, "the model")
    return run


def checked_history(value: Any, run: OpenRun) -> list:
    """fit's history where it returned one (an interrupted run returns none); a NaN loss fails the run."""
    if run.cut_short or not isinstance(value, list):
        return []
    rows = [h for h in value if isinstance(h, dict)]
    for h in rows:
        loss = h.get("train_loss")
        if isinstance(loss, (int, float)) and not isinstance(loss, bool) and not math.isfinite(loss):
            raise CheckFailed("the training loss stays finite", inputs=f"HYPERPARAMS = {run.hyperparams}",
                              comparison=f"train_loss of epoch {h.get('epoch')} is {loss}",
                              mistake="the loss became NaN (the learning rate is too high, or a layer divides by zero)",
                              hint="lower the learning rate, or add batch normalisation")
    return rows


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of correct predictions, after checking the logits are (N, 10) and finite."""
    n = len(labels)
    expect(logits.dim() == 2 and tuple(logits.shape) == (n, 10), "the trained model maps test images to (N, 10) logits",
           inputs=f"{n} test images", expected=f"shape ({n}, 10)", got=describe(logits),
           hint="end with nn.Linear(..., 10)")
    expect(bool(torch.isfinite(logits).all()), "the trained model's logits are finite", inputs=f"{n} test images",
           expected="finite numbers", got="NaN or inf", mistake="the loss became NaN during training",
           hint="lower the learning rate, or add batch normalisation")
    return int((logits.argmax(dim=1) == labels).sum()) / n


@pytest.fixture
def open_run(request: pytest.FixtureRequest, student: Any, ref: Any, device: torch.device, seed: int,
             report: Any) -> OpenRun:
    """The training run, done once per grading (by the first test that needs it) and reported once."""
    cache = request.session.__dict__.setdefault("_hw7_open_run", {})
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
    if run.failure is None:
        if run.cut_short:
            done = (f"stopped at the {run.budget:g} s budget: scored on the last weights handed over, at "
                    f"{run.seconds:.1f} s (fit returned no history, so there are no curves)")
        else:
            done = f"{len(run.history)} epochs, weights handed over at {run.seconds:.1f} s"
        report.note(f"training time: {run.seconds:.1f} s (from building the model to the weights scored; budget "
                    f"{run.budget:g} s): {done}")
        report.note(f"evaluation time: {run.eval_seconds:.1f} s (a new build_model() in a new worker, the trained "
                    f"weights loaded, limit {EVAL_SECONDS:g} s)")
        report.note(f"test accuracy {run.accuracy:.4f} on {run.scored_on}; on the test images as published: "
                    f"{run.clean_accuracy:.4f}")
        if run.flagged:
            report.note("memorisation check: FLAGGED for review: the model does much better on the published test "
                        "images than on images it cannot have seen; the score uses the latter")
        report.leaderboard("accuracy", round(run.accuracy, 4))
        report.leaderboard("training_time", round(run.seconds, 2), order="asc")
        if run.history:
            report.attach("curves.png", integrity.history_png(
                run.history, [("loss", ["train_loss", "val_loss"]), ("accuracy", ["train_accuracy", "val_accuracy"])],
                f"{run.source}, {run.device}, {run.seconds:.1f} s, test accuracy {run.accuracy:.4f}"))


# ----- the tests ------------------------------------------------------------------------------------------------
@pytest.mark.points(2)
def test_is_hyperparams_well_formed(student):
    """Is HYPERPARAMS a dict with lr > 0, batch_size and epochs in range, a known optimizer and weight_decay >= 0?"""
    read_hyperparams(student)


@pytest.mark.points(3)
def test_does_build_model_map_images_to_ten_logits(student, device):
    """Does build_model() return an nn.Module mapping (N, 1, 28, 28) images to (N, 10) logits?"""
    built_model(student, device)


@pytest.mark.points(5)
def test_does_the_training_run_finish_without_errors(open_run):
    """Does your fit train your model with your HYPERPARAMS within the budget (or until stopped there), loss finite?"""
    if open_run.failure is not None:
        raise open_run.failure


@pytest.mark.points(20)
@pytest.mark.parametrize("step", range(1, STEPS + 1), ids=[f"step{k}" for k in range(1, STEPS + 1)])
def test_does_the_trained_model_reach_the_test_accuracy(open_run, step):
    """Does the trained model's test accuracy reach this step (ten steps from the partial to the full threshold)?"""
    partial, full = open_run.thresholds
    needed = round(partial + (full - partial) * step / STEPS, 4)
    data = open_run.source or "not loaded (the training run stopped before)"
    expect(open_run.failure is None, "the trained model's test accuracy",
           inputs=f"data: {data}", expected=f"an accuracy of {needed:.2f} or more",
           got="no accuracy: the training run of build_model() with HYPERPARAMS did not complete (see the "
               "training-run check above)",
           hint="fix what the training-run check reports first")
    expect(open_run.accuracy >= needed, f"test accuracy of at least {needed:.2f}",
           inputs=f"data: {open_run.source}; full credit from {full:.2f}, partial from {partial:.2f}",
           expected=f"{needed:.2f} or more", got=f"{open_run.accuracy:.4f}",
           hint="look at your curves: underfitting (both losses high) wants a bigger model or more epochs; "
                "overfitting (validation loss rising) wants dropout, weight decay or early stopping")

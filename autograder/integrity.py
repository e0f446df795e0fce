"""Open parts graded by training: an accuracy the student cannot know in advance, a budget no student code
can stretch, and a training time that is the whole run.

For every assignment whose open part trains a student's model on course data and ranks it on a leaderboard
(hw7_training's and hw8_metric_learning's). Graders import it as
``from autograder import integrity``; everything here runs in the trusted process.

- ``secret_seed()``: one seed per grading process (or per batch: ``$AUTOGRADER_SECRET_SEED``, set by the
  batch for all its processes and by the platform's tests), never sent to a worker. It draws the
  transformation below and, on the fallback data, the train/test split.
- ``perturb(images, seed)``: the test images under a label-preserving transformation (a sub-pixel shift of
  up to a quarter pixel each way and faint Gaussian noise, per image): a table of exact test images or of
  their hashes, carried in a notebook, matches none of them. The open part is scored on these.
- ``check_code_size(student)``: the notebook's loaded code is at most ``CODE_BYTES``; Fashion-MNIST's test
  set (7.8 MB of pixels) or a low-resolution copy of it cannot ride along.
- ``train_on_the_clock(...)``: the budget is a deadline kept here. The training call's wall-time limit is
  what is left of the budget; at the deadline the worker process is killed (SIGKILL and its cgroup,
  from outside: nothing in it can catch, ignore or extend that). The weights scored are the last ones
  handed over before the deadline: by the harness's ``toolbox.WeightSnapshots`` (a forward pre-hook
  sending a copy every few seconds) or, when the call returned in time, by ``take`` right after it. The
  run's time is from its start (the caller's: before building the model) to those weights.
- ``evaluate_fresh(...)``: the weights go into a new ``build_model()`` in a new worker that never ran the
  training call and never received the training data, and every forward pass runs there within one short
  fixed limit. Training hidden in a later call (the first test-set forward pass, ``state_dict``) is either
  inside the budget or lost with the training worker.
- ``memorisation(...)``: accuracy on images the student could have seen with their labels (the clean
  public test set) against the scored one (transformed, or the course's private test set): a gap far
  beyond chance is flagged in the report.
"""
from __future__ import annotations

import math
import os
import secrets
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from .compare import describe, expect
from .errors import CheckFailed, HarnessError, StudentCodeError, WorkerLost

SECRET_ENV = "AUTOGRADER_SECRET_SEED"  # never in the worker's environment (launcher.PASSED_ENV lists what is)
CODE_BYTES = 256 * 1024  # the notebook's loaded code cells together
SHIFT = 0.25  # pixels, each way (whole pixels cost the reference 2-3 points on the fallback: its digits fill the frame)
NOISE = 0.015  # standard deviation, on [0, 1] images
SNAPSHOT_SECONDS = 2.0  # how often a training run hands its weights over (bigger models less often)
MEMORISATION_MARGIN = 0.03  # flagged when the seen accuracy beats the unseen one by more than this and chance

_DRAWN: int | None = None


def secret_seed() -> int:
    """``$AUTOGRADER_SECRET_SEED`` when set (a batch shares one, tests pin one), else drawn once per process."""
    global _DRAWN
    if os.environ.get(SECRET_ENV):
        return int(os.environ[SECRET_ENV]) % 2**62
    if _DRAWN is None:
        _DRAWN = secrets.randbits(62)
    return _DRAWN


# ----- what the model is scored on -------------------------------------------------------------------------
def perturb(images: torch.Tensor, seed: int, shift: float = SHIFT, noise: float = NOISE,
            bounds: tuple[float, float] | None = (0.0, 1.0)) -> torch.Tensor:
    """Images (N, C, H, W), each moved by a random sub-pixel offset of at most ``shift`` pixels along both
    axes (bilinear resampling: no pixel keeps its exact value) and given Gaussian noise of standard
    deviation ``noise``; clamped to ``bounds``. Drawn from ``seed`` alone."""
    generator = torch.Generator().manual_seed(seed)
    images = images.float()
    n, (height, width) = len(images), images.shape[-2:]
    offsets = (torch.rand(n, 2, generator=generator) * 2 - 1) * shift
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 2], theta[:, 1, 2] = offsets[:, 0] * 2 / width, offsets[:, 1] * 2 / height  # in [-1, 1] units
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    out += noise * torch.randn(out.shape, generator=generator)
    return out.clamp_(*bounds) if bounds is not None else out


def code_bytes(student: Any) -> int:
    """The size of the notebook code loaded into the worker (demo and test cells are not loaded)."""
    return sum(len(cell.source.encode("utf-8")) for cell in student.cells)


def check_code_size(student: Any, cap: int = CODE_BYTES) -> int:
    """The loaded code's size, or a failure when it is over ``cap``: a notebook cannot carry a data set."""
    size = code_bytes(student)
    if size > cap:
        raise CheckFailed("the notebook's code is of a size a model definition needs", inputs="every loaded code cell",
                          comparison=f"{size / 1024:.0f} KB of code, the limit is {cap / 1024:.0f} KB",
                          mistake="the notebook carries data (images, labels or weights) in its code",
                          hint="define the model and its training in code; do not paste data or weights into cells")
    return size


def memorisation(seen: float, unseen: float, n_seen: int, n_unseen: int) -> tuple[float, bool]:
    """(seen - unseen, flagged): flagged when the gap is over MEMORISATION_MARGIN plus four standard errors."""
    p = min(max((seen + unseen) / 2, 1e-3), 1 - 1e-3)
    noise = 4 * math.sqrt(p * (1 - p) * (1 / max(n_seen, 1) + 1 / max(n_unseen, 1)))
    gap = seen - unseen
    return gap, gap > MEMORISATION_MARGIN + noise


# ----- training on the clock ---------------------------------------------------------------------------------
@dataclass
class TrainedWeights:
    weights: dict | None = None  # the last weights handed over before the deadline (None: none were)
    seconds: float = 0.0  # from the run's start to the moment those weights arrived
    cut_short: bool = False  # the deadline came first: the worker was killed
    value: Any = None  # what the training call returned (None when cut short)
    handed_over: int = 0  # how many times weights arrived


def valid_weights(value: Any) -> dict | None:
    """A state dict as plain data (names to tensors), or None."""
    if isinstance(value, dict) and value and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                 for k, v in value.items()):
        return value
    return None


def train_on_the_clock(student: Any, model: Any, started: float, budget: float,
                       train: Callable[[float, Callable[[Any], None]], Any],
                       interval: float = SNAPSHOT_SECONDS) -> TrainedWeights:
    """Run ``train(timeout, on_progress)`` (the student's training call on ``model``, a RemoteObject) so that
    it ends by ``started + budget`` (time.monotonic()), and keep the weights handed over before then.

    The training worker is ended afterwards whatever happened: evaluation happens in a new one. A failure of
    the student's code other than running out of time propagates (the run has no accuracy)."""
    deadline = started + budget
    kept = TrainedWeights()

    def keep(weights: Any) -> None:
        if valid_weights(weights) is not None and time.monotonic() < deadline:
            kept.weights, kept.seconds = weights, time.monotonic() - started
            kept.handed_over += 1

    try:
        snapshots = student.construct("toolbox.WeightSnapshots", model, interval=interval)
        left = deadline - time.monotonic()
        if left <= 0:
            raise CheckFailed("the model is built within the budget", comparison=f"the budget of {budget:g} s "
                              "was spent before training began", hint="building the model should take a moment")
        try:
            result = train(left, lambda value: keep(value.get("weights") if isinstance(value, dict) else None))
            kept.value = result.value
            left = deadline - time.monotonic()
            if left > 0:
                keep(snapshots.method("take", timeout=left)())
            else:
                kept.cut_short = True
        except WorkerLost as lost:
            if not lost.timed_out:
                raise
            kept.cut_short, kept.value = True, None
            student.timed_out.discard(lost.function)  # ended at its budget, not hanging: later checks wait as usual
    finally:
        student.fresh_worker()
    return kept


# ----- evaluating a fresh model ------------------------------------------------------------------------------
def evaluate_fresh(student: Any, weights: dict, images: dict[str, torch.Tensor], device: torch.device,
                   limit: float, seed: int, build: str = "build_model", batch: int = 1000,
                   threads: int | None = None) -> tuple[dict, float]:
    """({name: outputs}, seconds): ``build()`` in a new worker, ``weights`` loaded into it, every set of
    ``images`` through it in eval mode, all within ``limit`` seconds (``threads``: torch's CPU threads there).
    The sets are mixed in one order drawn from ``seed`` (the model cannot tell them apart by position).
    Outputs are tensors of as many rows as images; what else they must be is the caller's to check."""
    student.fresh_worker()
    started = time.monotonic()
    names = list(images)
    everything = torch.cat([images[n] for n in names])
    order = torch.randperm(len(everything), generator=torch.Generator().manual_seed(seed))

    too_slow = CheckFailed("the trained model is evaluated within the evaluation limit",
                           inputs=f"{len(everything)} test images in batches of {batch}",
                           comparison=f"evaluation took over {limit:g} s",
                           hint=f"a smaller model evaluates faster; {build}() and forward must not train")

    def left() -> float:
        remaining = started + limit - time.monotonic()
        if remaining <= 0:
            raise too_slow
        return remaining

    try:
        if threads:
            student.construct("torch.set_num_threads", threads, timeout=left())
        model = student.function(build, timeout=left()).handle()
        kind = model.describe() if hasattr(model, "describe") else {"kind": describe(model)}
        if kind.get("kind") != "module":
            raise CheckFailed(f"{build}() returns an nn.Module", comparison=f"got {kind.get('type', kind.get('kind'))}")
        problem = student.construct("toolbox.load_weights", model, weights, str(device), timeout=left()).get()
        if problem:
            raise CheckFailed(f"the trained weights load into a new {build}()",
                              inputs="the state_dict of the trained model", comparison=problem,
                              hint=f"{build}() must build the same architecture every time it is called")
        outputs = []
        for start in range(0, len(order), batch):
            chunk = everything[order[start:start + batch]].to(device)
            out = model.method("__call__", label=f"the trained {build}() model", timeout=left())(chunk)
            if not (isinstance(out, torch.Tensor) and out.dim() >= 1 and len(out) == len(chunk)):
                raise CheckFailed("the trained model gives one output per image", inputs=f"{len(chunk)} test images",
                                  comparison=f"got {describe(out)}")
            outputs.append(out.detach().cpu())
    except WorkerLost as lost:
        if not lost.timed_out:
            raise
        raise too_slow from None
    mixed = torch.cat(outputs)
    back = torch.empty_like(mixed)
    back[order] = mixed
    result, at = {}, 0
    for name in names:
        result[name] = back[at:at + len(images[name])]
        at += len(images[name])
    return result, time.monotonic() - started


# ----- the course's data, loaded in this process (hw7's and hw8's open parts) ---------------------------------
# ``ref`` is the assignment's reference module: solutions/ sits beside the course's d2lcourse.toml.
PRIVATE_ENV = "D2L_PRIVATE_TEST"  # the course's own held-out images (else private_test in d2lcourse.toml)
FASHION = "Fashion-MNIST"
def course_config(ref: Any) -> Path:
    return Path(ref.__file__).resolve().parents[1] / "d2lcourse.toml"


def course_data_root(ref: Any) -> Path | None:
    """$D2L_DATA_ROOT, else the course's d2lcourse.toml (beside solutions/), else d2lcourse's own order."""
    from d2lcourse.config import ENV_VAR, _from_config
    if os.environ.get(ENV_VAR):
        return None  # d2lcourse reads it
    return _from_config(course_config(ref))


def course_setting(ref: Any, key: str) -> Any:
    """A top-level setting of the course's d2lcourse.toml (None where it has none)."""
    try:
        return tomllib.loads(course_config(ref).read_text(encoding="utf-8")).get(key)
    except (OSError, tomllib.TOMLDecodeError):
        return None


def private_test_folder(ref: Any) -> Path | None:
    """$D2L_PRIVATE_TEST, else ``private_test = "..."`` in the course's d2lcourse.toml (relative to it)."""
    value = os.environ.get(PRIVATE_ENV) or course_setting(ref, "private_test")
    if not value:
        return None
    folder = Path(os.path.expanduser(str(value)))
    return folder if folder.is_absolute() else course_config(ref).parent / folder


Pair = tuple[torch.Tensor, torch.Tensor]


def load_data(ref: Any, split_seed: int = 0) -> tuple[str, Pair, Pair]:
    """(source, (train X, y), (test X, y)): images (N, 1, 28, 28) float32 in [0, 1], labels int64. The
    fallback's train/test split is drawn from ``split_seed`` (the grader's secret one)."""
    from d2lcourse.data import DataNotFound, fallback_datasets, fashion_mnist
    try:
        root = course_data_root(ref)
        train, test = fashion_mnist(True, root), fashion_mnist(False, root)
        as_tensors = [(d.data.unsqueeze(1).float() / 255, d.targets.long()) for d in (train, test)]
        return FASHION, as_tensors[0], as_tensors[1]
    except DataNotFound:
        train, test = fallback_datasets(seed=split_seed)
        return "fallback", tuple(train.tensors), tuple(test.tensors)




def scored_sets(ref: Any, test: tuple[torch.Tensor, torch.Tensor], secret: int) -> tuple[str, dict, dict]:
    """(what is scored, {name: images}, {name: labels}): the public test images as they are ("clean", for the
    memorisation check) and the scored ones, transformed by the secret seed: the course's private test set
    where it has one, else the public test images."""
    from d2lcourse.data import labelled_images
    X, y = test
    images, labels = {"clean": X}, {"clean": y}
    folder = private_test_folder(ref)
    if folder is not None:
        Xp, yp = labelled_images(folder)
        images["scored"], labels["scored"] = perturb(Xp, secret + 1), yp
        return f"the course's private test set ({len(yp)} images, transformed)", images, labels
    images["scored"], labels["scored"] = perturb(X, secret + 1), y
    return f"the test images, transformed ({len(y)} images)", images, labels




def refuse_fallback(ref: Any, source: str) -> None:
    """A HarnessError (not the student's loss) when the data loaded is the fallback and the course requires
    Fashion-MNIST (--require-data or ``require_data = true``)."""
    if source != FASHION and data_required(course_config(ref).parent):
        raise HarnessError("Fashion-MNIST is not in the course's data root and the course requires it "
                           "(--require-data or require_data = true in d2lcourse.toml): refusing to grade the "
                           "open part on the fallback data. Install it: python -m d2lcourse download")


# ----- the course's data: real, or the fallback (announced everywhere, refusable) ----------------------------
REQUIRE_ENV = "AUTOGRADER_REQUIRE_DATA"  # "1": --require-data (else require_data = true in d2lcourse.toml)


def _course_settings(course_root: Path) -> dict:
    import tomllib
    try:
        return tomllib.loads((Path(course_root) / "d2lcourse.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def data_required(course_root: Path) -> bool:
    """--require-data, or ``require_data = true`` in the course's d2lcourse.toml."""
    return os.environ.get(REQUIRE_ENV) == "1" or _course_settings(course_root).get("require_data") is True


def fallback_notice(course: Any, assignment_id: str) -> str:
    """"" when the assignment needs no course data (its graders' ``DATA``) or the data is there; else the line
    every report of it carries: graded on the fallback data set."""
    if getattr(course.import_graders(assignment_id), "DATA", None) != "Fashion-MNIST":
        return ""
    from d2lcourse.config import ENV_VAR, _from_config
    from d2lcourse.data import DataNotFound, fashion_mnist
    root = None if os.environ.get(ENV_VAR) else _from_config(Path(course.root) / "d2lcourse.toml")
    try:
        fashion_mnist(False, root)
        return ""
    except DataNotFound as exc:
        where = str(exc).splitlines()[0]
    return (f"FALLBACK DATA: {assignment_id}'s open part is graded on the stand-in data set (scikit-learn's digits), "
            f"not Fashion-MNIST ({where}); its accuracies are not Fashion-MNIST's and the stand-in is public. "
            "Staff: install the data (python -m d2lcourse download) and regrade, or refuse with --require-data.")


def refuse_without_data(course: Any, assignment_id: str) -> str:
    """The notice, or a UsageError when the course requires the real data and it is missing."""
    from .layout import UsageError
    notice = fallback_notice(course, assignment_id)
    if notice and data_required(course.root):
        raise UsageError(f"refusing to grade {assignment_id} on the fallback data: the course requires Fashion-MNIST "
                         "(--require-data or require_data = true in d2lcourse.toml). " + notice.split(": ", 1)[1])
    return notice


# ----- the open part's HYPERPARAMS ------------------------------------------------------------------------------
def number(value: Any) -> bool:
    """A finite int or float (not a bool): what a hyperparameter or a logged loss must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_hyperparams(student: Any, keys: tuple[str, ...], hint: str, timeout: float) -> dict:
    """The notebook's HYPERPARAMS, read key by key in the worker (``HYPERPARAMS[key]``): a dict holding every one
    of ``keys`` (all the missing ones named at once), its values as they are; the caller checks them."""
    from .handles import RemoteFunction
    names = student.defined_names()
    expect("HYPERPARAMS" in names, "the notebook defines HYPERPARAMS", expected="a dict named HYPERPARAMS",
           got="no such name", hint=hint)
    expect(names["HYPERPARAMS"] == "dict", "HYPERPARAMS is a dict", expected="a dict",
           got=f"a {names['HYPERPARAMS']}", hint=hint)
    getter = RemoteFunction(student, "HYPERPARAMS", [], timeout, method="__getitem__", label="HYPERPARAMS[...]")
    hp, missing = {}, []
    for key in keys:
        try:
            hp[key] = getter(key)
        except StudentCodeError:
            missing.append(key)
    expect(not missing, "HYPERPARAMS has every key the grader needs", expected=", ".join(keys),
           got=", ".join(f"no key {key!r}" for key in missing), hint=hint)
    return hp


def integer_problems(hp: dict, limits: dict[str, tuple[int, int]]) -> list[str]:
    """What is wrong with the integer hyperparameters (``limits``: key -> (lowest, highest)), one line each."""
    return [f"{key} should be an integer from {low} to {high}, got {describe(hp[key])}"
            for key, (low, high) in limits.items()
            if not (isinstance(hp[key], int) and not isinstance(hp[key], bool) and low <= hp[key] <= high)]


# ----- what the report says of a run --------------------------------------------------------------------------
def out_of_memory_said(exc: BaseException, what: str) -> BaseException:
    """A training run's failure, with running out of memory said plainly (``what``: "the model", "the embedder");
    everything else as it is."""
    text = f"{getattr(exc, 'text', '')} {getattr(exc, 'reason', '')} {getattr(exc, 'type', '')}"
    if "out of memory" in text.lower() or "MemoryError" in text or "memory" in getattr(exc, "reason", ""):
        return CheckFailed(f"{what} trains within the grader's memory",
                           comparison=f"training ran out of memory ({text.strip()[:200]})",
                           hint="make the model smaller (fewer channels or units) or the batch size smaller")
    return exc


def history_png(history: list[dict], panels: list[tuple[str, list[str]]], title: str) -> bytes:
    """A training run's curves per epoch, from the grader's own run (matplotlib's Agg, in this process): one panel
    per (title, history keys); a key with a non-number anywhere is left out."""
    import io

    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5 * len(panels), 3.2))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    epochs = [h.get("epoch") for h in history]
    if not all(number(e) for e in epochs):
        epochs = list(range(1, len(history) + 1))
    for ax, (panel, keys) in zip(axes, panels):
        for key in keys:
            values = [h.get(key) for h in history]
            if values and all(number(v) for v in values):
                ax.plot(epochs, values, marker="o", label=key.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.set_title(panel)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=80)
    return out.getvalue()

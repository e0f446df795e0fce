"""Shared inputs and checks of hw7's graders: a small known classifier in the worker and its twin here,
the epoch summaries students return, and state dicts compared key by key (naming known mistakes)."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from autograder.compare import describe, expect, expect_tensor, expect_unchanged, in_place_mistakes, read_number
from gradeworker import toolbox

D, Q = 6, 4  # images of 1 x 2 x 3 pixels, 4 classes
SECONDS = 60  # wall-time limit of one training call on these tiny problems (a first call may import a lot)
LOOP_HINT = ("model.train(); for each batch: X, y = X.to(device), y.to(device); optimizer.zero_grad(); "
             "loss = loss_fn(model(X), y); loss.backward(); optimizer.step(); add loss.item() * len(y) and the "
             "number correct to running totals, and divide by the number of examples once at the end")


def data(n: int, device: torch.device, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random images (n, 1, 2, 3) and labels in 0..Q-1."""
    X = torch.rand(n, 1, 2, 3, dtype=dtype, device=device) * 2 - 1
    return X, torch.randint(0, Q, (n,), device=device)


def weights(device: torch.device, dtype: torch.dtype = torch.float64, scale: float = 0.5) -> dict[str, torch.Tensor]:
    return {"1.weight": scale * torch.randn(Q, D, dtype=dtype, device=device),
            "1.bias": 0.1 * torch.randn(Q, dtype=dtype, device=device)}


def classifier_pair(student: Any, state: Mapping[str, torch.Tensor], device: torch.device,
                    dtype: torch.dtype = torch.float64) -> tuple[Any, torch.nn.Module]:
    """Flatten + Linear(D, Q) with the given weights: one in the worker (a handle), its twin here."""
    remote = student.construct("toolbox.linear_classifier", D, Q, timeout=SECONDS).call("to", device=device,
                                                                                        dtype=dtype)
    remote.call("load_state_dict", dict(state))
    local = toolbox.linear_classifier(D, Q).to(device=device, dtype=dtype)
    local.load_state_dict(dict(state))
    return remote, local


def local_classifier(state: Mapping[str, torch.Tensor], device: torch.device,
                     dtype: torch.dtype = torch.float64) -> torch.nn.Module:
    net = toolbox.linear_classifier(D, Q).to(device=device, dtype=dtype)
    net.load_state_dict(dict(state))
    return net


def summary(got: Any, what: str, where: str) -> tuple[float, float]:
    """A returned ``{"loss": ..., "accuracy": ...}`` of plain numbers, read safely."""
    expect(isinstance(got, dict) and "loss" in got and "accuracy" in got,
           f"{what} returns a dict with keys 'loss' and 'accuracy'", inputs=where,
           expected='{"loss": ..., "accuracy": ...}', got=describe(got),
           hint='return {"loss": total_loss / n, "accuracy": correct / n}')
    hint = "return Python floats: loss.item(), or float(...) of a 0-d tensor"
    loss = read_number(got["loss"], f"{what}'s 'loss' is a number", inputs=where, hint=hint)
    accuracy = read_number(got["accuracy"], f"{what}'s 'accuracy' is a number", inputs=where, hint=hint)
    return loss, accuracy


def loader_edges() -> list[tuple[str, torch.Tensor, torch.Tensor, int]]:
    """The loaders at the edges of what a loop takes: a single example, and unnormalised images (values up to
    255, as raw pixels) in one batch; (label, images, labels, batch size), on the CPU."""
    X1, y1 = data(1, torch.device("cpu"))
    X, y = data(10, torch.device("cpu"))
    return [("a loader of one example", X1, y1, 16), ("images in [0, 255] in one batch", 127.5 * (X + 1), y, 10)]


def expect_loop_general_rules(student: Any, function: str, call: Callable[[Any, Any], Any], device: torch.device,
                              what: str) -> None:
    """The general rules of a training or evaluation loop at ``loader_edges``: the loader's images and labels are
    left unmodified, and the summary is plain numbers. ``call(model, loader)`` runs the student's loop in the
    worker on a fresh linear classifier."""
    for label, X, y, batch in loader_edges():
        where = f"model = {what}, loader = {len(y)} examples in batches of {batch} ({label})"
        model, _ = classifier_pair(student, weights(device), device)
        loader = student.construct("toolbox.Batches", X, y, batch)
        summary(call(model, loader), function, where)
        for name, attr, before in (("the loader's images", "features", X), ("the loader's labels", "labels", y)):
            after = loader.attr(attr)
            scaled = {"the images were scaled in place (X /= 255 or X.div_(255) on the batch, a view of the "
                      "loader's data): scale a copy, X = X / 255": before / 255} if attr == "features" else {}
            expect_unchanged(before, after, name, f"{function} leaves {name} unmodified ({label})", inputs=where,
                             mistakes={**scaled, **in_place_mistakes("X" if attr == "features" else "y", before,
                                                                     after, None)})


def state_dict_of(remote: Any, what: str, where: str) -> dict[str, torch.Tensor]:
    got = remote.call("state_dict")
    expect(isinstance(got, dict) and all(isinstance(v, torch.Tensor) for v in got.values()),
           f"the {what}'s state_dict() holds tensors", inputs=where, expected="a dict of tensors", got=describe(got),
           hint="train the model you are given; do not replace its modules")
    return got


def expect_state(got: Mapping[str, torch.Tensor], want: Mapping[str, torch.Tensor], checked: str, *, where: str,
                 mistakes: Mapping[str, Callable[[], Mapping[str, torch.Tensor]]] | None = None, hint: str = "",
                 exact: bool = False, scale: float = 16.0) -> None:
    """Each tensor of ``want`` is in ``got`` with the same values (bit for bit with ``exact``)."""
    for name, value in want.items():
        expect(name in got, checked, inputs=where, expected=f"an entry {name}", got="none",
               hint="train the model you are given; do not replace its modules")
        named = {m: (lambda f=f, n=name: f()[n]) for m, f in (mistakes or {}).items()}
        if exact:
            expect_identical(got[name], value, f"{checked} ({name})", where=where, hint=hint,
                             mistakes={m: f for m, f in named.items()})
        else:
            expect_tensor(got[name], value, f"{checked} ({name})", inputs=where, mistakes=named, hint=hint,
                          scale=scale)


def expect_identical(got: Any, want: torch.Tensor, checked: str, *, where: str, hint: str = "",
                     mistakes: Mapping[str, Callable[[], torch.Tensor]] | None = None) -> None:
    """``got`` equals ``want`` bit for bit (a resumed run against an uninterrupted one)."""
    expect_tensor(got, want, checked, inputs=where, hint=hint, mistakes=mistakes)  # shape, dtype, device, close
    if torch.equal(got.to(want.device), want):
        return
    differ = int((got.to(want.device) != want).sum())
    largest = float((got.to(want.device, torch.float64) - want.double()).abs().max())
    named = next((m for m, f in (mistakes or {}).items() if _equal(got, f)), None)
    expect(False, checked, inputs=where, expected="the same values bit for bit",
           got=f"{differ} of {want.numel()} elements differ (largest difference {largest:.3g})", hint=hint,
           mistake=named)


def _equal(got: torch.Tensor, candidate: Callable[[], torch.Tensor]) -> bool:
    try:
        value = candidate()
    except Exception:
        return False
    return isinstance(value, torch.Tensor) and value.shape == got.shape and torch.equal(got.to(value.device), value)


# ----- checkpoints: a model with dropout, SGD with momentum, StepLR and a shuffling DataLoader, in the worker -----
CKPT_WHERE = ("model = Flatten, Linear(6, 8), ReLU, Dropout(0.5), Linear(8, 4); optimizer = SGD(lr=0.1, "
              "momentum=0.9); scheduler = StepLR(step_size=1, gamma=0.7); loader = DataLoader(batch_size=8, "
              "shuffle=True) over 40 examples")


def training_setup(student: Any, device: torch.device, seed: int) -> dict:
    """The run's objects in the worker, built right after torch.manual_seed(seed) (so the same seed, the same run)."""
    student.construct("torch.manual_seed", seed, timeout=SECONDS)
    layers = [student.construct("torch.nn.Flatten"), student.construct("torch.nn.Linear", D, 8),
              student.construct("torch.nn.ReLU"), student.construct("torch.nn.Dropout", 0.5),
              student.construct("torch.nn.Linear", 8, Q)]
    model = student.construct("torch.nn.Sequential", *layers).call("to", device)
    opt = student.construct("torch.optim.SGD", model.method("parameters").handle(), lr=0.1, momentum=0.9,
                            timeout=SECONDS)
    scheduler = student.construct("torch.optim.lr_scheduler.StepLR", opt, step_size=1, gamma=0.7)
    return {"model": model, "optimizer": opt, "scheduler": scheduler,
            "loss": student.construct("torch.nn.CrossEntropyLoss")}


def shuffling_loader(student: Any, X: torch.Tensor, y: torch.Tensor) -> Any:
    dataset = student.construct("torch.utils.data.TensorDataset", X, y)
    return student.construct("torch.utils.data.DataLoader", dataset, batch_size=8, shuffle=True)


def train_epochs(student: Any, run: dict, loader: Any, device: torch.device, epochs: int) -> None:
    """Plain epochs (the toolbox's loop, not the student's), the scheduler stepped after each."""
    for _ in range(epochs):
        student.construct("toolbox.run_epoch", run["model"], loader, run["loss"], run["optimizer"], device,
                          timeout=SECONDS)
        run["scheduler"].call("step")

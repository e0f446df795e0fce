"""Objects the grader may build inside the worker to hand to a student's function, and instruments.

Graders cannot send objects, only data; when a student's function expects a data iterator, an
updater or a network, the grader constructs one of these (or a ``torch`` class) in the worker by
name (``student.construct("toolbox.Batches", ...)``). Everything here is plain course code with no
grading secrets in it.

What is here is generic: a minibatch sequence, a known network, a description of any object, probes
of how a loop runs a network, a number read off any object, a test function with a known gradient and
Hessian, a seeded random draw, a training epoch, a file's bytes, a timing, a training run's weights; any
assignment may use them. What one assignment alone needs lives in a module named after it
(``toolbox.<id>``, built as ``student.construct("toolbox.<id>.Name", ...)``), imported here so that it is
in place, with the rest, before any student code runs.
"""
from __future__ import annotations

import time
from typing import Any, Iterator

import torch
from torch import nn

from . import hw2_softmax_regression, hw4_dropout, hw6_optimizers, hw8_metric_learning  # noqa: F401  (see above)


class Batches:
    """A re-iterable sequence of (X, y) minibatches in a fixed order, like a DataLoader without shuffle."""

    def __init__(self, features: torch.Tensor, labels: torch.Tensor, batch_size: int):
        self.features, self.labels, self.batch_size = features, labels, batch_size
        self.passes = 0

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.passes += 1
        for i in range(0, len(self.features), self.batch_size):
            yield self.features[i:i + self.batch_size], self.labels[i:i + self.batch_size]

    def __len__(self) -> int:
        return -(-len(self.features) // self.batch_size)


def linear_classifier(num_inputs: int, num_outputs: int, state: dict[str, torch.Tensor] | None = None) -> nn.Module:
    """Flatten then Linear, optionally loaded with given weights (a known network to train or evaluate)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_outputs))
    if state is not None:
        net[1].load_state_dict(state)
    return net


def describe(obj: Any) -> dict:
    """A plain-data description of a worker-side object, for structural checks."""
    if isinstance(obj, torch.Tensor):
        return {"kind": "tensor", "shape": list(obj.shape), "dtype": str(obj.dtype), "device": str(obj.device),
                "requires_grad": obj.requires_grad, "is_leaf": obj.is_leaf,
                "grad_fn": type(obj.grad_fn).__name__ if obj.grad_fn is not None else None,
                "has_grad": obj.grad is not None, "cls": type(obj).__name__}
    if isinstance(obj, nn.Module):
        return {
            "kind": "module", "type": type(obj).__name__, "training": obj.training,
            "children": [[n, type(m).__name__] for n, m in obj.named_children()],
            "modules": [[n, type(m).__name__, m.training] for n, m in obj.named_modules()],
            "parameters": [[n, list(p.shape), p.requires_grad, str(p.dtype), str(p.device)]
                           for n, p in obj.named_parameters()],
            "buffers": [[n, list(b.shape)] for n, b in obj.named_buffers()],
            "num_parameters": sum(p.numel() for p in obj.parameters()),
        }
    kind = "iterator" if hasattr(obj, "__next__") else "callable" if callable(obj) else "object"
    return {"kind": kind, "type": f"{type(obj).__module__}.{type(obj).__qualname__}"}


class Probe(nn.Module):
    """Wraps a network and records, at each forward, its mode, whether autograd was on, and the batch size.

    Read ``calls`` back (``probe.attr("calls")``) to check that a student's evaluation loop switched the
    model to eval mode and built no graph, or that a training loop did the opposite.
    """

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.calls: list[dict] = []

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self.calls.append({"training": self.training, "grad_enabled": torch.is_grad_enabled(), "batch": len(X)})
        return self.inner(X)


class ModeSensitive(Probe):
    """A classifier whose scores are right only when it is run the way the loop should run it.

    Wraps a network and records each call as ``Probe`` does. With ``for_training=False`` the right
    way is eval mode with autograd off (an evaluation loop); with ``for_training=True`` it is
    training mode with autograd on (a training loop). Run any other way, it rolls its scores by one
    class for the wrong mode and by two for the wrong autograd setting, so the accuracy a loop
    reports (and the training it does) shows how it ran the network, whatever happens to ``calls``.
    """

    def __init__(self, inner: nn.Module, for_training: bool):
        super().__init__(inner)
        self.for_training = for_training

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        scores = super().forward(X)
        shift = int(self.training != self.for_training) + 2 * int(torch.is_grad_enabled() != self.for_training)
        return scores.roll(shift, dims=1) if shift else scores


def number_attribute(obj: object, name: str) -> float | None:
    """``obj.<name>`` where it is a plain number (a layer's dropout probability), else None; never raises."""
    try:
        value = getattr(obj, name)
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
    except Exception:
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class Objective:
    """Generic (hw0's numerical gradients and hw6's critical points and closures both build it): a smooth scalar
    test function of a 1-D tensor whose gradient and Hessian at ``center`` are known:
    ``f(x) = ½ (x - c)ᵀ A (x - c) + bᵀ (x - c) + Σᵢ kᵢ (xᵢ - cᵢ)³``, so ``∇f(c) = b`` and ``∇²f(c) = A``.

    ``f(x)`` returns a 0-d tensor (differentiable). ``f.closure(param)`` returns a closure for
    ``optimizer.step(closure)``: it zeroes ``param.grad``, evaluates ``f(param)``, backpropagates and returns
    the loss, counting its calls in ``f.calls``.
    """

    def __init__(self, A: torch.Tensor, center: torch.Tensor, b: torch.Tensor | None = None,
                 cubic: torch.Tensor | None = None):
        self.A, self.center = A, center
        self.b = torch.zeros_like(center) if b is None else b
        self.cubic = torch.zeros_like(center) if cubic is None else cubic
        self.calls = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        d = x - self.center
        return 0.5 * d @ (self.A @ d) + self.b @ d + (self.cubic * d ** 3).sum()

    def closure(self, param: torch.Tensor):
        def closure() -> torch.Tensor:
            self.calls += 1
            if not torch.is_grad_enabled():
                raise RuntimeError("the closure was called with autograd switched off: optimizer.step calls "
                                   "it inside `with torch.enable_grad():`")
            param.grad = None
            loss = self(param)
            loss.backward()
            return loss
        return closure


def random_draws(n: int = 4) -> dict:
    """A few numbers from each global generator (Python's ``random``, NumPy's, torch's CPU one and, where
    there is a GPU, torch's CUDA one): equal draws after equal seeding show the generators were seeded."""
    import random

    import numpy
    return {"python": [random.random() for _ in range(n)], "numpy": [float(v) for v in numpy.random.random(n)],
            "torch": torch.rand(n), "cuda": torch.rand(n, device="cuda") if torch.cuda.is_available() else None}


def run_epoch(model: nn.Module, loader: Any, loss_fn: Any, optimizer: torch.optim.Optimizer,
              device: torch.device | str | None = None) -> int:
    """A plain training epoch (train mode; zero_grad, forward, loss, backward, step per batch), for checks
    that need training without depending on the student's loop; returns the number of batches."""
    model.train()
    batches = 0
    for X, y in loader:
        if device is not None:
            X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss_fn(model(X), y).backward()
        optimizer.step()
        batches += 1
    return batches


def file_bytes(path: str, limit: int = 64 * 2**20) -> torch.Tensor:
    """The bytes of a file the student's code wrote (at most ``limit``), as a uint8 tensor, so that the grader
    can read it in its own process (e.g. with ``torch.load(..., weights_only=True)``)."""
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path} is larger than {limit} bytes")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.zeros(0, dtype=torch.uint8)


def best_seconds(name: str, *args: Any, repeats: int = 5, **kwargs: Any) -> float:
    """The shortest of ``repeats`` timed calls of the ``torch.`` function ``name``, after one untimed warm-up.

    A reference time taken in the worker, beside a student's function timed there too (a vectorisation
    budget such as "at most k times F.conv2d"). CUDA is synchronised around each call, so the time
    includes the kernels, not only their launch.
    """
    from ..monitor import _resolve
    if not name.startswith("torch."):
        raise ValueError(f"only torch functions are timed here, not {name!r}")
    fn = _resolve(name)
    on_cuda = any(isinstance(a, torch.Tensor) and a.is_cuda for a in args)
    sync = torch.cuda.synchronize if on_cuda else (lambda: None)
    fn(*args, **kwargs)
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args, **kwargs)
        sync()
        best = min(best, time.perf_counter() - start)
    return best


# Set by the worker's server: sends an interim reply to the request being served (see protocol.Reply.progress).
progress_sink: Any = None


def weights_of(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the model's state (parameters and buffers) on the CPU, as plain data."""
    return {name: value.detach().to("cpu", copy=True) for name, value in nn.Module.state_dict(model).items()
            if isinstance(value, torch.Tensor)}


class WeightSnapshots:
    """Hands a training run's weights to the grader as it goes, without the student's code taking part.

    Registered as a forward pre-hook on the model: at most every ``interval`` seconds (and never for more
    than about ``1 / share`` of the run's time: a big model is sent less often), the next forward pass first
    sends a copy of the weights (``weights_of``) as an interim reply of the call that is training. The
    grader keeps the last one it received before its deadline; at the deadline it ends the process, so a
    run that outlasts its budget is scored on those weights and nothing the student's code does later
    counts. Student code can remove the hook; it then only loses the weights it would have handed over."""

    def __init__(self, model: nn.Module, interval: float = 2.0, share: float = 0.05):
        self.model, self.interval, self.share = model, float(interval), float(share)
        self.sent = 0
        self.last = time.monotonic()
        self.wait = self.interval
        self.hook = model.register_forward_pre_hook(self._before_forward)

    def _before_forward(self, module: nn.Module, inputs: Any) -> None:
        if time.monotonic() - self.last >= self.wait and progress_sink is not None:
            started = time.monotonic()
            progress_sink({"weights": weights_of(self.model), "sent": self.sent + 1})
            self.sent += 1
            self.last = time.monotonic()
            self.wait = max(self.interval, (self.last - started) / self.share)

    def take(self) -> dict[str, torch.Tensor]:
        """The weights now (after the training call returned), and the hook removed."""
        self.hook.remove()
        return weights_of(self.model)


def load_weights(model: nn.Module, weights: dict[str, torch.Tensor], device: str = "cpu") -> str:
    """Weights from a training run into a freshly built model (strictly: same names and shapes), moved to
    ``device`` and put in eval mode; returns "" or what did not fit."""
    try:
        nn.Module.load_state_dict(model, weights, strict=True)
    except (RuntimeError, KeyError, TypeError) as exc:
        return str(exc)[:1500]
    model.to(device)
    model.eval()
    return ""

"""Shared checks of hw6's schedule graders: a schedule evaluated at many steps, compared with the closed
form (the reference) and, where they coincide, with PyTorch's own scheduler."""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

from autograder.compare import expect_number, read_number


def values(student: Any, name: str, args: list[tuple], kwargs: dict | None = None) -> list[float]:
    """The student's schedule at each argument tuple, each checked to be a plain number."""
    fn = getattr(student, name)
    out = []
    for a in args:
        out.append(read_number(fn(*a, **(kwargs or {})), f"{name} returns a Python number",
                               inputs=call_text(name, a, kwargs)))
    return out


def call_text(name: str, args: tuple, kwargs: dict | None = None) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def expect_schedule(name: str, args: list[tuple], got: list[float], expected: list[float],
                    mistakes: dict[str, Callable[[tuple], float]], hint: str, kwargs: dict | None = None,
                    what: str = "") -> None:
    """Each value equals the expected one; where the student's values are all one known mistake's, name it."""
    named = None
    for mistake, fn in mistakes.items():
        try:
            wrong = [fn(a) for a in args]
        except (ZeroDivisionError, ValueError, OverflowError):
            continue
        if all(_close(g, w) for g, w in zip(got, wrong)) and not all(_close(g, e) for g, e in zip(got, expected)):
            named = mistake
            break
    for a, g, e in zip(args, got, expected):
        if not _close(g, e):
            expect_number(g, e, f"{what or name} at step t = {a[0]}", inputs=call_text(name, a, kwargs),
                          mistakes={named: g} if named else None, hint=hint)


def torch_scheduler_lrs(make: Callable[[torch.optim.Optimizer], Any], base_lr: float, steps: int) -> list[float]:
    """The learning rate a torch.optim.lr_scheduler sets before each of ``steps`` steps."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = make(optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs

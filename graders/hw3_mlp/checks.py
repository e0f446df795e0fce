"""Checks hw3's graders share: the three activation functions' checks, and known mistakes behind errors."""
from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from typing import Callable, Iterator

import torch

from autograder.compare import (
    CheckFailed,
    expect,
    expect_general_rules,
    expect_tensor,
    expect_unchanged,
    graph_mistake,
    inputs,
)
from autograder.errors import StudentCodeError

# Where exp overflows: float32's exp(x) is inf from x = 88.7, float64's from x = 709.8.
EXTREMES = [-1000.0, -710.0, -100.0, -89.0, -50.0, -20.0, -1.0, 0.0, 1.0, 20.0, 50.0, 89.0, 100.0, 710.0, 1000.0]
LARGE = [-1000.0, -710.0, -100.0, -89.0, -30.0, 30.0, 89.0, 100.0, 710.0, 1000.0]

Mistakes = Callable[[torch.Tensor], dict]
STABLE_HINTS = {  # per activation: how to avoid exp's overflow
    "relu": "max(x, 0) needs no exp at all: torch.maximum(X, torch.zeros_like(X)) or X.clamp(min=0)",
    "sigmoid": "call exp only on numbers <= 0 (1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) for x < 0), and "
               "keep both branches of a torch.where finite: feed each 0 where it is not used",
    "tanh": "call exp only on numbers <= 0 ((1 - exp(-2x)) / (1 + exp(-2x)) for x >= 0, (exp(2x) - 1) / (exp(2x) + 1) "
            "for x < 0), and keep both branches of a torch.where finite: feed each 0 where it is not used",
}
IN_PLACE_ON_X = ("leaf Variable that requires grad is being used in an in-place operation",
                 "X is modified in place (X.clamp_, X[...] = ..., X *= ...): return a new tensor instead",
                 "use out-of-place operations: X.clamp(min=0), torch.maximum(X, ...), torch.where(...)")


@contextmanager
def explain_errors(checked: str, where: str, *rules: tuple[str, str, str]) -> Iterator[None]:
    """An error in student code whose text contains a rule's pattern fails as that rule's (mistake, hint)."""
    try:
        yield
    except StudentCodeError as exc:
        for pattern, mistake, hint in rules:
            if pattern in exc.text:
                raise CheckFailed(checked, where, f"{exc.function} raised {exc.type}: {exc.text[:300]}", hint,
                                  mistake) from None
        raise


class Activation:
    """The checks of relu, sigmoid and tanh: elementwise values, the extremes, gradients, inputs untouched."""

    def __init__(self, name: str, student, ref, device: torch.device):
        self.name, self.device = name, device
        self.student_fn, self.ref_fn = getattr(student, name), getattr(ref, name)

    def values(self, dtype: torch.dtype, mistakes: Mistakes) -> None:
        for shape in [(), (1,), (7,), (4, 5), (2, 3, 4)]:
            X = 4 * torch.randn(shape, dtype=dtype, device=self.device)
            if X.numel() > 3:
                X.view(-1)[0] = 0.0  # exactly 0 among the inputs
            expect_tensor(self.student_fn(X), self.ref_fn(X), f"{self.name}(X), elementwise", inputs=inputs(X=X),
                          mistakes=mistakes(X), hint="apply the formula elementwise with tensor operations")

    def extremes(self, dtype: torch.dtype, mistakes: Mistakes) -> None:
        """Finite (no NaN, no inf) and within the dtype's tolerance of the true value up to +-1000. Not exact:
        a function that clamps its input to +-60 is off by under 1e-26 there, which the contract allows."""
        X = torch.tensor(EXTREMES, dtype=dtype, device=self.device)
        where = f"X = {EXTREMES} ({str(dtype).removeprefix('torch.')})"
        got, expected = self.student_fn(X), self.ref_fn(X)
        expect_tensor(got, expected, f"{self.name}(X) is finite and right for inputs as large as +-1000",
                      inputs=where, mistakes=mistakes(X), hint=STABLE_HINTS[self.name])
        bad = [x for x, v in zip(EXTREMES, got.tolist()) if v != v or v in (float("inf"), float("-inf"))]
        expect(not bad, f"{self.name}(X) has no NaN or inf for inputs as large as +-1000", inputs=where,
               expected="finite values", got=f"NaN or inf at x = {bad}", hint=STABLE_HINTS[self.name])

    def gradients(self, dtype: torch.dtype, wrong_formulas: dict[str, Callable[[torch.Tensor], torch.Tensor]]) -> None:
        """``wrong_formulas``: known mistakes, by name; a gradient equal to autograd's for one of them is named."""
        # No input is exactly 0: there ReLU's subgradient is a free choice, and the others are tested elsewhere.
        X = torch.cat([3 * torch.randn(20, dtype=dtype, device=self.device),
                       torch.tensor(LARGE, dtype=dtype, device=self.device)])
        X = torch.where(X == 0, torch.ones_like(X), X)
        g = torch.rand_like(X) + 0.5
        where = inputs(X=X) + f" (20 from N(0, 9), then {LARGE})"
        with explain_errors(f"the gradient of {self.name}(X) with respect to X", where, IN_PLACE_ON_X):
            result = self.student_fn.run((X,), wrt=[0], grad_output=g)
        expect(result.grad_error is None, f"{self.name}(X) is differentiable with respect to X", inputs=where,
               expected="a result connected to the autograd graph", got=result.grad_error or "",
               mistake=graph_mistake(result.grad_error),
               hint="build the result from X with torch operations only (no .item(), .tolist(), .numpy(), .detach())")
        grad = result.grads[0] if isinstance(result.grads, list) and result.grads else None
        expect(grad is not None, "the gradient reaches X", inputs=where, expected="a gradient", got="None")
        leaf = X.detach().requires_grad_()
        (expected,) = torch.autograd.grad(self.ref_fn(leaf), leaf, g)
        expect_tensor(grad, expected, f"the gradient of {self.name}(X) with respect to X (autograd)", inputs=where,
                      mistakes={name: partial(self.grad_of, formula, X, g) for name, formula in wrong_formulas.items()},
                      hint=STABLE_HINTS[self.name])

    @staticmethod
    def grad_of(formula: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """What autograd makes of a (wrong) formula's gradient: how a known mistake's NaNs are recognised."""
        leaf = X.detach().requires_grad_()
        (grad,) = torch.autograd.grad(formula(leaf), leaf, g)
        return grad

    def leaves_input(self) -> None:
        X = 3 * torch.randn(6, 4, device=self.device)
        where = inputs(X=X)
        result = self.student_fn.run((X,), return_args=True)
        expect_unchanged(X, result.args_after[0], "X", f"{self.name} leaves X unmodified", inputs=where)
        # The general rules at the edges: an empty float64 X, a 0-d one, float64 inputs as large as +-1000, all < 0.
        edges = [("an empty X", (torch.randn(0, 3, dtype=torch.float64, device=self.device),)),
                 ("a 0-d X", (torch.tensor(-0.5, device=self.device),)),
                 ("float64 extremes", (torch.tensor(EXTREMES, dtype=torch.float64, device=self.device),)),
                 ("every element negative", (-torch.rand(3, 2, device=self.device) - 0.1,))]
        expect_general_rules(self.student_fn.run, self.ref_fn, edges, ["X"], self.name)

"""hw6's worker-side helpers: a test function with a known gradient and Hessian, for classifying critical
points and stepping optimizers with a closure, and a way to hand an optimizer a whole step's gradients."""
from __future__ import annotations

import torch


class Objective:
    """A smooth scalar test function of a 1-D tensor whose gradient and Hessian at ``center`` are known:
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


class GradSetter:
    """Hands a whole step's gradients to worker-side parameters in one call (for replaying an optimizer).

    ``feed(grads)`` first reads the parameters' current values (detached copies, returned), then sets
    ``param.grad = g`` for each (``None`` leaves that parameter without a gradient). ``feed.values()``
    only reads them.
    """

    def __init__(self, params: list[torch.Tensor]):
        self.params = list(params)

    def values(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.params]

    def __call__(self, grads: list[torch.Tensor | None]) -> list[torch.Tensor]:
        current = self.values()
        for p, g in zip(self.params, grads):
            p.grad = g
        return current

"""hw6's worker-side helper: a way to hand an optimizer a whole step's gradients, for replaying it step by step."""
from __future__ import annotations

import torch


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

"""hw2's worker-side helpers: d2l's from-scratch network and updater, for grading ``evaluate_accuracy`` and
``train_epoch`` on a network that is a plain function and an updater that is a plain callable (as in d2l's
chapter on softmax regression from scratch), not an ``nn.Module`` and a ``torch.optim`` optimizer."""
from __future__ import annotations

from typing import cast

import torch


class CallableNet:
    """A network that is a plain function of X, not an nn.Module (d2l's from-scratch ``net``)."""

    def __init__(self, W: torch.Tensor, b: torch.Tensor):
        self.W, self.b = W, b

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return X.reshape(-1, self.W.shape[0]) @ self.W + self.b


class SGDUpdater:
    """d2l's from-scratch updater: ``updater(batch_size)`` does ``p -= lr * p.grad / batch_size``."""

    def __init__(self, params: list[torch.Tensor], lr: float):
        self.params, self.lr = params, lr
        self.batch_sizes: list[int] = []

    def __call__(self, batch_size: int) -> None:
        self.batch_sizes.append(int(batch_size))
        with torch.no_grad():
            for p in self.params:
                grad = cast(torch.Tensor, p.grad)  # as d2l's sgd: a missing gradient fails here as it does there
                p -= self.lr * grad / batch_size
                grad.zero_()

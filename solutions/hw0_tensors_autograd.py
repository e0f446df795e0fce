"""Reference for hw0_tensors_autograd (d2l 2.1-2.5; Liu Er 2-4), written from docs/contract/hw0_tensors_autograd.md.

Kept independent of the notebook's solution cells: where PyTorch has the operation (torch.cdist, autograd)
the reference uses it, so that a grader comparing the two is not comparing a solution with itself.
"""
from __future__ import annotations

import math
from typing import Callable

import torch


def outer_sum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a.unsqueeze(1) + b.unsqueeze(0)


def set_block_(X: torch.Tensor, rows: tuple[int, int], cols: tuple[int, int], value: float) -> None:
    X[slice(*rows), slice(*cols)].fill_(value)


def add_into_(out: torch.Tensor, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    return out.copy_(torch.add(X, Y))  # copy_ broadcasts its source to out's shape


def pairwise_sq_dists(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    return torch.cdist(X, Y, compute_mode="donot_use_mm_for_euclid_dist").square()


def preprocess(table: dict[str, list]) -> torch.Tensor:
    """Mean-filled numeric columns first, then every categorical column's one-hot block with its _nan column."""
    numeric, categorical = [], []
    for values in table.values():
        present = [v for v in values if v is not None]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
            mean = math.fsum(present) / len(present) if present else 0.0
            numeric.append([float(mean if v is None else v) for v in values])
        else:
            levels = sorted(set(present))
            categorical += [[float(v == level) for v in values] for level in levels]
            categorical.append([float(v is None) for v in values])
    columns = numeric + categorical
    rows = len(next(iter(table.values()), []))
    return torch.tensor(columns, dtype=torch.float64).T.reshape(rows, len(columns))


def _cost(x: torch.Tensor, y: torch.Tensor, w: float) -> float:
    return float(torch.nn.functional.mse_loss(w * x, y))


def exhaustive_search(x: torch.Tensor, y: torch.Tensor, ws: torch.Tensor):
    losses = torch.stack([torch.nn.functional.mse_loss(w * x, y) for w in ws.to(x.dtype)])
    return float(ws[int(torch.argmin(losses))]), losses


def _step(x: torch.Tensor, y: torch.Tensor, w: float, lr: float) -> float:
    """One gradient step on a batch, the gradient taken by autograd (the reference need not derive it)."""
    w_t = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.mse_loss(w_t * x.double(), y.double())
    (grad,) = torch.autograd.grad(loss, w_t)
    return w - lr * float(grad)


def gradient_descent(x: torch.Tensor, y: torch.Tensor, w: float, lr: float, num_epochs: int):
    costs = []
    for _ in range(num_epochs):
        costs.append(_cost(x, y, w))
        w = _step(x, y, w, lr)
    return w, costs


def stochastic_gradient_descent(x: torch.Tensor, y: torch.Tensor, w: float, lr: float, num_epochs: int) -> float:
    return minibatch_gradient_descent(x, y, w, lr, num_epochs, 1)


def minibatch_gradient_descent(x: torch.Tensor, y: torch.Tensor, w: float, lr: float, num_epochs: int,
                               batch_size: int) -> float:
    for _ in range(num_epochs):
        for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
            w = _step(xb, yb, w, lr)
    return w


def _autograd(loss_of: Callable, params: dict[str, torch.Tensor]):
    leaves = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
    loss = loss_of(**leaves)
    grads = torch.autograd.grad(loss, list(leaves.values()))
    return loss.detach(), dict(zip(leaves, grads))


def linear_graph(x, y, w1, b1, w2, b2):
    return _autograd(lambda w1, b1, w2, b2: ((w2 * (w1 * x + b1) + b2 - y) ** 2).mean(),
                     {"w1": w1, "b1": b1, "w2": w2, "b2": b2})


def sigmoid_graph(X, y, W1, b1, W2, b2):
    return _autograd(lambda W1, b1, W2, b2: torch.nn.functional.mse_loss(
        torch.nn.functional.linear(torch.sigmoid(torch.addmm(b1, X, W1)), W2.T, b2), y),
        {"W1": W1, "b1": b1, "W2": W2, "b2": b2})


def numerical_gradient(f: Callable, x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    grad = torch.empty_like(x)
    flat = x.detach().clone().reshape(-1)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = eps
        grad.view(-1)[i] = (f((flat + step).reshape(x.shape)) - f((flat - step).reshape(x.shape))) / (2 * eps)
    return grad

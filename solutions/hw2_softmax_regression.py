"""Reference for hw2_softmax_regression (d2l 3.4-3.7), written from the contract in CURRICULUM.md.

Kept independent of the notebook's solution cells and built on PyTorch's own routines
(``F.softmax``, ``F.nll_loss``, ``F.cross_entropy``), so that a grader comparing the two is not
comparing a solution with itself.
"""
from __future__ import annotations

from typing import Any, Iterable

import torch
import torch.nn.functional as F
from torch import nn


def softmax(X: torch.Tensor) -> torch.Tensor:
    return F.softmax(X, dim=1)


def cross_entropy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """-log(y_hat[i, y[i]]) per example, shape (n,)."""
    return F.nll_loss(torch.log(y_hat), y, reduction="none")


def cross_entropy_from_logits(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, y, reduction="none")


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """The number of correct predictions, as a Python float."""
    predicted = y_hat.argmax(dim=1) if y_hat.dim() > 1 else y_hat
    return float(torch.count_nonzero(predicted.to(y.dtype) == y.reshape(predicted.shape)))


def softmax_regression(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.softmax(torch.addmm(b, X.reshape(-1, W.shape[0]), W), dim=1)


@torch.no_grad()
def evaluate_accuracy(net: Any, data_iter: Iterable) -> float:
    if isinstance(net, nn.Module):
        net.eval()
    correct, total = 0.0, 0
    for X, y in data_iter:
        correct += accuracy(net(X), y)
        total += y.numel()
    return correct / total


def train_epoch(net: Any, train_iter: Iterable, loss: Any, updater: Any) -> tuple[float, float]:
    """One pass, as d2l's train_epoch_ch3: mean loss before backward with an optimizer, the sum otherwise."""
    if isinstance(net, nn.Module):
        net.train()
    total_loss, correct, total = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        losses = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            losses.mean().backward()
            updater.step()
        else:
            losses.sum().backward()
            updater(X.shape[0])
        total_loss += float(losses.detach().sum())
        correct += accuracy(y_hat.detach(), y)
        total += y.numel()
    return total_loss / total, correct / total

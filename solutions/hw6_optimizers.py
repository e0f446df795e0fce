"""Reference for hw6_optimizers (d2l 11 and the lecture notes), written from the contract in CURRICULUM.md.

Kept independent of the notebook's solution cells: the optimizers ARE PyTorch's (``torch.optim``
classes with the contract's signature and defaults, the single-tensor code path pinned with
``foreach=False``), the cosine schedules come from PyTorch's own closed form, and the Hessian from
``torch.autograd.functional.hessian``. This module runs only in the trusted grading process.
"""
from __future__ import annotations

import math

import torch


# ----- optimizers: torch.optim's own, with the contract's signatures ---------------------------------
class SGD(torch.optim.SGD):
    """torch.optim.SGD: buf = momentum * buf + (1 - dampening) * (g + wd * p), the first buf = g + wd * p."""

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov, foreach=False)


class Adagrad(torch.optim.Adagrad):
    """torch.optim.Adagrad: s += g * g; p -= lr * g / (sqrt(s) + eps)."""

    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, lr=lr, eps=eps, weight_decay=weight_decay, foreach=False)


class RMSprop(torch.optim.RMSprop):
    """torch.optim.RMSprop: v = alpha * v + (1 - alpha) * g * g; p -= lr * g / (sqrt(v) + eps)."""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         foreach=False)


class Adam(torch.optim.Adam):
    """torch.optim.Adam: bias-corrected moments, eps outside the root, weight decay as L2 in the gradient."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=False)


class AdamW(torch.optim.AdamW):
    """torch.optim.AdamW: p *= 1 - lr * weight_decay, then Adam's step without L2."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=False)


OPTIMIZERS = {"SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}


# ----- learning-rate schedules: pure functions of the 0-based step t -----------------------------------
def step_decay(t, base_lr, step_size, gamma=0.1):
    """StepLR's closed form: base_lr * gamma ** (t // step_size)."""
    return base_lr * gamma ** (t // step_size)


def cosine_annealing(t, base_lr, total_steps, min_lr=0.0):
    """CosineAnnealingLR's closed form up to total_steps, then min_lr."""
    if t >= total_steps:
        return float(min_lr)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2


def warmup_cosine(t, base_lr, warmup_steps, total_steps, min_lr=0.0):
    """A linear warm-up base_lr * (t + 1) / warmup_steps, then a cosine from base_lr at warmup_steps to min_lr at
    total_steps, then min_lr."""
    if t < warmup_steps:
        return base_lr * (t + 1) / warmup_steps
    return cosine_annealing(t - warmup_steps, base_lr, total_steps - warmup_steps, min_lr)


# ----- critical points -----------------------------------------------------------------------------
def classify_critical_point(f, point):
    """'minimum', 'maximum' or 'saddle' from the signs of the Hessian's eigenvalues at a critical point."""
    x = point.detach()
    grad = torch.func.grad(f)(x)
    if float(torch.linalg.vector_norm(grad)) > 1e-4:
        raise ValueError(f"not a critical point: the gradient's norm is {float(torch.linalg.vector_norm(grad)):.3g}")
    hessian = torch.autograd.functional.hessian(f, x)
    eigenvalues = torch.linalg.eigvalsh((hessian + hessian.T) / 2)
    if bool((eigenvalues > 0).all()):
        return "minimum"
    if bool((eigenvalues < 0).all()):
        return "maximum"
    return "saddle"

"""Known wrong versions of the five optimizers, simulated in the trusted process to NAME a student's mistake.

Only ever used after a trajectory already failed against torch.optim: if the student's trajectory
equals one of these, the message says which mistake it is. ``simulate`` runs one parameter group with a
constant learning rate and every gradient present (the plans the option checks use).
"""
from __future__ import annotations

import math
from typing import Callable

import torch

# name of the optimizer -> {mistake key: what the student reads}
MISTAKES: dict[str, dict[str, str]] = {
    "SGD": {
        "zero_buffer": "the momentum buffer starts at zero; torch.optim.SGD starts it at the first gradient "
                       "(so the first step is not damped)",
        "no_dampening": "dampening is ignored: the buffer adds (1 - dampening) * g, not g",
        "nesterov_ignored": "nesterov=True is ignored: Nesterov steps along g + momentum * buf",
        "nesterov_old_buffer": "Nesterov uses the buffer from before this step's update (g + momentum * old buf)",
        "nesterov_buffer_only": "Nesterov steps along momentum * buf + buf instead of g + momentum * buf",
        "decay_outside": "weight decay is applied to the parameter directly instead of added to the gradient "
                         "before the momentum buffer",
    },
    "Adagrad": {
        "rms": "AdaGrad divides by the root MEAN square of past gradients (the lecture notes' sigma); "
               "torch.optim.Adagrad divides by the root of their SUM",
        "eps_inside": "epsilon is inside the square root (sqrt(s + eps)); PyTorch adds it outside: sqrt(s) + eps",
        "no_eps": "epsilon is missing from the denominator",
        "decay_not_accumulated": "weight decay is added after the squared gradient was accumulated; PyTorch adds "
                                 "weight_decay * p to the gradient first",
    },
    "RMSprop": {
        "eps_inside": "epsilon is inside the square root (sqrt(v + eps)); PyTorch adds it outside: sqrt(v) + eps",
        "alpha_swapped": "alpha and 1 - alpha are swapped: v = alpha * v + (1 - alpha) * g^2",
        "bias_corrected": "RMSprop is bias-corrected like Adam (v / (1 - alpha^t)); torch.optim.RMSprop is not",
        "first_gradient_start": "the average starts at the first squared gradient (the lecture notes' sigma_0); "
                                "PyTorch starts it at zero",
        "momentum_before_scaling": "momentum averages the raw gradient and divides afterwards; PyTorch's buffer "
                                   "averages g / (sqrt(v) + eps)",
    },
    "Adam": {
        "no_bias_correction": "Adam without bias correction (m / (1 - beta1^t) and v / (1 - beta2^t) are missing)",
        "no_m_correction": "only v is bias-corrected: m / (1 - beta1^t) is missing",
        "no_v_correction": "only m is bias-corrected: v / (1 - beta2^t) is missing",
        "eps_inside": "epsilon is inside the square root (sqrt(v_hat + eps)); PyTorch adds it outside",
        "eps_before_correction": "epsilon is added before the bias correction of v ((sqrt(v) + eps) / "
                                 "sqrt(1 - beta2^t), as in the paper's efficient form with the bias corrections "
                                 "folded into the step size); torch.optim.Adam adds it after: sqrt(v_hat) + eps",
        "decoupled": "weight decay is decoupled (AdamW's p *= 1 - lr * wd); torch.optim.Adam adds wd * p to "
                     "the gradient",
        "betas_swapped": "beta1 and beta2 are swapped",
    },
    "AdamW": {
        "coupled": "AdamW decays through the gradient (an L2 term, Adam's weight_decay); AdamW decouples it: "
                   "p *= 1 - lr * weight_decay",
        "decay_without_lr": "the decay is p *= 1 - weight_decay; PyTorch multiplies by 1 - lr * weight_decay",
        "decay_after_update": "the decay is applied after the Adam update; PyTorch decays first",
        "no_bias_correction": "AdamW without bias correction",
        "eps_inside": "epsilon is inside the square root (sqrt(v_hat + eps)); PyTorch adds it outside",
    },
}


def _sgd(p, g, s, o, m, t):
    lr, mu, tau, wd = o["lr"], o["momentum"], o["dampening"], o["weight_decay"]
    if m == "no_dampening":
        tau = 0.0
    if wd and m != "decay_outside":
        g = g + wd * p
    if mu:
        old = s.get("buf")
        if old is None:
            buf = (1 - tau) * g if m == "zero_buffer" else g.clone()
            old = torch.zeros_like(g)
        else:
            buf = mu * old + (1 - tau) * g
        s["buf"] = buf
        if o["nesterov"] and m != "nesterov_ignored":
            g = {"nesterov_old_buffer": g + mu * old, "nesterov_buffer_only": buf + mu * buf}.get(m, g + mu * buf)
        else:
            g = buf
    if wd and m == "decay_outside":
        g = g + wd * p
    return p - lr * g


def _adagrad(p, g, s, o, m, t):
    lr, eps, wd = o["lr"], o["eps"], o["weight_decay"]
    raw = g
    if wd:
        g = g + wd * p
    s["sum"] = s.get("sum", torch.zeros_like(p)) + (raw * raw if m == "decay_not_accumulated" else g * g)
    total = s["sum"] / t if m == "rms" else s["sum"]
    denom = {"eps_inside": (total + eps).sqrt(), "no_eps": total.sqrt()}.get(m, total.sqrt() + eps)
    return p - lr * g / denom


def _rmsprop(p, g, s, o, m, t):
    lr, alpha, eps, wd, mu = o["lr"], o["alpha"], o["eps"], o["weight_decay"], o["momentum"]
    if wd:
        g = g + wd * p
    if m == "first_gradient_start" and "v" not in s:
        v = g * g
    elif m == "alpha_swapped":
        v = (1 - alpha) * s.get("v", torch.zeros_like(p)) + alpha * g * g
    else:
        v = alpha * s.get("v", torch.zeros_like(p)) + (1 - alpha) * g * g
    s["v"] = v
    if m == "bias_corrected":
        v = v / (1 - alpha ** t)
    denom = (v + eps).sqrt() if m == "eps_inside" else v.sqrt() + eps
    if mu:
        old = s.get("buf", torch.zeros_like(p))
        if m == "momentum_before_scaling":
            s["buf"] = mu * old + g
            return p - lr * s["buf"] / denom
        s["buf"] = mu * old + g / denom
        return p - lr * s["buf"]
    return p - lr * g / denom


def _adam(p, g, s, o, m, t, decoupled=False):
    lr, (b1, b2), eps, wd = o["lr"], o["betas"], o["eps"], o["weight_decay"]
    if m == "betas_swapped":
        b1, b2 = b2, b1
    decoupled = (decoupled and m != "coupled") or (not decoupled and m == "decoupled")
    if wd and not decoupled:
        g = g + wd * p
    elif wd and m != "decay_after_update":
        p = p * (1 - (wd if m == "decay_without_lr" else lr * wd))
    s["m"] = b1 * s.get("m", torch.zeros_like(p)) + (1 - b1) * g
    s["v"] = b2 * s.get("v", torch.zeros_like(p)) + (1 - b2) * g * g
    c1 = 1.0 if m in ("no_bias_correction", "no_m_correction") else 1 - b1 ** t
    c2 = 1.0 if m in ("no_bias_correction", "no_v_correction") else 1 - b2 ** t
    m_hat, v_hat = s["m"] / c1, s["v"] / c2
    if m == "eps_inside":
        denom = (v_hat + eps).sqrt()
    elif m == "eps_before_correction":
        denom = (s["v"].sqrt() + eps) / math.sqrt(c2)
    else:
        denom = v_hat.sqrt() + eps
    p = p - lr * m_hat / denom
    if wd and decoupled and m == "decay_after_update":
        p = p * (1 - lr * wd)
    return p


STEPS: dict[str, Callable] = {"SGD": _sgd, "Adagrad": _adagrad, "RMSprop": _rmsprop, "Adam": _adam,
                              "AdamW": lambda *a: _adam(*a, decoupled=True)}


def simulate(name: str, options: dict, starts: list[torch.Tensor], grads: list[list[torch.Tensor]],
             mistake: str) -> list[torch.Tensor]:
    """The trajectory (steps, *shape) of each parameter under one known mistake (all options filled in)."""
    params = [s.clone() for s in starts]
    states: list[dict] = [{} for _ in starts]
    history: list[list[torch.Tensor]] = [[] for _ in starts]
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            params[i] = STEPS[name](params[i], g, states[i], options, mistake, t)
            history[i].append(params[i])
    return [torch.stack(h) for h in history]

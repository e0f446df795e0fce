"""Checks hw0's graders share: the linear model y = w x (its data, its wrong descents) and the hand-written
backward passes compared with autograd."""
from __future__ import annotations

import torch

from autograder.compare import expect, expect_number, expect_tensor


def line_data(n: int, dtype: torch.dtype, device: torch.device, slope: float = 2.5, seed_shift: float = 0.0):
    """x in [0.5, 3), y = slope x + noise: a problem whose minimum is near ``slope``."""
    x = 0.5 + 2.5 * torch.rand(n, dtype=dtype, device=device)
    y = slope * x + 0.3 * torch.randn(n, dtype=dtype, device=device) + seed_shift
    return x, y


def descent(x: torch.Tensor, y: torch.Tensor, w: float, lr: float, num_epochs: int, batch_size: int, *,
            factor: float = 2.0, summed: bool = False, sign: float = -1.0, cost_after: bool = False,
            reverse: bool = False, divide_by_batch_size: bool = False):
    """Mini-batch descent on cost(w) = mean((w x - y)^2), with the knobs of the common mistakes: the factor of
    the derivative, a summed instead of averaged gradient, the sign of the step, costs logged after the step, the
    examples visited last to first, every batch's sum divided by batch_size (the short last one too)."""
    xs, ys = x.double().tolist(), y.double().tolist()
    if reverse:
        xs, ys = xs[::-1], ys[::-1]
    costs = []

    def cost(v: float) -> float:
        return sum((v * a - b) ** 2 for a, b in zip(xs, ys)) / len(xs)
    for _ in range(num_epochs):
        if not cost_after:
            costs.append(cost(w))
        for k in range(0, len(xs), batch_size):
            batch = list(zip(xs[k:k + batch_size], ys[k:k + batch_size]))
            grad = sum(factor * a * (a * w - b) for a, b in batch)
            w = w + sign * lr * (grad if summed else grad / (batch_size if divide_by_batch_size else len(batch)))
        if cost_after:
            costs.append(cost(w))
    return w, costs


def expect_weight(got, expected: float, checked: str, *, inputs: str, mistakes: dict, dtype: torch.dtype,
                  hint: str = "") -> float:
    """A returned w: a Python float equal to the reference's (computed in float64) within the data's dtype's
    tolerance, widened for the rounding a student's steps in that dtype accumulate."""
    return expect_number(got, expected, checked, inputs=inputs, dtype=dtype, scale=20 if dtype == torch.float32
                         else 1000, mistakes=mistakes,
                         hint=hint or "return w as a Python float: float(w)")


def expect_costs(got, expected: list[float], checked: str, *, inputs: str, mistakes: dict) -> None:
    """A list of floats (a 1-D tensor accepted) equal to the reference's costs."""
    ok = isinstance(got, torch.Tensor) and got.dim() == 1 or isinstance(got, (list, tuple)) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in got)
    expect(ok, "costs is a list of floats, one per epoch", inputs=inputs, expected=f"a list of {len(expected)} floats",
           got=type(got).__name__, hint="append float(cost) to a list once per epoch")
    values = got.detach().double().cpu() if isinstance(got, torch.Tensor) else torch.tensor(got, dtype=torch.float64)
    named = {k: torch.tensor(v, dtype=torch.float64) for k, v in mistakes.items()}
    expect_tensor(values, torch.tensor(expected, dtype=torch.float64), checked, inputs=inputs, scale=1000,
                  check_device=False, mistakes=named,
                  hint="costs[k] is the MSE of the whole data set at the weight before step k")


def expect_hand_gradients(student, name: str, ref_fn, args: tuple, keys: list[str], where: str,
                          mistakes: dict[str, dict] | None = None, hint: str = "", scale: float = 1.0) -> None:
    """``student.<name>(*args)`` returns (loss, grads) equal to autograd's, the gradients of each parameter's
    shape, dtype and device; ``mistakes`` maps a key to {mistake: the gradient it gives}."""
    got = student.function(name)(*args)
    loss_ref, grads_ref = ref_fn(*args)
    expect(isinstance(got, (tuple, list)) and len(got) == 2, f"{name} returns (loss, grads)", inputs=where,
           expected="a pair (loss, grads)", got=type(got).__name__, hint="return loss, {'...': gradient, ...}")
    loss, grads = got
    expect_tensor(loss, loss_ref, f"the loss of {name}'s forward pass", inputs=where, hint=hint, scale=scale)
    expect(isinstance(grads, dict) and set(grads) == set(keys), f"grads is a dict with the keys {keys}", inputs=where,
           expected=str(keys), got=str(sorted(grads)) if isinstance(grads, dict) else type(grads).__name__,
           hint="return a dict from each parameter's name to its gradient")
    for key in keys:
        expect_tensor(grads[key], grads_ref[key], f"d loss / d {key}, written by hand, equals autograd's",
                      inputs=where, hint=hint, scale=scale, mistakes=(mistakes or {}).get(key))

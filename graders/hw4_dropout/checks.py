"""Checks hw4's graders share: a dropout result judged by its properties (never against the reference's
random mask), so that any correct way of drawing the mask gets full marks."""
from __future__ import annotations

import math

import torch

from autograder.compare import binomial_bound, expect, expect_like, expect_tensor, inputs


def no_zeros(shape: tuple, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Values of both signs in [0.5, 1.5) in magnitude: a zero in a dropout's output means a dropped element."""
    magnitude = torch.rand(shape, dtype=dtype, device=device) + 0.5
    sign = torch.randint(0, 2, shape, device=device).to(dtype) * 2 - 1
    return magnitude * sign


def checked_output(got, X: torch.Tensor, what: str, where: str) -> torch.Tensor:
    """The result is a tensor shaped like X, with X's dtype and device (checked before any arithmetic)."""
    return expect_like(got, f"{what} returns a tensor shaped like X, with X's dtype and device", shape=X.shape,
                       dtype=X.dtype, device=X.device, inputs=where,
                       hint="build the mask on X's device (torch.rand(X.shape, device=X.device)) and keep X's dtype")


def expect_drop_fraction(out: torch.Tensor, p: float, what: str, where: str) -> None:
    """About a fraction p of the elements (of an input without zeros) is zeroed: a ~6 sigma binomial bound."""
    n = out.numel()
    zeros = int((out == 0).sum())
    low, high = binomial_bound(n, p)
    mistake = mask_pattern_mistake(out != 0)

    def near(q: float) -> bool:
        return binomial_bound(n, q)[0] <= zeros <= binomial_bound(n, q)[1]

    normal = 0.5 * (1 + math.erf(p / math.sqrt(2)))  # P(randn <= p): a normal draw compared with dropout
    if zeros == 0:
        mistake = "nothing is dropped"
    elif p != 0.5 and near(1 - p):
        mistake = "each element is KEPT with probability dropout (the meaning of dropout is inverted)"
    elif p != 0.5 and near(0.5):
        mistake = "the probability passed in is not used: half of the elements are dropped whatever p is"
    elif abs(normal - p) > 0.05 and near(normal):
        mistake = ("the mask is drawn from torch.randn (a normal distribution) instead of torch.rand (uniform on "
                   "[0, 1)): P(randn <= dropout) is not dropout")
    expect(low <= zeros <= high, f"{what} zeroes about a fraction {p} of the elements", inputs=where,
           expected=f"between {max(low, 0) / n:.4f} and {min(high, n) / n:.4f} of them zero (dropout = {p})",
           got=f"{zeros / n:.4f}", mistake=mistake,
           hint="dropout is the probability of DROPPING an element: keep it where torch.rand(...) > dropout")


def mask_pattern_mistake(kept: torch.Tensor) -> str | None:
    """Names a mask drawn per row or shared by the rows, from the pattern of kept elements (2-D and up)."""
    if kept.dim() < 2 or kept.shape[0] < 2 or kept[0].numel() < 8 or bool(kept.all()) or not bool(kept.any()):
        return None
    rows = kept.reshape(kept.shape[0], -1)
    if bool((rows.all(dim=1) | (~rows).all(dim=1)).all()):
        return "one mask per row (a mask of shape (n, 1)): whole examples are dropped"
    if bool((rows == rows[0]).all()):
        return "one mask shared by every row (a mask of shape (d,) broadcast over the rows)"
    return None


def expect_scaled_survivors(out: torch.Tensor, X: torch.Tensor, p: float, what: str, where: str) -> None:
    """Every element that survives is exactly X / (1 - p)."""
    kept = out != 0
    expect_tensor(out[kept], X[kept] / (1 - p), f"{what} scales the kept elements to X / (1 - dropout)",
                  inputs=where,
                  mistakes={"the kept elements are not scaled (the 1 / (1 - dropout) is missing)": X[kept],
                            "the kept elements are scaled by 1 / dropout instead of 1 / (1 - dropout)": X[kept] / p,
                            "the kept elements are multiplied by (1 - dropout) instead of divided": X[kept] * (1 - p)},
                  hint="return mask * X / (1.0 - dropout): the expectation E[h'] = h stays unchanged")


def check_dropout_statistics(out, X: torch.Tensor, p: float, what: str) -> None:
    """Shape, dtype, device; the fraction dropped; the survivors' scale."""
    where = inputs(X=X) + f", dropout = {p}"
    out = checked_output(out, X, what, where)
    expect_drop_fraction(out, p, what, where)
    expect_scaled_survivors(out, X, p, what, where)


def expect_untouched(before: torch.Tensor, after, result, name: str, checked: str, where: str) -> None:
    """An input the function must not modify in place; names how (the result written into it, or zeroed)."""
    if not isinstance(after, torch.Tensor) or (before.shape == after.shape and torch.equal(before.cpu(), after.cpu())):
        return
    if isinstance(result, torch.Tensor) and after.shape == result.shape and bool((after == 0).all()) \
            and bool((result == 0).all()):
        mistake = f"{name} is zeroed in place ({name}.zero_() or {name} *= 0): the caller's {name} is destroyed"
    elif isinstance(result, torch.Tensor) and after.shape == result.shape and torch.equal(after.cpu(), result.cpu()):
        mistake = (f"{name} is modified in place and returned ({name} *= mask, {name}[...] = 0, or a *_ method): "
                   f"the caller's {name} is changed")
    else:
        mistake = f"{name} is modified in place (+=, *=, [...] = or a *_ method on it)"
    expect(False, checked, inputs=where, expected=f"{name} unchanged", got=f"{name} modified in place",
           mistake=mistake, hint=f"do not write into {name} (no +=, [:] = or *_ methods on it); compute a new tensor")

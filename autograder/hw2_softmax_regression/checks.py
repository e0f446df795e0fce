"""Checks hw2's graders share."""
from __future__ import annotations

import torch


def large_logit_tolerance(dtype, scale: float) -> tuple[float, float]:
    """(rtol, atol) for results computed from logits of magnitude ``scale``.

    Near 1e4 a float32 logit is only known to about 1e-3 (its spacing there is 2^-10), so
    correct implementations that add and subtract in a different order differ by a few of those
    spacings; a few machine epsilons times the magnitude allows exactly that. In float64 this is
    still about 1e-11: exact for any practical purpose. The wrong answers here are NaN or inf.
    """
    tol = 8 * torch.finfo(dtype).eps * max(scale, 1.0)
    return tol, tol

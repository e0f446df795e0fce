"""Checks hw8's graders share: random distributions with zeros, and gradients compared with the reference's."""
from __future__ import annotations

import torch

from autograder.compare import expect, expect_tensor


def distributions(shape: tuple, dtype: torch.dtype, device: torch.device, zeros: bool = True) -> torch.Tensor:
    """Random distributions along the last axis; with ``zeros``, about a third of the entries exactly 0
    (never a whole row)."""
    p = torch.rand(shape, dtype=dtype, device=device) + 0.05
    if zeros:
        drop = torch.rand(shape, device=device) < 0.33
        drop[..., 0] = False
        p = p.masked_fill(drop, 0.0)
    return p / p.sum(dim=-1, keepdim=True)


def expect_grads(student, name: str, ref_fn, args: tuple, wrt: list[int], names: list[str], where: str,
                 hint: str = "", rtol: float | None = None, atol: float | None = None) -> None:
    """The student's gradients (with respect to ``args[i]`` for i in ``wrt``, of a 0-d or summed output) are
    finite and equal to the reference's (within ``rtol``/``atol`` where the contract allows more than the dtype's)."""
    out = ref_fn(*args)
    g = torch.ones_like(out)
    result = student.function(name).run(args, wrt=wrt, grad_output=g)
    expect(result.grad_error is None, f"{name} is differentiable", inputs=where,
           expected="a result connected to the autograd graph", got=result.grad_error or "", hint=hint)
    leaves = [a.detach().clone().requires_grad_() if i in wrt else a for i, a in enumerate(args)]
    expected = torch.autograd.grad(ref_fn(*leaves), [leaves[i] for i in wrt], g)
    for label, got, want in zip(names, result.grads, expected):
        expect(got is not None, f"the gradient reaches {label}", inputs=where, expected="a gradient", got="None")
        expect(bool(torch.isfinite(got).all()), f"the gradient with respect to {label} is finite", inputs=where,
               expected="no NaN or inf", got="NaN or inf entries", hint=hint)
        expect_tensor(got, want, f"the gradient with respect to {label}", inputs=where, hint=hint, scale=10,
                      rtol=rtol, atol=atol)

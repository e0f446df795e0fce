"""Checks shared by hw5's graders: modules built by students, gradients against the reference's, and the
expectation for a part that calls another part of the contract (``compare.graded_alone``)."""
from __future__ import annotations

from typing import Any, Callable

import torch

from autograder.compare import expect, expect_tensor, graded_alone


def build_module(student, task: str, *args: Any, **kwargs: Any):
    """The student's ``task(*args)``, checked to be an nn.Module before anything uses it; (net, info, where)."""
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    where = f"{task}({', '.join(shown)})"
    net = getattr(student, task)(*args, **kwargs)
    info = net.describe() if hasattr(net, "describe") else {"kind": type(net).__name__}
    expect(info.get("kind") == "module", f"{task}(...) builds an nn.Module", inputs=where, expected="an nn.Module",
           got=info.get("type", info.get("kind", "?")), hint=f"class {task}(nn.Module) with __init__ and forward")
    return net, info, where


def expect_grads(result, ref_fn: Callable[..., torch.Tensor], args: tuple, kwargs: dict, wrt: list[int],
                 names: list[str], grad_output: torch.Tensor, what: str, where: str, scale: float = 1.0,
                 own: Callable[[], list] | None = None) -> None:
    """The gradients the worker computed (``run(..., wrt=...)``) equal autograd's through the reference (or,
    with ``own``, the gradients through the student's own called part: see ``compare.graded_alone``)."""
    expect(result.grad_error is None, f"{what} is differentiable", inputs=where,
           expected="a result connected to the autograd graph", got=str(result.grad_error),
           hint="build the result with torch operations on the inputs (no .item(), .tolist(), .detach(), "
                "torch.tensor(...) or writes into a torch.zeros(...) made without the inputs)")
    leaves = [a.detach().clone().requires_grad_() if i in wrt and isinstance(a, torch.Tensor) else a
              for i, a in enumerate(args)]
    expected = torch.autograd.grad(ref_fn(*leaves, **kwargs), [leaves[i] for i in wrt], grad_output)
    grads = result.grads if isinstance(result.grads, list) else []
    own_grads: list = []
    for k, (name, want) in enumerate(zip(names, expected)):
        got = grads[k] if k < len(grads) else None
        expect(got is not None, f"the gradient of {what} reaches {name}", inputs=where, expected="a gradient",
               got="None", hint=f"use {name} itself in the computation (not {name}.data or {name}.detach())")
        if own is not None:
            def own_k(k=k):
                if not own_grads:
                    own_grads.extend(own())
                return own_grads[k]
            want = graded_alone(got, want, own_k)
        expect_tensor(got, want, f"the gradient of {what} with respect to {name}", inputs=where, scale=scale)


def asymmetric(*shape: int, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """A random kernel with no symmetry: flipping or transposing it changes every output."""
    return torch.randn(*shape, dtype=dtype, device=device) + torch.linspace(-1, 2, shape[-1], dtype=dtype,
                                                                             device=device)

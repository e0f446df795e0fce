"""numerical_gradient(f, x, eps=1e-4) -> the central differences (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)."""
import pytest
import torch

from autograder.compare import expect_like, expect_tensor, expect_unchanged, inputs

HINT = ("for every element i: e = zeros_like(x) with e.view(-1)[i] = eps; "
        "grad.view(-1)[i] = (f(x + e) - f(x - e)) / (2 * eps)")


def objective(student, d, dtype, device, cubic=True):
    """A function in the worker with a known gradient: ½ (x - c)ᵀ A (x - c) + bᵀ (x - c) + Σ k (x - c)³."""
    M = torch.randn(d, d, dtype=dtype, device=device)
    parts = dict(A=M @ M.T + torch.eye(d, dtype=dtype, device=device),
                 center=torch.randn(d, dtype=dtype, device=device), b=torch.randn(d, dtype=dtype, device=device),
                 cubic=torch.randn(d, dtype=dtype, device=device) if cubic else None)
    return student.construct("toolbox.Objective", **parts), parts


def value(parts, x):
    dx = x - parts["center"]
    cubic = parts["cubic"] if parts["cubic"] is not None else torch.zeros_like(dx)
    return 0.5 * dx @ (parts["A"] @ dx) + parts["b"] @ dx + (cubic * dx ** 3).sum()


def exact_central(parts, x, eps):
    """What central differences give on this polynomial (exact up to rounding): ∇f(x) + eps² Σ k_i e_i."""
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros_like(x)
        e[i] = eps
        grad[i] = (value(parts, x + e) - value(parts, x - e)) / (2 * eps)
    return grad


def one_sided(parts, x, eps):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros_like(x)
        e[i] = eps
        grad[i] = (value(parts, x + e) - value(parts, x)) / eps
    return grad


@pytest.mark.points(4)
def test_central_differences(student, device):
    """On smooth functions of 1 to 6 variables, with eps 1e-4 and 0.1, does it give the central differences?"""
    for d, eps in [(3, 1e-4), (1, 1e-4), (6, 0.1), (4, 0.05)]:
        f, parts = objective(student, d, torch.float64, device)
        x = parts["center"] + torch.randn(d, dtype=torch.float64, device=device)
        where = inputs(x=x, eps=eps) + " (f a cubic polynomial)"
        got = student.numerical_gradient(f, x, eps)
        expected = exact_central(parts, x, eps)
        expect_tensor(got, expected, "numerical_gradient(f, x, eps) equals (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)",
                      inputs=where, hint=HINT, scale=1e4,
                      mistakes={"a one-sided difference (f(x + eps e_i) - f(x)) / eps":
                                lambda: one_sided(parts, x, eps),
                                "the difference is divided by eps, not 2 eps": lambda: 2 * expected,
                                "the difference is not divided by 2 eps at all": lambda: 2 * eps * expected})


@pytest.mark.points(1)
def test_keeps_x_and_its_kind(student, device, dtype):
    """Is the result shaped like x, of x's dtype and device, with x left as it was given?"""
    f, parts = objective(student, 5, dtype, device, cubic=False)
    x = parts["center"] + torch.randn(5, dtype=dtype, device=device)
    result = student.numerical_gradient.run((f, x), return_args=True)
    where = inputs(x=x)
    expect_like(result.value, "numerical_gradient returns a tensor like x", shape=(5,), dtype=dtype, device=device,
                inputs=where, hint="grad = torch.zeros_like(x)")
    expect_unchanged(x, result.args_after[1], "x", "numerical_gradient leaves x as it was given", inputs=where)

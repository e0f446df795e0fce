"""linreg(X, w, b) -> X @ w + b."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, graph_mistake, inputs

SHAPES = [(5, 3), (1, 1), (7, 2), (64, 10)]


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Does linreg compute X @ w + b, for several shapes?"""
    for n, d in SHAPES:
        X = torch.randn(n, d, dtype=dtype, device=device)
        w = torch.randn(d, 1, dtype=dtype, device=device)
        b = torch.randn(1, dtype=dtype, device=device)
        expect_tensor(student.linreg(X, w, b), ref.linreg(X, w, b), "linreg(X, w, b) equals X @ w + b",
                      inputs=inputs(X=X, w=w, b=b),
                      mistakes={"the bias b is not added": X @ w, "the bias b is subtracted": X @ w - b,
                                "elementwise product X * w.T instead of a matrix product": lambda: X * w.T + b})
    # The general rules at the edges: an empty batch, one feature with w = 0, b of shape () broadcast.
    def t(*shape):
        return torch.randn(*shape, dtype=dtype, device=device)
    edges = [("an empty batch", (t(0, 3), t(3, 1), t(1))),
             ("one feature, w = 0", (t(4, 1), torch.zeros(1, 1, dtype=dtype, device=device), t(1))),
             ("b of shape ()", (t(2, 3), t(3, 1), torch.randn((), dtype=dtype, device=device)))]
    expect_general_rules(student.linreg.run, ref.linreg, edges, ["X", "w", "b"], "linreg")


@pytest.mark.points(2)
def test_gradients(student, ref, device, dtype):
    """Do gradients flow to X, w and b as autograd computes them for X @ w + b?"""
    X = torch.randn(6, 4, dtype=dtype, device=device)
    w = torch.randn(4, 1, dtype=dtype, device=device)
    b = torch.randn(1, dtype=dtype, device=device)
    g = torch.randn(6, 1, dtype=dtype, device=device)
    got = student.linreg.run((X, w, b), wrt=[0, 1, 2], grad_output=g)
    where = inputs(X=X, w=w, b=b)
    expect(got.grad_error is None, "the output is differentiable with respect to X, w and b", inputs=where,
           expected="a result connected to the autograd graph", got=got.grad_error or "",
           mistake=graph_mistake(got.grad_error))
    leaves = [t.detach().requires_grad_() for t in (X, w, b)]
    expected = torch.autograd.grad(ref.linreg(*leaves), leaves, g)
    for name, grad, want in zip("Xwb", got.grads, expected):
        expect(grad is not None, f"the gradient reaches {name}", inputs=where, expected="a gradient", got="None")
        expect_tensor(grad, want, f"the gradient with respect to {name}", inputs=where)

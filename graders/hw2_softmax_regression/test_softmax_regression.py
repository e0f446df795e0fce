"""softmax_regression(X, W, b) -> softmax(X.reshape(-1, W.shape[0]) @ W + b)."""
import pytest
import torch

from autograder.compare import expect, expect_tensor, inputs

HINT = "flatten each example first: softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)"


def problem(shape, q, dtype, device):
    X = torch.rand(*shape, dtype=dtype, device=device)  # images in [0, 1], as Fashion-MNIST's
    d = X[0].numel()
    W = 0.5 * torch.randn(d, q, dtype=dtype, device=device)
    b = torch.randn(q, dtype=dtype, device=device)
    return X, W, b


def mistakes(X, W, b):
    flat = X.reshape(-1, W.shape[0])
    return {
        "the bias b is not added": lambda: torch.softmax(flat @ W, dim=1),
        "softmax is missing: the logits were returned": lambda: flat @ W + b,
        "softmax over dim 0 (the batch) instead of each row": lambda: torch.softmax(flat @ W + b, dim=0),
    }


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Does it flatten the images and return softmax(X W + b), for images and already-flat inputs?"""
    for shape, q in [((5, 1, 4, 4), 10), ((3, 16), 4), ((1, 1, 2, 3), 3), ((4, 2, 3), 7)]:
        X, W, b = problem(shape, q, dtype, device)
        expect_tensor(student.softmax_regression(X, W, b), ref.softmax_regression(X, W, b),
                      "softmax_regression(X, W, b) = softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                      inputs=inputs(X=X, W=W, b=b), mistakes=mistakes(X, W, b), hint=HINT)


@pytest.mark.points(2)
def test_gradients(student, ref, device):
    """Do gradients reach W and b as autograd computes them for the reference model?"""
    X, W, b = problem((6, 1, 3, 3), 5, torch.float64, device)
    g = torch.randn(6, 5, dtype=torch.float64, device=device)
    where = inputs(X=X, W=W, b=b)
    got = student.softmax_regression.run((X, W, b), wrt=[1, 2], grad_output=g)
    expect(got.grad_error is None, "the output is differentiable with respect to W and b", inputs=where,
           expected="a result connected to the autograd graph", got=got.grad_error or "")
    leaves = [W.clone().requires_grad_(), b.clone().requires_grad_()]
    want = torch.autograd.grad(ref.softmax_regression(X, *leaves), leaves, g)
    for name, grad, expected in zip("Wb", got.grads, want):
        expect(grad is not None, f"the gradient reaches {name}", inputs=where, expected="a gradient", got="None")
        expect_tensor(grad, expected, f"the gradient with respect to {name}", inputs=where, hint=HINT)

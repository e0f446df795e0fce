"""softmax_regression(X, W, b) -> softmax(X.reshape(-1, W.shape[0]) @ W + b)."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, graded_alone, graph_mistake, inputs

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
        "the bias is added after the softmax, not to the logits": lambda: torch.softmax(flat @ W, dim=1) + b,
    }


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Does it flatten the images and return softmax(X W + b), for images and already-flat inputs?"""
    for shape, q in [((5, 1, 4, 4), 10), ((3, 16), 4), ((1, 1, 2, 3), 3), ((4, 2, 3), 7)]:
        X, W, b = problem(shape, q, dtype, device)
        got = student.softmax_regression(X, W, b)
        # graded on its own: a wrong softmax is charged to softmax, and this part is held to what it gives
        own = lambda: student.softmax(X.reshape(-1, W.shape[0]) @ W + b)  # noqa: E731, B023
        expect_tensor(got, graded_alone(got, ref.softmax_regression(X, W, b), own),
                      "softmax_regression(X, W, b) = softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                      inputs=inputs(X=X, W=W, b=b), mistakes=mistakes(X, W, b), hint=HINT)
    # The general rules at the edges: one image, one class, zero weights.
    X, W, b = problem((1, 1, 2, 2), 3, dtype, device)
    edges = [("one image", (X, W, b)), ("one class", problem((3, 4), 1, dtype, device)),
             ("zero weights", (X, torch.zeros_like(W), torch.zeros_like(b)))]
    expect_general_rules(student.softmax_regression.run, ref.softmax_regression, edges, ["X", "W", "b"],
                         "softmax_regression")


@pytest.mark.points(2)
def test_gradients(student, ref, device):
    """Do gradients reach W and b as autograd computes them for the reference model?"""
    X, W, b = problem((6, 1, 3, 3), 5, torch.float64, device)
    g = torch.randn(6, 5, dtype=torch.float64, device=device)
    where = inputs(X=X, W=W, b=b)
    got = student.softmax_regression.run((X, W, b), wrt=[1, 2], grad_output=g)
    expect(got.grad_error is None, "the output is differentiable with respect to W and b", inputs=where,
           expected="a result connected to the autograd graph", got=got.grad_error or "",
           mistake=graph_mistake(got.grad_error))
    leaves = [W.clone().requires_grad_(), b.clone().requires_grad_()]
    want = torch.autograd.grad(ref.softmax_regression(X, *leaves), leaves, g)
    flat = X.reshape(-1, W.shape[0])

    def own(k):  # the gradients through the student's own softmax
        d_logits = student.softmax.run((flat @ W + b,), wrt=[0], grad_output=g).grads[0]
        return (flat.T @ d_logits, d_logits.sum(0))[k]
    for k, (name, grad, expected) in enumerate(zip("Wb", got.grads, want)):
        expect(grad is not None, f"the gradient reaches {name}", inputs=where, expected="a gradient", got="None")
        expect_tensor(grad, graded_alone(grad, expected, lambda k=k: own(k)), f"the gradient with respect to {name}",
                      inputs=where, hint=HINT)

"""linear_graph(x, y, w1, b1, w2, b2) -> (loss, grads): y_hat = w2 (w1 x + b1) + b2, MSE, backward by hand."""
import pytest
import torch

from autograder.compare import expect_general_rules, inputs
from hw0_tensors_autograd.checks import expect_hand_gradients

KEYS = ["w1", "b1", "w2", "b2"]
HINT = ("forward: z = w1 * x + b1, y_hat = w2 * z + b2; backward: g = 2 (y_hat - y) / n, d_w2 = sum(g z), "
        "d_b2 = sum(g), d_z = g w2, d_w1 = sum(d_z x), d_b1 = sum(d_z)")


def mistakes(x, y, w1, b1, w2, b2):
    z = w1 * x + b1
    g = 2 * (w2 * z + b2 - y) / x.numel()
    unaveraged = "the gradient is summed, not averaged over the n examples (the 1/n is missing)"
    return {"w1": {"d_w1 forgets the chain through w2 (sum(g x) instead of sum(g w2 x))": (g * x).sum(),
                   "the factor 2 of the square's derivative is missing": (g * w2 * x).sum() / 2,
                   unaveraged: (g * w2 * x).sum() * x.numel()},
            "b1": {"d_b1 forgets the chain through w2 (sum(g) instead of sum(g w2))": g.sum(),
                   unaveraged: (g * w2).sum() * x.numel()},
            "w2": {"d_w2 multiplies by x instead of the hidden value z = w1 x + b1": (g * x).sum(),
                   unaveraged: (g * z).sum() * x.numel()},
            "b2": {unaveraged: g.sum() * x.numel()}}


def params(dtype, device):
    return [torch.randn((), dtype=dtype, device=device) for _ in KEYS]


@pytest.mark.points(10)
def test_matches_autograd(student, ref, device, dtype):
    """Do the loss and the four hand-written gradients equal autograd's, for several data sets and parameters?"""
    for n in (3, 1, 50):
        x = torch.randn(n, dtype=dtype, device=device)
        y = 2 * x + 1 + 0.1 * torch.randn(n, dtype=dtype, device=device)
        p = params(dtype, device)
        where = inputs(x=x, y=y, **dict(zip(KEYS, p)))
        expect_hand_gradients(student, "linear_graph", ref.linear_graph, (x, y, *p), KEYS, where,
                              mistakes=mistakes(x, y, *p), hint=HINT)
    # The general rules at the edges: one example, a perfect fit (loss 0), w2 = 0 (no gradient reaches layer 1).
    x = torch.randn(3, dtype=dtype, device=device)
    p = params(dtype, device)
    zero = torch.zeros((), dtype=dtype, device=device)
    edges = [("one example", (x[:1].clone(), x[:1] + 1, *p)),
             ("a perfect fit", (x, p[2] * (p[0] * x + p[1]) + p[3], *p)),
             ("w2 = 0", (x, x + 1, p[0], p[1], zero, p[3]))]
    expect_general_rules(student.linear_graph.run, ref.linear_graph, edges, ["x", "y", *KEYS], "linear_graph")

"""triplet_loss(anchor, positive, negative, margin=1.0) -> mean(max(||a - p|| - ||a - n|| + margin, 0))."""
import pytest
import torch
import torch.nn.functional as F

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw8_metric_learning.checks import expect_grads

# nn.TripletMarginLoss adds 1e-6 to the differences: the contract asks for its value within float32's tolerance,
# so an exact formula and one with the module's eps both pass, in float64 too.
TOL = {"rtol": 1e-5, "atol": 1e-5}
HINT = "d_ap = ((a - p) ** 2).sum(1).sqrt(), d_an likewise; (d_ap - d_an + margin).clamp(min=0).mean()"


def mistakes(a, p, n, margin):
    d_ap, d_an = (a - p).square().sum(1), (a - n).square().sum(1)
    return {"squared distances instead of distances": lambda: F.relu(d_ap - d_an + margin).mean(),
            "positive and negative swapped": lambda: F.relu(d_an.sqrt() - d_ap.sqrt() + margin).mean(),
            "without the max(., 0)": lambda: (d_ap.sqrt() - d_an.sqrt() + margin).mean(),
            "summed instead of averaged": lambda: F.relu(d_ap.sqrt() - d_an.sqrt() + margin).sum()}


@pytest.mark.points(7)
def test_values(student, ref, device, dtype):
    """Does it equal nn.TripletMarginLoss for several batches and margins?"""
    for n, d, margin in [(10, 4, 1.0), (7, 2, 0.3), (1, 3, 2.0), (16, 8, 1.0)]:
        a = torch.randn(n, d, dtype=dtype, device=device)
        p = a + 0.7 * torch.randn(n, d, dtype=dtype, device=device)
        neg = torch.randn(n, d, dtype=dtype, device=device)
        expect_tensor(student.triplet_loss(a, p, neg, margin), ref.triplet_loss(a, p, neg, margin),
                      f"triplet_loss(anchor, positive, negative, margin={margin})",
                      inputs=inputs(anchor=a, positive=p, negative=neg), hint=HINT,
                      mistakes=mistakes(a, p, neg, margin), **TOL)
    # The general rules at the edges: the positive the same tensor as the anchor, one triplet, the negative nearer
    # than the positive.
    a = torch.randn(5, 3, dtype=dtype, device=device)
    neg = torch.randn(5, 3, dtype=dtype, device=device)
    edges = [("positive is anchor", (a, a, neg, 1.0)),
             ("one triplet", (a[:1].clone(), a[1:2].clone(), neg[:1].clone(), 1.0)),
             ("the negative nearer than the positive", (a, neg, a + 0.1, 1.0))]
    expect_general_rules(student.triplet_loss.run, ref.triplet_loss, edges,
                         ["anchor", "positive", "negative", "margin"], "triplet_loss")


@pytest.mark.points(3)
def test_gradient(student, ref, device, dtype):
    """Are the gradients with respect to the anchor, the positive and the negative right?"""
    a = torch.randn(6, 3, dtype=dtype, device=device)
    p = a + 0.5 * torch.randn(6, 3, dtype=dtype, device=device)
    neg = a + 0.8 * torch.randn(6, 3, dtype=dtype, device=device)
    expect_grads(student, "triplet_loss", ref.triplet_loss, (a, p, neg), [0, 1, 2], ["anchor", "positive", "negative"],
                 inputs(anchor=a, positive=p, negative=neg), hint=HINT, **TOL)

"""binary_cross_entropy_with_logits(logits, y) -> mean BCE, stable: max(z, 0) - z y + log(1 + exp(-|z|))."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, inputs
from hw8_metric_learning.checks import expect_grads

HINT = "the stable form: (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()"


def mistakes(z, y):
    s = torch.sigmoid(z)
    per = -(y * torch.log(s) + (1 - y) * torch.log(1 - s))
    return {"summed instead of averaged": lambda: per.sum(),
            "y and 1 - y swapped": lambda: (-((1 - y) * torch.log(s) + y * torch.log(1 - s))).mean(),
            "the sigmoid is missing: the logits used as probabilities":
            lambda: (-(y * torch.log(z.clamp(1e-12)) + (1 - y) * torch.log((1 - z).clamp(1e-12)))).mean()}


@pytest.mark.points(4)
def test_values(student, ref, device, dtype):
    """Is it the mean binary cross-entropy for moderate logits, of several shapes, soft labels included?"""
    for shape in [(10,), (4, 3), (1,), (2, 2, 5)]:
        z = 3 * torch.randn(shape, dtype=dtype, device=device)
        y = (torch.rand(shape, dtype=dtype, device=device) < 0.5).to(dtype)
        expect_tensor(student.binary_cross_entropy_with_logits(z, y), ref.binary_cross_entropy_with_logits(z, y),
                      "binary_cross_entropy_with_logits(z, y), the mean BCE", inputs=inputs(logits=z, y=y), hint=HINT,
                      mistakes=mistakes(z, y))
    z = torch.randn(7, dtype=dtype, device=device)
    y = torch.rand(7, dtype=dtype, device=device)
    expect_tensor(student.binary_cross_entropy_with_logits(z, y), ref.binary_cross_entropy_with_logits(z, y),
                  "binary_cross_entropy_with_logits with soft labels y in (0, 1)", inputs=inputs(logits=z, y=y),
                  hint=HINT)
    # The general rules at the edges: a single logit, logits of +-1000, a 0-d logit and label.
    y = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=dtype, device=device)
    edges = [("a single logit", (torch.randn(1, dtype=dtype, device=device), y[:1].clone())),
             ("logits of +-1000", (torch.tensor([1000.0, -1000.0, -1000.0, 1000.0], dtype=dtype, device=device), y)),
             ("0-d logit and label", (torch.tensor(0.5, dtype=dtype, device=device), y[0].clone()))]
    expect_general_rules(student.binary_cross_entropy_with_logits.run, ref.binary_cross_entropy_with_logits, edges,
                         ["logits", "y"], "binary_cross_entropy_with_logits")


@pytest.mark.points(4)
def test_stable_for_extreme_logits(student, ref, device, dtype):
    """Is it finite and right for logits of ±40, ±1000 and ±1e4 (where sigmoid rounds to 0 or 1)?"""
    z = torch.tensor([40.0, -40.0, 1000.0, -1000.0, 1e4, -1e4, 0.0], dtype=dtype, device=device)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype, device=device)
    got = student.binary_cross_entropy_with_logits(z, y)
    where = inputs(logits=z, y=y)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()), "the loss is finite for extreme logits",
           inputs=where, expected="a finite number", got=str(got), hint=HINT,
           mistake="log(sigmoid(z)) computed directly: sigmoid rounds to 0 or 1 and the log is infinite")
    expect_tensor(got, ref.binary_cross_entropy_with_logits(z, y), "the loss for extreme logits", inputs=where,
                  hint=HINT, mistakes={"probabilities clamped (e.g. to [1e-7, 1 - 1e-7]) instead of the stable form":
                                       lambda: ref.binary_cross_entropy_with_logits(z.clamp(-16.0, 16.0), y)})


@pytest.mark.points(2)
def test_gradient(student, ref, device, dtype):
    """Is the gradient (sigmoid(z) - y) / N, finite even for logits of ±1000?"""
    z = torch.tensor([0.5, -2.0, 1000.0, -1000.0, 3.0], dtype=dtype, device=device)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype, device=device)
    expect_grads(student, "binary_cross_entropy_with_logits", ref.binary_cross_entropy_with_logits, (z, y), [0],
                 ["logits"], inputs(logits=z, y=y), hint=HINT)

"""contrastive_loss(x1, x2, same, margin=1.0) -> mean(same d^2 + (1 - same) max(margin - d, 0)^2)."""
import pytest
import torch
import torch.nn.functional as F

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw8_metric_learning.checks import expect_grads

HINT = "d = ((x1 - x2) ** 2).sum(1).sqrt(); (same * d ** 2 + (1 - same) * (margin - d).clamp(min=0) ** 2).mean()"


def mistakes(x1, x2, same, margin):
    d = (x1 - x2).square().sum(1).sqrt()
    return {"the margin hinge is not squared": lambda: (same * d ** 2 + (1 - same) * F.relu(margin - d)).mean(),
            "squared distances inside the hinge (max(margin - d^2, 0))":
            lambda: (same * d ** 2 + (1 - same) * F.relu(margin - d ** 2) ** 2).mean(),
            "same and different pairs swapped":
            lambda: ((1 - same) * d ** 2 + same * F.relu(margin - d) ** 2).mean(),
            "without the max(., 0): far different pairs are rewarded":
            lambda: (same * d ** 2 + (1 - same) * (margin - d) ** 2).mean()}


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Is the loss right for mixed pairs, margins 1 and 2.5, with some different pairs beyond the margin?"""
    for n, d, margin in [(12, 3, 1.0), (9, 5, 2.5), (1, 2, 1.0)]:
        x1 = torch.randn(n, d, dtype=dtype, device=device)
        x2 = x1 + 0.8 * torch.randn(n, d, dtype=dtype, device=device)
        same = (torch.arange(n, device=device) % 2).to(dtype)
        expect_tensor(student.contrastive_loss(x1, x2, same, margin), ref.contrastive_loss(x1, x2, same, margin),
                      f"contrastive_loss(x1, x2, same, margin={margin})", inputs=inputs(x1=x1, x2=x2, same=same),
                      hint=HINT, mistakes=mistakes(x1, x2, same, margin))
    # The general rules at the edges: x2 the same tensor as x1 (distance 0), every pair the same, margin = 0.
    x1 = torch.randn(4, 3, dtype=dtype, device=device)
    x2 = torch.randn(4, 3, dtype=dtype, device=device)
    ones = torch.ones(4, dtype=dtype, device=device)
    edges = [("x2 is x1", (x1, x1, ones - 1, 1.0)), ("every pair the same", (x1, x2, ones, 1.0)),
             ("margin = 0", (x1, x2, (torch.arange(4, device=device) % 2).to(dtype), 0.0))]
    expect_general_rules(student.contrastive_loss.run, ref.contrastive_loss, edges, ["x1", "x2", "same", "margin"],
                         "contrastive_loss")


@pytest.mark.points(2)
def test_gradient(student, ref, device, dtype):
    """Are the gradients with respect to x1 and x2 right?"""
    x1 = torch.randn(6, 3, dtype=dtype, device=device)
    x2 = x1 + 0.5 * torch.randn(6, 3, dtype=dtype, device=device)
    same = torch.tensor([1.0, 0, 1, 0, 0, 1], dtype=dtype, device=device)
    expect_grads(student, "contrastive_loss", ref.contrastive_loss, (x1, x2, same), [0, 1], ["x1", "x2"],
                 inputs(x1=x1, x2=x2, same=same), hint=HINT)

"""entropy(p) -> H(p) = -sum_i p_i log p_i along the last axis, with 0 log 0 = 0."""
import math

import pytest
import torch

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw8_metric_learning.checks import distributions, expect_grads

HINT = "-(p * log p).sum(dim=-1), with log taken of torch.where(p > 0, p, 1) so that 0 log 0 gives 0, not NaN"
SHAPES = [(5, 4), (7,), (2, 3, 6), (1, 1)]


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Is H(p) right for batches of distributions of several shapes, with zero probabilities (0 log 0 = 0)?"""
    for shape in SHAPES:
        p = distributions(shape, dtype, device)
        expect_tensor(student.entropy(p), ref.entropy(p), "entropy(p) = -sum p log p over the last axis",
                      inputs=inputs(p=p), hint=HINT,
                      mistakes={"log base 2 instead of the natural logarithm": lambda: ref.entropy(p) / math.log(2),
                                "the minus sign is missing": lambda: -ref.entropy(p),
                                "summed over the first axis instead of the last":
                                lambda: -torch.special.xlogy(p, p).sum(0)})
    # The general rules at the edges: a one-hot p (every other term 0 log 0), a single class, one distribution.
    one_hot = torch.eye(4, dtype=dtype, device=device)[:3]
    edges = [("a one-hot p", (one_hot,)), ("a single class", (torch.ones(2, 1, dtype=dtype, device=device),)),
             ("one distribution", (distributions((5,), dtype, device),))]
    expect_general_rules(student.entropy.run, ref.entropy, edges, ["p"], "entropy")


@pytest.mark.points(2)
def test_gradient(student, ref, device, dtype):
    """Is the gradient with respect to p (all entries positive) -(log p + 1)?"""
    p = distributions((4, 5), dtype, device, zeros=False)
    expect_grads(student, "entropy", ref.entropy, (p,), [0], ["p"], inputs(p=p), hint=HINT)

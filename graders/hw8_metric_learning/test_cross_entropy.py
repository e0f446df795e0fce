"""cross_entropy(p, q) -> H(p, q) = -sum_i p_i log q_i along the last axis; H(p, q) = H(p) + D_KL(p || q)."""
import pytest
import torch

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw8_metric_learning.checks import distributions, expect_grads

HINT = "-(p * log q).sum(dim=-1), with the terms where p = 0 set to 0"


@pytest.mark.points(2)
def test_values(student, ref, device, dtype):
    """Is H(p, q) right for batches of distributions, zeros in p included?"""
    for shape in [(5, 4), (6,), (2, 3, 5)]:
        p = distributions(shape, dtype, device)
        q = distributions(shape, dtype, device, zeros=False)
        expect_tensor(student.cross_entropy(p, q), ref.cross_entropy(p, q), "cross_entropy(p, q) = -sum p log q",
                      inputs=inputs(p=p, q=q), hint=HINT,
                      mistakes={"p and q swapped: -sum q log p": lambda: ref.cross_entropy(q, p),
                                # the same, with log p's zeros skipped as one skips 0 log 0
                                "p and q swapped: -sum q log p (p's zeros skipped)":
                                    lambda: -(q * torch.log(torch.where(p > 0, p, torch.ones_like(p)))).sum(-1),
                                "averaged over the classes (mean, not sum, over the last axis)":
                                    lambda: ref.cross_entropy(p, q) / p.shape[-1],
                                "the minus sign is missing": lambda: -ref.cross_entropy(p, q),
                                "the KL divergence, not the cross-entropy": lambda: ref.kl_divergence(p, q)})
    # The general rules at the edges: q the same tensor as p, a one-hot p, a single class.
    p = distributions((3, 4), dtype, device)
    one_hot = torch.eye(4, dtype=dtype, device=device)[:3]
    ones = torch.ones(2, 1, dtype=dtype, device=device)
    edges = [("q is p", (p, p)), ("a one-hot p", (one_hot, distributions((3, 4), dtype, device, zeros=False))),
             ("a single class", (ones, ones.clone()))]
    expect_general_rules(student.cross_entropy.run, ref.cross_entropy, edges, ["p", "q"], "cross_entropy")


@pytest.mark.points(2)
def test_identity(student, ref, device, dtype):
    """Does the student's cross-entropy equal the reference's entropy plus KL divergence (交叉熵 = 信息熵 + 相对熵)?"""
    p = distributions((8, 6), dtype, device)
    q = distributions((8, 6), dtype, device, zeros=False)
    expect_tensor(student.cross_entropy(p, q), ref.entropy(p) + ref.kl_divergence(p, q),
                  "H(p, q) = H(p) + D_KL(p || q)", inputs=inputs(p=p, q=q), hint=HINT)


@pytest.mark.points(1)
def test_gradient(student, ref, device, dtype):
    """Are the gradients with respect to p and q right?"""
    p = distributions((3, 4), dtype, device, zeros=False)
    q = distributions((3, 4), dtype, device, zeros=False)
    expect_grads(student, "cross_entropy", ref.cross_entropy, (p, q), [0, 1], ["p", "q"], inputs(p=p, q=q), hint=HINT)

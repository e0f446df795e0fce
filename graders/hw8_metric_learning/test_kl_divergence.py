"""kl_divergence(p, q) -> sum_i p_i log(p_i / q_i) along the last axis; terms with p_i = 0 are 0."""
import pytest
import torch

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw8_metric_learning.checks import distributions, expect_grads

HINT = "(p * (log p - log q)).sum(dim=-1), with the terms where p = 0 set to 0 (torch.where)"


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Is D_KL(p || q) right for batches, with zeros in p, and 0 for q = p?"""
    for shape in [(5, 4), (6,), (2, 3, 5)]:
        p = distributions(shape, dtype, device)
        q = distributions(shape, dtype, device, zeros=False)
        expect_tensor(student.kl_divergence(p, q), ref.kl_divergence(p, q), "kl_divergence(p, q)",
                      inputs=inputs(p=p, q=q), hint=HINT,
                      mistakes={"p and q swapped: D_KL(q || p)": lambda: ref.kl_divergence(q, p),
                                "p and q swapped: D_KL(q || p) (p's zeros skipped)":
                                    lambda: (q * torch.log(q / torch.where(p > 0, p, torch.ones_like(p)))).sum(-1),
                                "log(q / p) instead of log(p / q)": lambda: -ref.kl_divergence(p, q),
                                "the cross-entropy H(p, q), not the divergence": lambda: ref.cross_entropy(p, q)})
        expect_tensor(student.kl_divergence(p, p), torch.zeros(shape[:-1], dtype=dtype, device=device),
                      "kl_divergence(p, p) = 0", inputs=inputs(p=p), hint=HINT)
    # The general rules at the edges: q the same tensor as p, a one-hot p, a single class.
    p = distributions((3, 4), dtype, device)
    one_hot = torch.eye(4, dtype=dtype, device=device)[:3]
    ones = torch.ones(2, 1, dtype=dtype, device=device)
    edges = [("q is p", (p, p)), ("a one-hot p", (one_hot, distributions((3, 4), dtype, device, zeros=False))),
             ("a single class", (ones, ones.clone()))]
    expect_general_rules(student.kl_divergence.run, ref.kl_divergence, edges, ["p", "q"], "kl_divergence")


@pytest.mark.points(2)
def test_gradient(student, ref, device, dtype):
    """Are the gradients with respect to p and q (all entries positive) right?"""
    p = distributions((3, 4), dtype, device, zeros=False)
    q = distributions((3, 4), dtype, device, zeros=False)
    expect_grads(student, "kl_divergence", ref.kl_divergence, (p, q), [0, 1], ["p", "q"], inputs(p=p, q=q), hint=HINT)

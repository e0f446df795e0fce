"""batch_hard_triplet_loss(embeddings, labels, margin=1.0): per anchor the farthest positive, the nearest negative."""
import pytest
import torch
import torch.nn.functional as F

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw8_metric_learning.checks import expect_grads

HINT = ("dist = pairwise distances (clamp the squares before sqrt); positives: same label, not the anchor itself; "
        "hardest positive = max over positives, hardest negative = min over negatives; mean of the hinge over anchors "
        "that have both")


def variants(E, labels, margin):
    """What the common mistakes give."""
    dist = (E[:, None] - E[None]).square().sum(-1).clamp_min(1e-30).sqrt()
    same = labels[:, None] == labels[None]
    eye = torch.eye(len(E), dtype=torch.bool, device=E.device)

    def loss(pos, neg, pos_pick=torch.amax, neg_pick=torch.amin, over_all=False):
        valid = pos.any(1) & neg.any(1)
        hp = pos_pick(dist.masked_fill(~pos, float("-inf") if pos_pick is torch.amax else float("inf")), 1)
        hn = neg_pick(dist.masked_fill(~neg, float("inf") if neg_pick is torch.amin else float("-inf")), 1)
        h = F.relu(hp - hn + margin)
        h = torch.where(valid, h, torch.zeros_like(h))
        return h.mean() if over_all else h[valid].mean()
    return {"the anchor counted as its own positive (distance 0)": lambda: loss(same, ~same),
            "the easiest positive and negative (min and max swapped)":
            lambda: loss(same & ~eye, ~same, torch.amin, torch.amax),
            "averaged over all anchors, those without a positive or a negative included":
            lambda: loss(same & ~eye, ~same, over_all=True)}


@pytest.mark.points(10)
def test_values(student, ref, device, dtype):
    """Is the batch-hard loss right for batches of 2-4 classes, a class with a single member included?"""
    for n, d, labels, margin in [(8, 3, [0, 0, 1, 1, 2, 2, 0, 1], 1.0), (6, 2, [0, 1, 1, 1, 2, 2], 0.5),
                                 (10, 4, [3, 3, 1, 1, 1, 0, 0, 2, 2, 2], 2.0)]:
        E = torch.randn(n, d, dtype=dtype, device=device)
        y = torch.tensor(labels, device=device)
        expect_tensor(student.batch_hard_triplet_loss(E, y, margin), ref.batch_hard_triplet_loss(E, y, margin),
                      f"batch_hard_triplet_loss(embeddings, labels, margin={margin})",
                      inputs=inputs(embeddings=E, labels=y), hint=HINT, mistakes=variants(E, y, margin),
                      magnitude=100.0)
    # The general rules at the edges: two classes of two, margin = 0, every class a single member (no valid anchor).
    E = torch.randn(4, 2, dtype=dtype, device=device)
    edges = [("two classes of two", (E, torch.tensor([0, 1, 0, 1], device=device), 1.0)),
             ("margin = 0", (E, torch.tensor([0, 0, 0, 1], device=device), 0.0)),
             ("no valid anchor", (E, torch.arange(4, device=device), 1.0))]
    expect_general_rules(student.batch_hard_triplet_loss.run, ref.batch_hard_triplet_loss, edges,
                         ["embeddings", "labels", "margin"], "batch_hard_triplet_loss")


@pytest.mark.points(2)
def test_no_valid_anchor(student, ref, device, dtype):
    """With every label the same (no negatives), is the loss 0?"""
    E = torch.randn(5, 3, dtype=dtype, device=device)
    y = torch.zeros(5, dtype=torch.int64, device=device)
    expect_tensor(student.batch_hard_triplet_loss(E, y, 1.0), ref.batch_hard_triplet_loss(E, y, 1.0),
                  "batch_hard_triplet_loss is 0 when no anchor has a negative", inputs=inputs(embeddings=E, labels=y),
                  hint="return embeddings.sum() * 0 (a 0-d tensor) when no anchor qualifies; .mean() of nothing is NaN")


@pytest.mark.points(3)
def test_gradient(student, ref, device, dtype):
    """Is the gradient with respect to the embeddings right and finite (the zero diagonal of the distances)?"""
    E = torch.randn(8, 3, dtype=dtype, device=device)
    y = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1], device=device)
    expect_grads(student, "batch_hard_triplet_loss", ref.batch_hard_triplet_loss, (E, y), [0], ["embeddings"],
                 inputs(embeddings=E, labels=y), hint=HINT)

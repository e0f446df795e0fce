"""cross_entropy_from_logits(logits, y) -> per-example cross-entropy from raw logits, by log-sum-exp.

Equal to F.cross_entropy(logits, y, reduction='none'), even for logits of 1e4.
"""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, expect_unchanged, graph_mistake, inputs

SHAPES = [(4, 4), (3, 5), (5, 3), (1, 10), (6, 2)]  # square first: index mix-ups give values, not errors
HINT = ("with m the row maximum (keepdim=True): loss = m + log(sum(exp(logits - m))) - logits[i, y[i]], "
        "the log-sum-exp trick; never take the log of a probability")


def labels(n, q, device):
    return torch.randint(0, q, (n,), device=device)


def mistakes(logits, y, large=False):
    """What common wrong versions return (evaluated only when a check fails)."""
    rows = torch.arange(len(logits), device=logits.device)
    m = logits.max(dim=1, keepdim=True).values
    lse = (m + (logits - m).exp().sum(dim=1, keepdim=True).log()).squeeze(1)
    right = lse - logits[rows, y]
    unstable = {
        "the log of softmax probabilities: a probability that underflows to 0 gives log(0) = -inf; "
        "use log-sum-exp on the logits": lambda: -torch.softmax(logits, dim=1)[rows, y].log(),
        "no max shift inside log-sum-exp: exp(1e4) overflows to inf": lambda: logits.exp().sum(dim=1).log()
        - logits[rows, y],
    } if large else {}
    return {
        **unstable,
        "the row maximum was subtracted inside the log but not added back": lambda: right - m.squeeze(1),
        "logits[:, y] picks the label's column for every row, giving an (n, n) matrix; index with "
        "logits[range(n), y]": lambda: lse.unsqueeze(1) - logits[:, y],
        "the sign is flipped: logits[i, y[i]] - logsumexp": lambda: -right,
        "the losses are averaged over the batch (no reduction is asked for)": lambda: right.mean(),
        "the losses are summed over the batch (no reduction is asked for)": lambda: right.sum(),
        "the normaliser was summed over dim 0 (each column) instead of each row":
            lambda: torch.logsumexp(logits, dim=0)[y] - logits[rows, y],
    }


@pytest.mark.points(5)
def test_values(student, ref, device, dtype):
    """Does it equal F.cross_entropy(logits, y, reduction='none') for square and non-square batches?"""
    for n, q in SHAPES:
        logits = 3 * torch.randn(n, q, dtype=dtype, device=device)
        y = labels(n, q, device)
        expect_tensor(student.cross_entropy_from_logits(logits, y), ref.cross_entropy_from_logits(logits, y),
                      "cross_entropy_from_logits equals F.cross_entropy(logits, y, reduction='none')",
                      inputs=inputs(logits=logits, y=y), mistakes=mistakes(logits, y), hint=HINT)


def large_batches(dtype, device):
    """(name, logits, y, scale): logits of magnitude 1e4, rows shifted by +1000."""
    base = torch.randn(4, 6, dtype=dtype, device=device)
    y = labels(4, 6, device)
    # Every row peaks near 1e4 (a shift by the batch's largest logit is also right here), and the
    # labels sit on the largest, a middling and the smallest logit: losses of 0, about 1e4 and 2e4.
    mixed = torch.tensor([[1e4, 0.0, -1e4, 5.0], [-1e4, 1e4, -1e4 + 3, 1e4 - 4],
                          [1e4, 1e4, 1e4, 1e4], [1e4 - 1, 1e4, 1e4 - 30, 1e4 - 2]], dtype=dtype, device=device)
    mixed_y = torch.tensor([2, 1, 3, 2], device=device)
    return [("logits near +1e4", base + 1e4, y, 1e4), ("logits near -1e4", base - 1e4, y, 1e4),
            ("rows spanning -1e4 to +1e4", mixed, mixed_y, 1e4),
            ("every row shifted by +1000", 2 * base + 1000, y, 1e3)]


@pytest.mark.points(6)
def test_large_logits_are_finite_and_exact(student, ref, device, dtype):
    """For logits of magnitude 1e4, and rows shifted by +1000, does it still equal F.cross_entropy?"""
    for name, logits, y, scale in large_batches(dtype, device):
        expect_tensor(student.cross_entropy_from_logits(logits, y), ref.cross_entropy_from_logits(logits, y),
                      f"cross_entropy_from_logits is finite and exact for {name}",
                      inputs=f"{inputs(logits=logits, y=y)}, {name}", magnitude=scale,
                      mistakes=mistakes(logits, y, large=True), hint=HINT)


@pytest.mark.points(3)
def test_rows_of_very_different_scale(student, ref, device, dtype):
    """In one batch, rows whose logits are 1e-3, 1, 10 (and 100 in float64) in size: is each loss right?"""
    scales = [1e-3, 1.0, 10.0] + ([100.0] if dtype == torch.float64 else [])
    logits = torch.cat([s * torch.randn(1, 7, dtype=dtype, device=device) for s in scales])
    y = labels(len(scales), 7, device)
    expect_tensor(student.cross_entropy_from_logits(logits, y), ref.cross_entropy_from_logits(logits, y),
                  "each row's loss uses that row's own maximum and sum", inputs=f"{inputs(logits=logits, y=y)}, "
                  f"rows scaled by {scales}", magnitude=max(scales), mistakes=mistakes(logits, y, large=True),
                  hint=HINT)


@pytest.mark.points(4)
def test_gradient(student, ref, device):
    """Is the gradient softmax(logits) - one_hot(y), as autograd of F.cross_entropy gives, also at 1e4?"""
    for (n, q), offset in [((5, 3), 0.0), ((3, 5), 0.0), ((4, 4), 1e4)]:
        logits = 2 * torch.randn(n, q, dtype=torch.float64, device=device) + offset
        y = labels(n, q, device)
        g = torch.rand(n, dtype=torch.float64, device=device)
        where = inputs(logits=logits, y=y) + (", logits near 1e4" if offset else "")
        got = student.cross_entropy_from_logits.run((logits, y), wrt=[0], grad_output=g)
        expect(got.grad_error is None, "the loss is differentiable with respect to the logits", inputs=where,
               expected="a result connected to the autograd graph", got=got.grad_error or "",
               mistake=graph_mistake(got.grad_error))
        leaf = logits.clone().requires_grad_()
        want, = torch.autograd.grad(ref.cross_entropy_from_logits(leaf, y), leaf, g)
        expect(got.grads[0] is not None, "the gradient reaches the logits", inputs=where, expected="a gradient",
               got="None")
        expect_tensor(got.grads[0], want, "d loss / d logits = softmax(logits) - one_hot(y)", inputs=where,
                      magnitude=offset, hint=HINT)


@pytest.mark.points(2)
@pytest.mark.general_rule
def test_inputs_untouched(student, ref, device):
    """Are logits and y left unmodified, with the loss on the logits' device and in their dtype?"""
    logits = torch.randn(4, 6, dtype=torch.float64, device=device) + 3.0
    y = labels(4, 6, device)
    where = inputs(logits=logits, y=y)
    got = student.cross_entropy_from_logits.run((logits, y), return_args=True)
    expect_unchanged(logits, got.args_after[0], "logits", "cross_entropy_from_logits leaves the logits unmodified",
                     inputs=where)
    expect_unchanged(y, got.args_after[1], "y", "cross_entropy_from_logits leaves y unmodified", inputs=where)
    expect_tensor(got.value, ref.cross_entropy_from_logits(logits, y), "the loss keeps the logits' dtype and device",
                  inputs=where, mistakes=mistakes(logits, y), hint=HINT)
    # The same rules at the edges: one example, one class, float32 logits as large as 1e4.
    edges = [("one example", (torch.randn(1, 5, dtype=torch.float64, device=device), labels(1, 5, device))),
             ("one class", (torch.randn(3, 1, dtype=torch.float64, device=device), labels(3, 1, device))),
             ("large float32 logits", (1e4 * torch.randn(4, 3, device=device), labels(4, 3, device)))]
    expect_general_rules(student.cross_entropy_from_logits.run, ref.cross_entropy_from_logits, edges,
                         ["logits", "y"], "cross_entropy_from_logits")

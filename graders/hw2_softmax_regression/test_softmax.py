"""softmax(X) -> the row-wise softmax of a 2-D tensor, finite and exact for logits as large as 1e4."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, expect_unchanged, graph_mistake, inputs

# Non-square on purpose: (3, 5) and (5, 3) tell rows from columns; (1, q) and (n, 1) are the edges. The
# square batch comes first, where the usual broadcasting slip gives wrong values (so it can be named) rather
# than an error.
SHAPES = [(4, 4), (3, 5), (5, 3), (1, 10), (6, 1), (2, 2)]
HINT = "X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values); divide by X_exp.sum(dim=1, keepdim=True)"


def mistakes(X, large=False):
    """What the common wrong softmaxes return for X (evaluated only when a check fails).

    Computed with a max shift where the mistake is elsewhere, so they stay finite for large logits.
    The unshifted softmax is right for small logits, so it is named only for large ones; dividing the
    logits by their sum is named only for small ones (near 1e4 it is close to uniform, as other
    mistakes are).
    """
    E = (X - X.max(dim=1, keepdim=True).values).exp()
    named = {
        "no max shift: exp overflows to inf (or underflows to 0), and inf / inf or 0 / 0 is NaN":
            lambda: X.exp() / X.exp().sum(dim=1, keepdim=True),
        "shifted by the batch's single largest logit (X.max()) instead of each row's maximum: the rows far below "
        "it underflow to 0, and 0 / 0 is NaN":
            lambda: (X - X.max()).exp() / (X - X.max()).exp().sum(dim=1, keepdim=True),
    } if large else {}
    named.update({
        "normalised over dim 0 (each column) instead of over each row": lambda: torch.softmax(X, dim=0),
        "the row sums were not kept as a column (keepdim=True), so broadcasting divided by the wrong sums":
            lambda: E / E.sum(dim=1),
        "normalised by the sum over the whole batch instead of each row's sum":
            lambda: (X - X.max()).exp() / (X - X.max()).exp().sum(),
    })
    if not large:
        named["exp is missing: the logits were divided by their row sum"] = lambda: X / X.sum(dim=1, keepdim=True)
    return named


@pytest.mark.points(4)
def test_values(student, ref, device, dtype):
    """Is softmax(X) the softmax of each row, for square and non-square batches?"""
    for shape in SHAPES:
        X = 3 * torch.randn(*shape, dtype=dtype, device=device)
        expect_tensor(student.softmax(X), ref.softmax(X), "softmax(X) normalises each row: exp(X_ij) / sum_k exp(X_ik)",
                      inputs=inputs(X=X), mistakes=mistakes(X), hint=HINT)


def large_batches(dtype, device):
    """(name, X, scale) with logits near +-1e4, rows near +1e4 beside rows near -1e4, rows shifted by +1000."""
    base = torch.randn(4, 6, dtype=dtype, device=device)
    # Each row spans 1e4 to -1e4 but peaks near 1e4.
    mixed = torch.tensor([[1e4, 0.0, -1e4, 5.0], [-1e4, 1e4, -1e4 + 3, 1e4 - 4],
                          [1e4, 1e4, 1e4, 1e4], [1e4 - 1, 1e4, 1e4 - 30, 1e4 - 2]], dtype=dtype, device=device)
    # Rows whose peaks lie 2e4 apart: only a shift by each row's own maximum keeps every row finite (a shift by
    # the batch's largest logit leaves exp(-2e4) = 0 in every entry of the low rows, and 0 / 0 = NaN).
    apart = torch.cat([base[:2] + 1e4, base[2:] - 1e4])
    return [("logits near +1e4", base + 1e4, 1e4), ("logits near -1e4", base - 1e4, 1e4),
            ("rows mixing +1e4, 0 and -1e4", mixed, 1e4),
            ("rows near +1e4 and rows near -1e4 in one batch", apart, 1e4),
            ("every row shifted by +1000", 2 * base + 1000, 1e3)]


@pytest.mark.points(4)
def test_large_logits_are_finite_and_exact(student, ref, device, dtype):
    """For logits of magnitude 1e4 (also rows near +1e4 beside rows near -1e4), and rows shifted by +1000, is
    softmax finite and exact in every row (no overflow, no underflow to 0 / 0)?"""
    for name, X, scale in large_batches(dtype, device):
        got = student.softmax(X)
        where = f"{inputs(X=X)}, {name}"
        expect_tensor(got, ref.softmax(X), f"softmax is finite and exact for {name}", inputs=where, magnitude=scale,
                      mistakes=mistakes(X, large=True),
                      hint="subtract each row's maximum before exp: softmax(X) = softmax(X - c) for any c per row, "
                           "and after the shift the largest exponent is exp(0) = 1")


@pytest.mark.points(2)
def test_rows_of_very_different_scale(student, ref, device, dtype):
    """In one batch, rows whose logits are 1e-3, 1, 10 (and 100 in float64) in size: is each row right?"""
    scales = [1e-3, 1.0, 10.0] + ([100.0] if dtype == torch.float64 else [])
    X = torch.cat([s * torch.randn(1, 7, dtype=dtype, device=device) for s in scales])
    expect_tensor(student.softmax(X), ref.softmax(X), "each row is normalised on its own, whatever its scale",
                  inputs=f"{inputs(X=X)}, rows scaled by {scales}", mistakes=mistakes(X), hint=HINT)


@pytest.mark.points(3)
def test_gradient(student, ref, device):
    """Does the gradient with respect to X match autograd of the softmax, also at logits of 1e4?"""
    for shape, offset in [((4, 7), 0.0), ((5, 3), 0.0), ((3, 4), 1e4)]:
        X = torch.randn(*shape, dtype=torch.float64, device=device) + offset
        g = torch.randn(*shape, dtype=torch.float64, device=device)
        where = inputs(X=X) + (", logits near 1e4" if offset else "")
        got = student.softmax.run((X,), wrt=[0], grad_output=g)
        expect(got.grad_error is None, "softmax is differentiable with respect to X", inputs=where,
               expected="a result connected to the autograd graph", got=got.grad_error or "",
               mistake=graph_mistake(got.grad_error),
               hint="compute with torch operations on X; no .detach(), .item(), .numpy() or torch.no_grad()")
        leaf = X.clone().requires_grad_()
        want, = torch.autograd.grad(ref.softmax(leaf), leaf, g)
        expect(got.grads[0] is not None, "the gradient reaches X", inputs=where, expected="a gradient", got="None")
        unshifted = {"no max shift: exp overflows, and the gradient is NaN": lambda: unshifted_grad(X, g)}
        expect_tensor(got.grads[0], want, "the gradient of softmax with respect to X", inputs=where,
                      magnitude=abs(offset), mistakes=unshifted if offset else None,
                      hint="let autograd differentiate your softmax; the max shift needs no special care")


def unshifted_grad(X, g):
    leaf = X.clone().requires_grad_()
    E = leaf.exp()
    return torch.autograd.grad(E / E.sum(dim=1, keepdim=True), leaf, g)[0]


@pytest.mark.points(2)
@pytest.mark.general_rule
def test_input_untouched_and_shape_kept(student, ref, device):
    """Is X left unmodified, and does the result keep X's shape, dtype and device?"""
    X = torch.randn(3, 5, dtype=torch.float64, device=device) + 2.0
    where = inputs(X=X)
    got = student.softmax.run((X,), return_args=True)
    expect_unchanged(X, got.args_after[0], "X", "softmax leaves X unmodified", inputs=where)
    expect_tensor(got.value, torch.softmax(X, dim=1), "softmax(X) keeps X's shape, dtype and device", inputs=where,
                  mistakes=mistakes(X), hint=HINT)
    # The same rules at the edges: one class, an empty batch, float32 logits as large as 1e4.
    edges = [("one class", (torch.randn(4, 1, dtype=torch.float64, device=device),)),
             ("an empty batch", (torch.randn(0, 5, dtype=torch.float64, device=device),)),
             ("large float32 logits", (1e4 * torch.randn(3, 4, device=device),))]
    expect_general_rules(student.softmax.run, ref.softmax, edges, ["X"], "softmax")

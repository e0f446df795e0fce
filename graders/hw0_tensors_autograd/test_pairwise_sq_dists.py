"""pairwise_sq_dists(X, Y) -> D[i, j] = ||X[i] - Y[j]||^2, never negative, without Python loops."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_like, expect_tensor, inputs

HINT = ("||x||^2 + ||y||^2 - 2 x.y: (X * X).sum(dim=1, keepdim=True) + (Y * Y).sum(dim=1) - 2 * X @ Y.T, "
        "then .clamp(min=0)")
SIZES = [(5, 4, 3), (1, 6, 2), (7, 1, 5), (10, 10, 1), (33, 17, 8)]
# The vectorisation budget the notebook states: best of 5 after a warm-up, against X @ Y.T in the same worker.
BUDGET_FACTOR, BUDGET_EXTRA = 30, 3e-3
# Thousands of rows on one side, then on the other: a loop over either input's rows pays its per-iteration cost
# 2000 times (14-41 ms where the budget is 3.5 ms, on the shared 2-core machine); broadcasting takes 0.5 ms.
TIMED = [((2000, 3), (30, 3)), ((30, 3), (2000, 3))]


def mistakes(X, Y):
    diff = X[:, None, :] - Y[None, :, :]
    return {"the square root was taken: distances, not squared distances": lambda: diff.square().sum(-1).sqrt(),
            "the factor 2 of the cross term is missing": lambda: (X * X).sum(1, keepdim=True)
            + (Y * Y).sum(1) - X @ Y.T,
            "the squares are summed over the wrong axis": lambda: diff.square().sum(0) if X.shape[0] == Y.shape[0]
            else None}


@pytest.mark.points(7)
def test_values(student, ref, device, dtype):
    """Does D[i, j] equal ||X[i] - Y[j]||^2 for several shapes, a single row or a single feature included?"""
    for n, m, d in SIZES:
        X = torch.randn(n, d, dtype=dtype, device=device)
        Y = torch.randn(m, d, dtype=dtype, device=device)
        expect_tensor(student.pairwise_sq_dists(X, Y), ref.pairwise_sq_dists(X, Y),
                      "pairwise_sq_dists(X, Y)[i, j] equals ||X[i] - Y[j]||^2", inputs=inputs(X=X, Y=Y),
                      mistakes=mistakes(X, Y), hint=HINT, scale=10)
    # The general rules at the edges: no rows in Y, one row of one feature, Y the same tensor as X.
    X = torch.randn(4, 3, dtype=dtype, device=device)
    edges = [("Y has no rows", (X, torch.randn(0, 3, dtype=dtype, device=device))),
             ("one row, one feature", (X[:1, :1].clone(), X[1:2, :1].clone())), ("Y is X", (X, X))]
    expect_general_rules(student.pairwise_sq_dists.run, ref.pairwise_sq_dists, edges, ["X", "Y"],
                         "pairwise_sq_dists")


@pytest.mark.points(3)
def test_never_negative(student, device):
    """Are the distances of identical rows exactly 0 or more, even where rounding makes the formula negative?"""
    X = 1000 + torch.randn(40, 16, device=device)   # large norms: ||x||^2 + ||x||^2 - 2 x.x rounds around 0
    D = student.pairwise_sq_dists(X, X)
    expect_like(D, "pairwise_sq_dists(X, X) is a (40, 40) tensor", shape=(40, 40), dtype=X.dtype, device=device,
                inputs=inputs(X=X))
    expect(bool((D >= 0).all()), "pairwise_sq_dists(X, X) has no negative entry", inputs=inputs(X=X),
           expected="every entry >= 0", got=f"smallest entry {float(D.min()):.3g}",
           mistake="rounding below zero is not clamped", hint="clamp the result at 0: .clamp(min=0)")


@pytest.mark.points(5)
def test_vectorised_within_budget(student, ref, device):
    """Is it vectorised: at most 30 times X @ Y.T's time plus 3 ms, best of 5 after a warm-up (float32)?"""
    dists = student.function("pairwise_sq_dists", timeout=60)
    student.construct("torch.set_num_threads", 1)  # one thread for both timings, on a shared CPU
    for x_shape, y_shape in TIMED:
        X, Y = torch.randn(x_shape, device=device), torch.randn(y_shape, device=device)
        where = inputs(X=X, Y=Y)
        expect_tensor(dists(X, Y), ref.pairwise_sq_dists(X, Y), "pairwise_sq_dists(X, Y) is right (the warm-up call)",
                      inputs=where, hint=HINT, scale=10)
        reference = student.construct("toolbox.best_seconds", "torch.matmul", X, Y.T, repeats=5).get()
        budget = BUDGET_FACTOR * float(reference) + BUDGET_EXTRA
        best = min(dists.run((X, Y)).seconds for _ in range(5))
        expect(best <= budget, "pairwise_sq_dists is vectorised: within 30 x (X @ Y.T)'s time + 3 ms",
               inputs=where + " (float32; best of 5 runs after a warm-up, in the same process as X @ Y.T)",
               expected=f"at most {budget * 1e3:.2f} ms (X @ Y.T: {float(reference) * 1e3:.3f} ms)",
               got=f"{best * 1e3:.2f} ms", mistake="a Python loop over the rows" if best > 1.25 * budget else None,
               hint="no Python loop: " + HINT)

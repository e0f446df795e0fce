"""normal_equation(X, y) -> (w, b): the exact least-squares fit with an intercept."""
import pytest
import torch

from autograder.compare import expect_general_rules, expect_like, expect_pair, expect_tensor, inputs


def fit(student, X, y):
    return expect_pair(student.normal_equation(X, y), "normal_equation returns (w, b)", inputs=inputs(X=X, y=y),
                       names="(w, b)")


def no_intercept_fit(X, y):
    return torch.linalg.solve(X.T @ X, X.T @ y.reshape(-1, 1))


@pytest.mark.points(8)
def test_recovers_noise_free_parameters(student, device):
    """On noise-free data y = Xw + b, does it return w and b exactly?"""
    for n, d in [(50, 3), (200, 10), (5, 1), (12, 11)]:
        X = torch.randn(n, d, dtype=torch.float64, device=device)
        w_true = torch.randn(d, 1, dtype=torch.float64, device=device)
        b_true = torch.randn(1, dtype=torch.float64, device=device)
        y = X @ w_true + b_true
        w, b = fit(student, X, y)
        where = inputs(X=X, y=y)
        expect_tensor(w, w_true, "w of the exact fit", inputs=where, rtol=1e-6, atol=1e-8,
                      mistakes={"no column of ones for the intercept: b was left out of the fit":
                                lambda: no_intercept_fit(X, y)},
                      hint="append a column of ones to X, then solve A^T A theta = A^T y")
        expect_tensor(b, b_true, "b of the exact fit", inputs=where, rtol=1e-6, atol=1e-8,
                      mistakes={"b is the mean of y rather than the fitted intercept": y.mean().reshape(1)})


@pytest.mark.points(7)
def test_least_squares_on_noisy_data(student, ref, device, dtype):
    """On noisy data, does it match the least-squares solution?"""
    tol = {torch.float32: (1e-3, 1e-3), torch.float64: (1e-7, 1e-9)}[dtype]
    for n, d in [(100, 4), (30, 2)]:
        X = torch.randn(n, d, dtype=dtype, device=device)
        noise = 0.3 * torch.randn(n, 1, dtype=dtype, device=device)
        y = X @ torch.randn(d, 1, dtype=dtype, device=device) + 1.5 + noise
        w, b = fit(student, X, y)
        w_ref, b_ref = ref.normal_equation(X.double(), y.double())
        where = inputs(X=X, y=y)
        expect_tensor(w.double(), w_ref, "w of the least-squares fit", inputs=where, rtol=tol[0], atol=tol[1],
                      check_device=False, check_dtype=False,
                      mistakes={"no column of ones for the intercept":
                                lambda: no_intercept_fit(X.double(), y.double())})
        expect_tensor(b.double(), b_ref, "b of the least-squares fit", inputs=where, rtol=tol[0], atol=tol[1],
                      check_device=False, check_dtype=False)
        expect_like(w, "w keeps X's dtype and device", shape=(d, 1), dtype=dtype, device=device, inputs=where)
        expect_like(b, "b keeps X's dtype and device", shape=(1,), dtype=dtype, device=device, inputs=where)
    # The general rules at the edges: exactly determined (n = d + 1), one feature, labels of shape (n,).
    def t(*shape):
        return torch.randn(*shape, dtype=dtype, device=device)
    edges = [("n = d + 1", (t(4, 3), t(4, 1))), ("one feature", (t(6, 1), t(6, 1))),
             ("y of shape (n,)", (t(8, 2), t(8)))]
    expect_general_rules(student.normal_equation.run, ref.normal_equation, edges, ["X", "y"], "normal_equation")


@pytest.mark.points(5)
def test_labels_of_shape_n(student, ref, device):
    """With y of shape (n,), are w (d, 1) and b (1,) still right?"""
    X = torch.randn(40, 3, dtype=torch.float64, device=device)
    y = (X @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, device=device)) - 0.7
    w, b = fit(student, X, y)
    w_ref, b_ref = ref.normal_equation(X, y)
    where = inputs(X=X, y=y)
    expect_tensor(w, w_ref, "w for labels of shape (n,)", inputs=where, rtol=1e-6, atol=1e-8,
                  hint="reshape y to a column first: y.reshape(-1, 1)")
    expect_tensor(b, b_ref, "b for labels of shape (n,)", inputs=where, rtol=1e-6, atol=1e-8,
                  hint="return b with shape (1,)")

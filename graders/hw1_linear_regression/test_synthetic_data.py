"""synthetic_data(w, b, num_examples, noise=0.01) -> (X, y): X ~ N(0, 1), y = Xw + b + N(0, noise^2)."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_like, expect_pair, inputs, mean_bound, std_bound

TRUE_B = 4.2


def draw(student, w, b, n, *noise, check_dtype=True):
    """(X, y) from the student, checked for shape, dtype and device before any arithmetic on them.

    The distribution tests run in both dtypes but leave the dtype to test_shapes_dtype_and_device (they
    compute their statistics in float64): one dtype slip costs that test's points, not every test's."""
    where = inputs(w=w, b=b, num_examples=n)
    X, y = expect_pair(student.synthetic_data(w, b, n, *noise), "synthetic_data returns (X, y)", inputs=where)
    d = w.numel()
    dtype = w.dtype if check_dtype else None
    expect_like(X, "X has shape (num_examples, len(w))", shape=(n, d), dtype=dtype, device=w.device, inputs=where)
    expect_like(y, "y has shape (num_examples, 1)", shape=(n, 1), dtype=dtype, device=w.device, inputs=where,
                hint="reshape y to a column: y.reshape(-1, 1)")
    return X, y


@pytest.mark.points(3)
def test_shapes_dtype_and_device(student, ref, device, dtype):
    """Are X (n, len(w)) and y (n, 1), on w's device and in w's dtype?"""
    for d, n in [(2, 1000), (5, 1), (1, 37)]:
        draw(student, torch.randn(d, dtype=dtype, device=device), TRUE_B, n)
    # The general rules at the edges (w untouched, X and y in w's dtype and device): noise = 0, no examples, one
    # feature.
    w = torch.randn(3, dtype=dtype, device=device)
    edges = [("noise = 0", (w, TRUE_B, 10, 0.0)), ("num_examples = 0", (w, TRUE_B, 0)),
             ("one feature", (w[:1].clone(), TRUE_B, 5))]
    expect_general_rules(student.synthetic_data.run, ref.synthetic_data, edges, ["w", "b", "num_examples", "noise"],
                         "synthetic_data")


@pytest.mark.points(3)
def test_features_are_standard_normal(student, device, dtype):
    """Are the features drawn from N(0, 1), fresh on every call?"""
    n, w = 20_000, torch.tensor([2.0, -3.4], dtype=dtype, device=device)
    X, _ = draw(student, w, TRUE_B, n, check_dtype=False)
    where = inputs(w=w, b=TRUE_B, num_examples=n)
    mean, std, count = float(X.double().mean()), float(X.double().std()), X.numel()
    expect(abs(mean) < mean_bound(1.0, count), "the features have mean 0", inputs=where, expected="mean 0",
           got=f"mean {mean:.4f}", mistake="torch.rand draws from U(0, 1), not N(0, 1)" if 0.4 < mean < 0.6 else None,
           hint="draw X with torch.randn or torch.normal(0, 1, size)")
    expect(abs(std - 1) < std_bound(1.0, count), "the features have standard deviation 1", inputs=where,
           expected="standard deviation 1", got=f"{std:.4f}",
           hint="draw X with torch.randn or torch.normal(0, 1, size)")
    X2, _ = draw(student, w, TRUE_B, n, check_dtype=False)
    expect(not torch.equal(X, X2), "two calls draw different examples", inputs=where, expected="different X",
           got="the same X twice", hint="do not fix a seed or cache the data inside synthetic_data")


@pytest.mark.points(4)
def test_labels_are_linear_plus_noise(student, device, dtype):
    """Is y = Xw + b plus noise of standard deviation `noise` (default 0.01, and 0 and 0.5)?"""
    n, w = 20_000, torch.tensor([2.0, -3.4], dtype=dtype, device=device)
    for noise in (None, 0.5, 0.0):
        args = () if noise is None else (noise,)
        sigma = 0.01 if noise is None else noise
        X, y = draw(student, w, TRUE_B, n, *args, check_dtype=False)
        where = inputs(w=w, b=TRUE_B, num_examples=n) + ("" if noise is None else f", noise = {noise}")
        # y is rounded to its dtype (|y| about 10): in float32 a noiseless y is off Xw + b by ~1e-6
        slack = 1e-9 if y.dtype == torch.float64 else 1e-5
        residual = (y.double() - (X.double() @ w.double().reshape(-1, 1) + TRUE_B)).flatten()
        mean, std = float(residual.mean()), float(residual.std())
        expect(abs(mean) < mean_bound(sigma, n) + slack, "y - (Xw + b) averages 0", inputs=where,
               expected="mean 0", got=f"mean {mean:.4f}",
               mistake="b is not added to y" if abs(mean + TRUE_B) < 0.1 else None)
        close = abs(std - sigma) < std_bound(sigma, n) + slack
        mistake = None
        if sigma and abs(std - sigma ** 2) < 0.1 * sigma ** 2:
            mistake = "noise**2 (the variance) used as the standard deviation"
        elif sigma and std < slack:
            mistake = "no noise added to y"
        expect(close, f"the noise y - (Xw + b) has standard deviation {sigma}", inputs=where,
               expected=f"standard deviation {sigma}", got=f"{std:.6f}", mistake=mistake,
               hint="add noise * torch.randn(...) (noise is a standard deviation) to X @ w + b")

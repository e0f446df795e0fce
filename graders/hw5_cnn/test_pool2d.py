"""pool2d(X, pool_size, mode='max'): the max or mean of each p_h x p_w window of a 2-D X, stride 1, no padding."""
import pytest
import torch

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw5_cnn.checks import expect_grads

CASES = [((3, 3), (2, 2)), ((5, 7), (2, 3)), ((4, 6), (3, 1)), ((4, 4), (4, 4))]


def check(student, ref, X, pool_size, mode, what, extra=None):
    mistakes = {"the other mode: max and avg swapped": lambda: ref.pool2d(X, pool_size, "avg" if mode == "max"
                                                                           else "max"),
                "the window's height and width swapped": lambda: ref.pool2d(X, pool_size[::-1], mode),
                **(extra or {})}
    expect_tensor(student.pool2d(X, pool_size, mode), ref.pool2d(X, pool_size, mode), what,
                  inputs=inputs(X=X, pool_size=pool_size, mode=mode), mistakes=mistakes,
                  hint="Y[i, j] = X[i:i + p_h, j:j + p_w].max() (or .mean()), for i < h - p_h + 1, j < w - p_w + 1")


@pytest.mark.points(2)
def test_max(student, ref, device, dtype):
    """Does mode='max' (and the default mode) take each window's maximum, for non-square windows too?"""
    for x_shape, pool_size in CASES:
        X = torch.randn(x_shape, dtype=dtype, device=device)
        check(student, ref, X, pool_size, "max", "pool2d(X, pool_size, 'max') takes each window's maximum")
    X = torch.randn(4, 5, dtype=dtype, device=device)
    expect_tensor(student.pool2d(X, (2, 2)), ref.pool2d(X, (2, 2)), "the default mode is 'max'",
                  inputs=inputs(X=X, pool_size=(2, 2)), hint="def pool2d(X, pool_size, mode='max')")
    # The general rules at the edges: a 1x1 window, a window as large as X (avg), a single row.
    edges = [("a 1x1 window", (torch.randn(3, 4, dtype=dtype, device=device), (1, 1), "max")),
             ("a window as large as X", (torch.randn(2, 3, dtype=dtype, device=device), (2, 3), "avg")),
             ("a single row", (torch.randn(1, 5, dtype=dtype, device=device), (1, 2), "avg"))]
    expect_general_rules(student.pool2d.run, ref.pool2d, edges, ["X", "pool_size", "mode"], "pool2d")


@pytest.mark.points(2)
def test_avg(student, ref, device, dtype):
    """Does mode='avg' take each window's mean, for non-square windows too?"""
    for x_shape, pool_size in CASES:
        X = torch.randn(x_shape, dtype=dtype, device=device)
        check(student, ref, X, pool_size, "avg", "pool2d(X, pool_size, 'avg') takes each window's mean",
              {"the window's sum, not its mean": lambda: ref.pool2d(X, pool_size, "avg") * pool_size[0] *
               pool_size[1]})


@pytest.mark.points(1)
def test_all_negative(student, ref, device):
    """Does max pooling of an all-negative input stay negative (no zeros creeping into the maximum)?"""
    X = -torch.rand(5, 6, dtype=torch.float64, device=device) - 1
    check(student, ref, X, (2, 3), "max", "the maximum of negative numbers is negative",
          {"the maximum is taken with 0 too (a running max started at zero)": lambda: torch.zeros(4, 4,
                                                                                            dtype=X.dtype)})


@pytest.mark.points(1)
def test_gradients(student, ref, device):
    """Does the gradient of max pooling go to each window's maximum, and average pooling's spread evenly?"""
    X = torch.randn(5, 4, dtype=torch.float64, device=device)
    g = torch.randn(4, 3, dtype=torch.float64, device=device)
    for mode in ("max", "avg"):
        result = student.pool2d.run((X, (2, 2), mode), wrt=[0], grad_output=g)
        expect_grads(result, ref.pool2d, (X, (2, 2), mode), {}, [0], ["X"], g, f"pool2d(X, (2, 2), {mode!r})",
                     inputs(X=X))

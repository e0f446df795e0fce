"""max_pool2d(X, kernel_size, stride=None, padding=0): F.max_pool2d on (N, C, H, W); padding counts as -inf."""
import pytest
import torch
import torch.nn.functional as F

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw5_cnn.checks import expect_grads

HINT = ("stride = kernel_size when stride is None; F.pad(X, (p_w, p_w, p_h, p_h), value=float('-inf')), then "
        "X.unfold(2, k_h, s_h).unfold(3, k_w, s_w) and the max over the last two dimensions")
CASES = [(2, None, 0), (3, None, 0), ((2, 3), None, 0), (3, 2, 1), ((3, 2), (2, 1), (1, 0)), (2, 1, 1), (3, 3, 1),
         ((2, 2), (3, 2), (1, 1))]


def mistakes(X, k, s, p):
    found = {"the stride defaults to 1 instead of the kernel size": lambda: F.max_pool2d(X, k, 1, p)}
    pp = (p, p) if isinstance(p, int) else p
    if max(pp) > 0:
        found["the padding is ignored"] = lambda: F.max_pool2d(X, k, s)
        found["the padding counts as 0, not -inf"] = lambda: F.max_pool2d(F.pad(X, (pp[1], pp[1], pp[0], pp[0])),
                                                                          k, s)
    return found


def check(student, ref, X, k, s, p, what):
    where = inputs(X=X) + f", kernel_size={k!r}, stride={s!r}, padding={p!r}"
    expect_tensor(student.max_pool2d(X, k, s, p), ref.max_pool2d(X, k, s, p), what, inputs=where,
                  mistakes=mistakes(X, k, s, p), hint=HINT)


@pytest.mark.points(2)
def test_default_stride(student, ref, device, dtype):
    """With stride=None, does the window move by its own size (non-overlapping windows, sizes not dividing H, W)?"""
    X = torch.randn(2, 3, 7, 8, dtype=dtype, device=device)
    for k, s, p in CASES[:3]:
        check(student, ref, X, k, s, p, "max_pool2d(X, kernel_size) equals F.max_pool2d, stride = kernel_size")
    # The general rules at the edges: a 1x1 window, a window as large as X, padding around negative values.
    def t(*shape):
        return torch.randn(*shape, dtype=dtype, device=device)
    edges = [("kernel_size = 1", (t(1, 2, 3, 3), 1, None, 0)), ("a window as large as X", (t(1, 2, 3, 3), 3, None, 0)),
             ("padding around negative values", (-t(1, 1, 4, 4).abs() - 1, 3, 1, 1))]
    expect_general_rules(student.max_pool2d.run, ref.max_pool2d, edges, ["X", "kernel_size", "stride", "padding"],
                         "max_pool2d")


@pytest.mark.points(2)
def test_stride_and_padding(student, ref, device, dtype):
    """With ints and pairs for the window, stride and padding, is it F.max_pool2d?"""
    X = torch.randn(2, 2, 7, 6, dtype=dtype, device=device)
    for k, s, p in CASES[3:]:
        check(student, ref, X, k, s, p, "max_pool2d(X, kernel_size, stride, padding) equals F.max_pool2d")


@pytest.mark.points(2)
def test_all_negative_with_padding(student, ref, device):
    """On an all-negative input, does the padding never win the maximum (it counts as -inf)?"""
    X = -torch.rand(1, 2, 5, 6, dtype=torch.float64, device=device) - 1
    for k, s, p in [(3, 2, 1), (2, 1, 1), ((3, 2), (2, 1), (1, 0))]:
        check(student, ref, X, k, s, p, "max pooling of negative numbers with padding stays negative")


@pytest.mark.points(2)
def test_gradient_goes_to_the_maximum(student, ref, device):
    """Does the gradient of max pooling flow to the maximum of each window only (overlapping windows too)?"""
    for k, s, p in [(2, None, 0), (3, 2, 1)]:
        X = torch.randn(2, 2, 6, 7, dtype=torch.float64, device=device)
        g = torch.randn(F.max_pool2d(X, k, s, p).shape, dtype=torch.float64, device=device)
        result = student.max_pool2d.run((X, k, s, p), wrt=[0], grad_output=g)
        expect_grads(result, ref.max_pool2d, (X, k, s, p), {}, [0], ["X"], g, "max_pool2d",
                     inputs(X=X) + f", kernel_size={k}, stride={s}, padding={p}")

"""avg_pool2d(X, kernel_size, stride=None, padding=0): F.avg_pool2d on (N, C, H, W); padded zeros count."""
import pytest
import torch
import torch.nn.functional as F

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw5_cnn.checks import expect_grads

HINT = ("stride = kernel_size when stride is None; F.pad(X, (p_w, p_w, p_h, p_h)) with zeros, then the mean of each "
        "k_h x k_w window (X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).mean(dim=(-2, -1))): the zeros count")


def mistakes(X, k, s, p):
    kh, kw = (k, k) if isinstance(k, int) else k
    found = {"the stride defaults to 1 instead of the kernel size": lambda: F.avg_pool2d(X, k, 1, p),
             "the window's sum is divided by its height only, not by k_h * k_w": lambda: F.avg_pool2d(X, k, s, p) * kw,
             "the window's sum is divided by its width only, not by k_h * k_w": lambda: F.avg_pool2d(X, k, s, p) * kh,
             "the window's sum, not its mean": lambda: F.avg_pool2d(X, k, s, p) * kh * kw}
    if kh == kw:
        del found["the window's sum is divided by its width only, not by k_h * k_w"]
    if kh == 1 or kw == 1:
        found = {name: f for name, f in found.items() if "divided by" not in name}
    if (p if isinstance(p, int) else max(p)) > 0:
        found["the padded zeros are left out of the average (count_include_pad=False)"] = \
            lambda: F.avg_pool2d(X, k, s, p, count_include_pad=False)
    return found


def check(student, ref, X, k, s, p, what):
    where = inputs(X=X) + f", kernel_size={k!r}, stride={s!r}, padding={p!r}"
    expect_tensor(student.avg_pool2d(X, k, s, p), ref.avg_pool2d(X, k, s, p), what, inputs=where,
                  mistakes=mistakes(X, k, s, p), hint=HINT)


@pytest.mark.points(2)
def test_default_stride(student, ref, device, dtype):
    """With stride=None, does the window move by its own size (sizes not dividing H, W)?"""
    X = torch.randn(2, 3, 7, 8, dtype=dtype, device=device)
    for k in (2, 3, (2, 3)):
        check(student, ref, X, k, None, 0, "avg_pool2d(X, kernel_size) equals F.avg_pool2d, stride = kernel_size")
    # The general rules at the edges: a 1x1 window, a window as large as X, padding as large as allowed.
    def t(*shape):
        return torch.randn(*shape, dtype=dtype, device=device)
    edges = [("kernel_size = 1", (t(1, 2, 3, 3), 1, None, 0)), ("a window as large as X", (t(1, 2, 3, 3), 3, None, 0)),
             ("padding = kernel_size // 2", (t(1, 1, 4, 4), 3, 1, 1))]
    expect_general_rules(student.avg_pool2d.run, ref.avg_pool2d, edges, ["X", "kernel_size", "stride", "padding"],
                         "avg_pool2d")


@pytest.mark.points(2)
def test_padding_counts_as_zeros(student, ref, device, dtype):
    """With padding, do the padded zeros count in the average (count_include_pad=True), with ints and pairs?"""
    X = torch.rand(2, 2, 7, 6, dtype=dtype, device=device) + 1
    for k, s, p in [(3, 2, 1), (2, 1, 1), ((3, 2), (2, 1), (1, 0)), ((2, 2), (3, 2), (1, 1))]:
        check(student, ref, X, k, s, p, "avg_pool2d(X, kernel_size, stride, padding) equals F.avg_pool2d")


@pytest.mark.points(2)
def test_gradients(student, ref, device):
    """Does backpropagation spread each output's gradient evenly over its window (float64)?"""
    X = torch.randn(2, 2, 6, 7, dtype=torch.float64, device=device)
    k, s, p = 3, 2, 1
    g = torch.randn(F.avg_pool2d(X, k, s, p).shape, dtype=torch.float64, device=device)
    result = student.avg_pool2d.run((X, k, s, p), wrt=[0], grad_output=g)
    expect_grads(result, ref.avg_pool2d, (X, k, s, p), {}, [0], ["X"], g, "avg_pool2d",
                 inputs(X=X) + f", kernel_size={k}, stride={s}, padding={p}")

"""corr2d(X, K): the 2-D cross-correlation of (h, w) with (kh, kw) -> (h - kh + 1, w - kw + 1)."""
import pytest
import torch

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw5_cnn.checks import asymmetric, expect_grads

# (X's shape, K's shape): square, non-square, a column kernel, the kernel as large as X, a single row
SHAPES = [((3, 3), (2, 2)), ((5, 7), (2, 3)), ((6, 4), (3, 1)), ((4, 5), (4, 5)), ((1, 6), (1, 2))]
HINT = "Y[i, j] = (X[i:i + kh, j:j + kw] * K).sum() for i < h - kh + 1, j < w - kw + 1; do not flip K"


def mistakes(ref, X, K):
    return {"the kernel is flipped: that is a convolution in the mathematical sense, not the cross-correlation "
            "layers compute": lambda: ref.corr2d(X, K.flip(0, 1)),
            "the kernel is transposed (its rows and columns swapped)": lambda: ref.corr2d(X, K.T),
            "the output is one row and one column too small: (h - kh, w - kw) instead of (h - kh + 1, w - kw + 1)":
            lambda: ref.corr2d(X, K)[:-1, :-1]}


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Does corr2d cross-correlate X with an asymmetric K, for square and non-square X and K?"""
    for x_shape, k_shape in SHAPES:
        X = torch.randn(x_shape, dtype=dtype, device=device)
        K = asymmetric(*k_shape, dtype=dtype, device=device)
        expect_tensor(student.corr2d(X, K), ref.corr2d(X, K), "corr2d(X, K) is the 2-D cross-correlation",
                      inputs=inputs(X=X, K=K), mistakes=mistakes(ref, X, K), hint=HINT)
    # The general rules at the edges: a 1x1 kernel, a kernel as large as X, a single row.
    def t(*shape):
        return torch.randn(*shape, dtype=dtype, device=device)
    edges = [("a 1x1 kernel", (t(3, 4), t(1, 1))), ("K as large as X", (t(3, 3), t(3, 3))),
             ("a single row", (t(1, 5), t(1, 2)))]
    expect_general_rules(student.corr2d.run, ref.corr2d, edges, ["X", "K"], "corr2d")


@pytest.mark.points(1)
def test_edge_detection(student, ref, device):
    """Does corr2d find the vertical edges of d2l's 6 x 8 image with the kernel [[1, -1]]?"""
    X = torch.ones((6, 8), device=device)
    X[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]], device=device)
    expect_tensor(student.corr2d(X, K), ref.corr2d(X, K), "corr2d(X, [[1, -1]]) marks the edges with 1 and -1",
                  inputs="d2l 6.2.3's image: ones with columns 2-5 zero, " + inputs(X=X, K=K),
                  mistakes={"the kernel is flipped (the edges come out with the opposite signs)":
                            lambda: ref.corr2d(X, K.flip(1))}, hint=HINT)


@pytest.mark.points(2)
def test_gradients(student, ref, device):
    """Does backpropagation through corr2d give autograd's gradients for X and for K (float64)?"""
    X = torch.randn(5, 6, dtype=torch.float64, device=device)
    K = asymmetric(2, 3, device=device)
    g = torch.randn(4, 4, dtype=torch.float64, device=device)
    result = student.corr2d.run((X, K), wrt=[0, 1], grad_output=g)
    expect_grads(result, ref.corr2d, (X, K), {}, [0, 1], ["X", "K"], g, "corr2d(X, K)", inputs(X=X, K=K))

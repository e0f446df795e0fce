"""corr2d_multi_in_out_1x1(X, K): K (c_o, c_i, 1, 1), one matrix product -> (c_o, h, w)."""
import pytest
import torch

from autograder.compare import expect_general_rules, expect_tensor, inputs
from hw5_cnn.checks import expect_grads

CASES = [((3, 3, 3), 2), ((2, 4, 6), 5), ((1, 5, 2), 3), ((6, 1, 1), 1), ((16, 8, 12), 32)]


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Is every pixel's output the (c_o, c_i) weight matrix times that pixel's c_i channel values?"""
    for (c_i, h, w), c_o in CASES:
        X = torch.randn(c_i, h, w, dtype=dtype, device=device)
        K = torch.randn(c_o, c_i, 1, 1, dtype=dtype, device=device)
        where = inputs(X=X, K=K)
        transposed = lambda: (K.reshape(c_i, c_o).T @ X.reshape(c_i, h * w)).reshape(c_o, h, w)  # noqa: E731
        expect_tensor(student.corr2d_multi_in_out_1x1(X, K), ref.corr2d_multi_in_out_1x1(X, K),
                      "the 1x1 convolution is a fully connected layer at every pixel", inputs=where,
                      mistakes={"K reshaped to (c_i, c_o) (the weight's axes mixed up)": transposed,
                                "X reshaped to (h * w, c_i) with reshape, which scrambles the pixels and channels "
                                "(that needs a transpose, not a reshape)":
                                lambda: (X.reshape(h * w, c_i) @ K.reshape(c_o, c_i).T).T.reshape(c_o, h, w),
                                "the output is reshaped to (c_o, w, h) instead of (c_o, h, w)":
                                lambda: ref.corr2d_multi_in_out_1x1(X, K).reshape(c_o, w, h)},
                      hint="K.reshape(c_o, c_i) @ X.reshape(c_i, h * w), then reshape to (c_o, h, w); "
                           "reshape X to (c_i, h * w), not to (h * w, c_i)")
    # The general rules at the edges: a single pixel, one channel in and out.
    def t(*shape):
        return torch.randn(*shape, dtype=dtype, device=device)
    edges = [("a single pixel", (t(3, 1, 1), t(2, 3, 1, 1))), ("one channel in and out", (t(1, 2, 3), t(1, 1, 1, 1)))]
    expect_general_rules(student.corr2d_multi_in_out_1x1.run, ref.corr2d_multi_in_out_1x1, edges, ["X", "K"],
                         "corr2d_multi_in_out_1x1")


@pytest.mark.points(1)
def test_gradients(student, ref, device):
    """Does backpropagation give autograd's gradients for X and K (float64)?"""
    X = torch.randn(3, 4, 5, dtype=torch.float64, device=device)
    K = torch.randn(2, 3, 1, 1, dtype=torch.float64, device=device)
    g = torch.randn(2, 4, 5, dtype=torch.float64, device=device)
    result = student.corr2d_multi_in_out_1x1.run((X, K), wrt=[0, 1], grad_output=g)
    expect_grads(result, ref.corr2d_multi_in_out_1x1, (X, K), {}, [0, 1], ["X", "K"], g,
                 "corr2d_multi_in_out_1x1(X, K)", inputs(X=X, K=K))

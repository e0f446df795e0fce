"""corr2d_multi_in_out(X, K): X (c_i, h, w), K (c_o, c_i, kh, kw) -> (c_o, h', w')."""
import pytest
import torch

from autograder.compare import expect_general_rules, expect_tensor, graded_alone, inputs
from hw5_cnn.checks import asymmetric, expect_grads

CASES = [((2, 3, 3), (3, 2, 2, 2)), ((3, 5, 7), (2, 3, 2, 3)), ((1, 4, 4), (4, 1, 3, 1)), ((3, 6, 5), (1, 3, 1, 2))]


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Is output channel o equal to corr2d_multi_in(X, K[o]), with c_o != c_i and c_o = 1?"""
    for x_shape, k_shape in CASES:
        X = torch.randn(x_shape, dtype=dtype, device=device)
        K = asymmetric(*k_shape, dtype=dtype, device=device)
        got = student.corr2d_multi_in_out(X, K)
        own = lambda: torch.stack([student.corr2d_multi_in(X, k) for k in K])  # noqa: E731
        expect_tensor(got, graded_alone(got, ref.corr2d_multi_in_out(X, K), own),
                      "corr2d_multi_in_out(X, K) has one output channel per kernel K[o]", inputs=inputs(X=X, K=K),
                      mistakes={"the output channels are in reverse order": lambda: ref.corr2d_multi_in_out(X, K)
                                .flip(0), "the kernel is flipped": lambda: ref.corr2d_multi_in_out(X, K.flip(2, 3)),
                                "the output channels are stacked on the last axis (h', w', c_o) instead of the first":
                                lambda: ref.corr2d_multi_in_out(X, K).permute(1, 2, 0),
                                "the output channels are summed into one: stack them, one per kernel K[o]":
                                lambda: ref.corr2d_multi_in_out(X, K).sum(0, keepdim=True)},
                      hint="torch.stack([corr2d_multi_in(X, k) for k in K], 0): K's first axis is the output channel")
    # The general rules at the edges: one output channel with a 1x1 kernel, a kernel as large as X.
    def t(*shape):
        return torch.randn(*shape, dtype=dtype, device=device)
    edges = [("one output channel, a 1x1 kernel", (t(2, 3, 3), t(1, 2, 1, 1))),
             ("K as large as X", (t(1, 2, 2), t(3, 1, 2, 2)))]
    expect_general_rules(student.corr2d_multi_in_out.run, ref.corr2d_multi_in_out, edges, ["X", "K"],
                         "corr2d_multi_in_out")


@pytest.mark.points(1)
def test_gradients(student, ref, device):
    """Does backpropagation give autograd's gradients for X and K (float64)?"""
    X = torch.randn(2, 5, 4, dtype=torch.float64, device=device)
    K = asymmetric(3, 2, 2, 3, device=device)
    g = torch.randn(3, 4, 2, dtype=torch.float64, device=device)
    result = student.corr2d_multi_in_out.run((X, K), wrt=[0, 1], grad_output=g)

    def own():  # the gradients through the student's own corr2d_multi_in, output channel by output channel
        runs = [student.corr2d_multi_in.run((X, k), wrt=[0, 1], grad_output=g_o) for k, g_o in zip(K, g)]
        return [sum(r.grads[0] for r in runs), torch.stack([r.grads[1] for r in runs])]
    expect_grads(result, ref.corr2d_multi_in_out, (X, K), {}, [0, 1], ["X", "K"], g, "corr2d_multi_in_out(X, K)",
                 inputs(X=X, K=K), own=own)

"""corr2d_multi_in(X, K): X (c_i, h, w), K (c_i, kh, kw) -> (h', w'), the channels' cross-correlations summed."""
import pytest
import torch

from autograder.compare import expect_general_rules, expect_tensor, graded_alone, inputs
from hw5_cnn.checks import asymmetric, expect_grads

CASES = [((2, 3, 3), (2, 2, 2)), ((3, 5, 7), (3, 2, 3)), ((1, 4, 4), (1, 3, 1)), ((4, 6, 5), (4, 1, 2))]


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Is the result the sum over the input channels of corr2d(X[c], K[c]), for 1 to 4 channels?"""
    for x_shape, k_shape in CASES:
        X = torch.randn(x_shape, dtype=dtype, device=device)
        K = asymmetric(*k_shape, dtype=dtype, device=device)
        per_channel = lambda: torch.stack([ref.corr2d(x, k) for x, k in zip(X, K)])  # noqa: E731
        got = student.corr2d_multi_in(X, K)
        own = lambda: torch.stack([student.corr2d(x, k) for x, k in zip(X, K)]).sum(0)  # noqa: E731
        expect_tensor(got, graded_alone(got, ref.corr2d_multi_in(X, K), own),
                      "corr2d_multi_in(X, K) sums the channels' cross-correlations", inputs=inputs(X=X, K=K),
                      mistakes={"the channels are averaged instead of summed": lambda: per_channel().mean(0),
                                "only the first channel is used": lambda: ref.corr2d(X[0], K[0]),
                                "the kernel is flipped": lambda: ref.corr2d_multi_in(X, K.flip(1, 2)),
                                "every channel is cross-correlated with the first kernel slice K[0]":
                                lambda: sum(ref.corr2d(x, K[0]) for x in X)},
                      hint="sum(corr2d(x, k) for x, k in zip(X, K)): channel c of X goes with K[c]")
    # The general rules at the edges: one channel, a 1x1 kernel, a kernel as large as X.
    def t(*shape):
        return torch.randn(*shape, dtype=dtype, device=device)
    edges = [("one channel", (t(1, 3, 3), t(1, 2, 2))), ("a 1x1 kernel", (t(2, 3, 4), t(2, 1, 1))),
             ("K as large as X", (t(2, 2, 3), t(2, 2, 3)))]
    expect_general_rules(student.corr2d_multi_in.run, ref.corr2d_multi_in, edges, ["X", "K"], "corr2d_multi_in")


@pytest.mark.points(1)
def test_gradients(student, ref, device):
    """Does backpropagation give autograd's gradients for X and K (float64)?"""
    X = torch.randn(3, 5, 4, dtype=torch.float64, device=device)
    K = asymmetric(3, 2, 2, device=device)
    g = torch.randn(4, 3, dtype=torch.float64, device=device)
    result = student.corr2d_multi_in.run((X, K), wrt=[0, 1], grad_output=g)

    def own():  # the gradients through the student's own corr2d, channel by channel
        runs = [student.corr2d.run((x, k), wrt=[0, 1], grad_output=g) for x, k in zip(X, K)]
        return [torch.stack([r.grads[0] for r in runs]), torch.stack([r.grads[1] for r in runs])]
    expect_grads(result, ref.corr2d_multi_in, (X, K), {}, [0, 1], ["X", "K"], g, "corr2d_multi_in(X, K)",
                 inputs(X=X, K=K), own=own)

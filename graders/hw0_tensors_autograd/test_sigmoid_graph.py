"""sigmoid_graph(X, y, W1, b1, W2, b2) -> (loss, grads): H = sigmoid(X W1 + b1), y_hat = H W2 + b2, MSE."""
import pytest
import torch

from autograder.compare import expect_general_rules, inputs
from hw0_tensors_autograd.checks import expect_hand_gradients

KEYS = ["W1", "b1", "W2", "b2"]
HINT = ("G = 2 (y_hat - y) / y_hat.numel(); dW2 = H.T @ G, db2 = G.sum(0); dU = (G @ W2.T) * H * (1 - H); "
        "dW1 = X.T @ dU, db1 = dU.sum(0)")
SHAPES = [(6, 3, 4, 2), (1, 2, 5, 1), (20, 4, 3, 3)]   # n, d, h, k


def mistakes(X, y, W1, b1, W2, b2):
    U = X @ W1 + b1
    H = torch.sigmoid(U)
    G = 2 * (H @ W2 + b2 - y) / y.numel()
    dH = G @ W2.T
    dU = dH * H * (1 - H)
    over_n = "the mean over all n * k entries taken over n only (G divided by n)"
    k = y.shape[1]
    return {"W1": {"the sigmoid's derivative is missing (dU = dH)": X.T @ dH,
                   "the sigmoid's derivative taken as sigmoid(U) alone, without (1 - sigmoid(U))": X.T @ (dH * H),
                   "the derivative evaluated at sigmoid(sigmoid(U)) (sigma' applied to H)":
                   X.T @ (dH * torch.sigmoid(H) * (1 - torch.sigmoid(H))), over_n: k * X.T @ dU},
            "b1": {"the sigmoid's derivative is missing (dU = dH)": dH.sum(0), over_n: k * dU.sum(0)},
            "W2": {"dW2 uses U = X W1 + b1 instead of H = sigmoid(U)": U.T @ G, over_n: k * H.T @ G},
            "b2": {over_n: k * G.sum(0)}}


@pytest.mark.points(10)
def test_matches_autograd(student, ref, device, dtype):
    """Do the loss and the four hand-written gradients equal autograd's, for several layer sizes (one example,
    one output included)?"""
    for n, d, h, k in SHAPES:
        X = torch.randn(n, d, dtype=dtype, device=device)
        y = torch.randn(n, k, dtype=dtype, device=device)
        p = [torch.randn(s, dtype=dtype, device=device) for s in ((d, h), (h,), (h, k), (k,))]
        where = inputs(X=X, y=y, **dict(zip(KEYS, p)))
        expect_hand_gradients(student, "sigmoid_graph", ref.sigmoid_graph, (X, y, *p), KEYS, where,
                              mistakes=mistakes(X, y, *p), hint=HINT)
    # The general rules at the edges: one example, one feature, one hidden unit and one output; zero weights.
    edges = []
    for label, (n, d, h, k), make in [("1 x 1 x 1 x 1", (1, 1, 1, 1), torch.randn), ("zero weights", (3, 2, 4, 2),
                                                                                        torch.zeros)]:
        p = [make(s, dtype=dtype, device=device) for s in ((d, h), (h,), (h, k), (k,))]
        edges.append((label, (torch.randn(n, d, dtype=dtype, device=device),
                              torch.randn(n, k, dtype=dtype, device=device), *p)))
    expect_general_rules(student.sigmoid_graph.run, ref.sigmoid_graph, edges, ["X", "y", *KEYS], "sigmoid_graph")

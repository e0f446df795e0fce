"""gradient_descent(x, y, w, lr, num_epochs) -> (w, costs): full-batch steps w -= lr * mean(2 x (x w - y))."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, inputs
from hw0_tensors_autograd.checks import descent, expect_costs, expect_weight, line_data

HINT = "each epoch: cost = mean((x w - y)^2), grad = mean(2 x (x w - y)), w = w - lr * grad"
CASES = [(3, 1.0, 0.01, 100), (40, -1.0, 0.05, 7), (10, 4.0, 0.1, 1)]


def run(student, x, y, w, lr, epochs):
    got = student.gradient_descent(x, y, w, lr, epochs)
    expect(isinstance(got, (tuple, list)) and len(got) == 2, "gradient_descent returns (w, costs)",
           inputs=inputs(x=x, y=y, w=w, lr=lr, num_epochs=epochs), expected="a pair (w, costs)",
           got=type(got).__name__, hint="return float(w), costs")
    return got


def wrong(x, y, w, lr, epochs):
    n = len(x)
    return {"the factor 2 of the derivative is missing": descent(x, y, w, lr, epochs, n, factor=1.0),
            "the gradient is summed over the examples, not averaged": descent(x, y, w, lr, epochs, n, summed=True),
            "the step goes up the gradient (w + lr * grad)": descent(x, y, w, lr, epochs, n, sign=1.0),
            "the cost is recorded after the step, not before it": descent(x, y, w, lr, epochs, n, cost_after=True)}


@pytest.mark.points(6)
def test_final_weight(student, ref, device, dtype):
    """Is the weight after num_epochs full-batch steps the reference's, for several data sets and learning rates?"""
    for n, w0, lr, epochs in CASES:
        x, y = line_data(n, dtype, device)
        w, _ = run(student, x, y, w0, lr, epochs)
        expected, _ = ref.gradient_descent(x, y, w0, lr, epochs)
        expect_weight(w, expected, f"w after {epochs} steps of gradient descent",
                      inputs=inputs(x=x, y=y, w=w0, lr=lr, num_epochs=epochs), hint=HINT, dtype=dtype,
                      mistakes={k: v[0] for k, v in wrong(x, y, w0, lr, epochs).items()})
    # The general rules at the edges: one example, lr = 0, no epoch at all.
    x, y = line_data(4, dtype, device)
    edges = [("one example", (x[:1].clone(), y[:1].clone(), 1.0, 0.1, 3)), ("lr = 0", (x, y, 1.0, 0.0, 2)),
             ("num_epochs = 0", (x, y, 1.0, 0.1, 0))]
    expect_general_rules(student.gradient_descent.run, ref.gradient_descent, edges,
                         ["x", "y", "w", "lr", "num_epochs"], "gradient_descent")


@pytest.mark.points(4)
def test_costs(student, ref, device):
    """Is costs[k] the whole data set's MSE at the weight before step k, one float per epoch?"""
    for n, w0, lr, epochs in CASES:
        x, y = line_data(n, torch.float64, device)
        _, costs = run(student, x, y, w0, lr, epochs)
        _, expected = ref.gradient_descent(x, y, w0, lr, epochs)
        expect_costs(costs, expected, "costs[k] = mean((x w_k - y)^2) before step k",
                     inputs=inputs(x=x, y=y, w=w0, lr=lr, num_epochs=epochs),
                     mistakes={k: v[1] for k, v in wrong(x, y, w0, lr, epochs).items()})

"""stochastic_gradient_descent(x, y, w, lr, num_epochs) -> w: one step per example, in order."""
import pytest
import torch

from autograder.compare import expect_general_rules, inputs
from hw0_tensors_autograd.checks import descent, expect_weight, line_data

HINT = "for each epoch, for x_n, y_n in zip(x, y): w = w - lr * 2 * x_n * (x_n * w - y_n); return float(w)"
CASES = [(3, 1.0, 0.01, 1), (3, 1.0, 0.01, 50), (30, -2.0, 0.02, 4), (1, 0.0, 0.1, 3)]


@pytest.mark.points(5)
def test_final_weight(student, ref, device, dtype):
    """Is w after num_epochs passes of per-example steps, in the given order, the reference's?"""
    for n, w0, lr, epochs in CASES:
        x, y = line_data(n, dtype, device)
        expected = ref.stochastic_gradient_descent(x, y, w0, lr, epochs)
        expect_weight(student.stochastic_gradient_descent(x, y, w0, lr, epochs), expected,
                      f"w after {epochs} epochs of stochastic gradient descent",
                      inputs=inputs(x=x, y=y, w=w0, lr=lr, num_epochs=epochs), hint=HINT, dtype=dtype,
                      mistakes={"one full-batch step per epoch instead of one step per example":
                                descent(x, y, w0, lr, epochs, n)[0],
                                "the factor 2 of the derivative is missing": descent(x, y, w0, lr, epochs, 1,
                                                                                     factor=1.0)[0],
                                "the step goes up the gradient (w + lr * grad)": descent(x, y, w0, lr, epochs, 1,
                                                                                         sign=1.0)[0],
                                "the examples are visited last to first, not in the given order":
                                descent(x, y, w0, lr, epochs, 1, reverse=True)[0] if n > 1 else None,
                                "only the last epoch's steps are kept (w reset every epoch)":
                                descent(x, y, w0, lr, 1, 1)[0] if epochs > 1 else None})
    # The general rules at the edges: lr = 0, no epoch at all, an example at x = 0.
    x, y = line_data(3, dtype, device)
    edges = [("lr = 0", (x, y, 1.0, 0.0, 2)), ("num_epochs = 0", (x, y, 1.0, 0.1, 0)),
             ("an example at x = 0", (torch.zeros(1, dtype=dtype, device=device), y[:1].clone(), 1.0, 0.1, 2))]
    expect_general_rules(student.stochastic_gradient_descent.run, ref.stochastic_gradient_descent, edges,
                         ["x", "y", "w", "lr", "num_epochs"], "stochastic_gradient_descent")

"""minibatch_gradient_descent(x, y, w, lr, num_epochs, batch_size) -> w: one step per consecutive batch."""
import pytest

from autograder.compare import expect_general_rules, inputs
from hw0_tensors_autograd.checks import descent, expect_weight, line_data

HINT = ("for each epoch, for k in range(0, len(x), batch_size): the batch x[k:k + batch_size]; "
        "w = w - lr * mean(2 * xb * (xb * w - yb)); return float(w)")
CASES = [(20, 1.0, 0.02, 3, 5), (23, 0.0, 0.05, 2, 5), (10, -1.0, 0.01, 4, 1), (10, 3.0, 0.05, 5, 10),
         (7, 1.0, 0.05, 3, 64)]


@pytest.mark.points(10)
def test_final_weight(student, ref, device, dtype):
    """Is w the reference's, for batch sizes that divide n, that leave a remainder, 1 (SGD) and n or more (GD)?"""
    for n, w0, lr, epochs, batch_size in CASES:
        x, y = line_data(n, dtype, device)
        expected = ref.minibatch_gradient_descent(x, y, w0, lr, epochs, batch_size)
        full_batches = n - n % batch_size

        def dropped(x=x, y=y, w0=w0, lr=lr, epochs=epochs, batch_size=batch_size, full_batches=full_batches):
            return descent(x[:full_batches], y[:full_batches], w0, lr, epochs, batch_size)[0] if full_batches else None
        expect_weight(student.minibatch_gradient_descent(x, y, w0, lr, epochs, batch_size), expected,
                      f"w after {epochs} epochs of mini-batch descent with batch_size={batch_size}",
                      inputs=inputs(x=x, y=y, w=w0, lr=lr, num_epochs=epochs, batch_size=batch_size), hint=HINT,
                      dtype=dtype,
                      mistakes={"the batch gradient is summed, not averaged":
                                descent(x, y, w0, lr, epochs, batch_size, summed=True)[0],
                                "the factor 2 of the derivative is missing":
                                descent(x, y, w0, lr, epochs, batch_size, factor=1.0)[0],
                                "the last, smaller batch is dropped": dropped,
                                "the short last batch's gradient is divided by batch_size, not by its own size":
                                descent(x, y, w0, lr, epochs, batch_size, divide_by_batch_size=True)[0]
                                if n % batch_size and n > batch_size else None,
                                "one full-batch step per epoch (batch_size ignored)": descent(x, y, w0, lr, epochs,
                                                                                              n)[0]})
    # The general rules at the edges: batch_size = n, batch_size = 1 with lr = 0, no epoch at all.
    x, y = line_data(4, dtype, device)
    edges = [("batch_size = n", (x, y, 1.0, 0.1, 2, 4)), ("batch_size = 1, lr = 0", (x, y, 1.0, 0.0, 2, 1)),
             ("num_epochs = 0", (x, y, 1.0, 0.1, 0, 2))]
    expect_general_rules(student.minibatch_gradient_descent.run, ref.minibatch_gradient_descent, edges,
                         ["x", "y", "w", "lr", "num_epochs", "batch_size"], "minibatch_gradient_descent")

"""squared_loss(y_hat, y) -> (y_hat - y.reshape(y_hat.shape)) ** 2 / 2, one value per example."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, expect_unchanged, graph_mistake, inputs


def common_mistakes(y_hat, y):
    diff = y_hat - y.reshape(y_hat.shape)
    return {
        "the 1/2 is missing": diff ** 2,
        "the losses are averaged (no reduction is asked for)": lambda: (diff ** 2 / 2).mean(),
        "the losses are summed (no reduction is asked for)": lambda: (diff ** 2 / 2).sum(),
        "absolute error instead of squared error": lambda: diff.abs() / 2,
        "y is not reshaped, so broadcasting made an (n, n) matrix": lambda: (y_hat - y) ** 2 / 2,
    }


@pytest.mark.points(4)
def test_values(student, ref, device, dtype):
    """Is the loss (y_hat - y)^2 / 2 for each example, with no reduction?"""
    for n in (1, 5, 100):
        y_hat = torch.randn(n, 1, dtype=dtype, device=device)
        y = torch.randn(n, 1, dtype=dtype, device=device)
        expect_tensor(student.squared_loss(y_hat, y), ref.squared_loss(y_hat, y),
                      "squared_loss(y_hat, y) = (y_hat - y)^2 / 2 per example", inputs=inputs(y_hat=y_hat, y=y),
                      mistakes=common_mistakes(y_hat, y))
    # The general rules at the edges: an empty batch, labels of shape (n,), y_hat and y the same tensor.
    y_hat = torch.randn(4, 1, dtype=dtype, device=device)
    edges = [("an empty batch", (y_hat[:0].clone(), y_hat[:0].clone())),
             ("y of shape (n,)", (y_hat, torch.randn(4, dtype=dtype, device=device))), ("y is y_hat", (y_hat, y_hat))]
    expect_general_rules(student.squared_loss.run, ref.squared_loss, edges, ["y_hat", "y"], "squared_loss")


@pytest.mark.points(3)
def test_labels_of_shape_n(student, ref, device):
    """With labels of shape (n,) and predictions (n, 1), is the loss still (n, 1)?"""
    y_hat = torch.randn(8, 1, device=device)
    y = torch.randn(8, device=device)
    expect_tensor(student.squared_loss(y_hat, y), ref.squared_loss(y_hat, y),
                  "squared_loss reshapes y to y_hat's shape", inputs=inputs(y_hat=y_hat, y=y),
                  hint="reshape y first: y.reshape(y_hat.shape)", mistakes=common_mistakes(y_hat, y))


@pytest.mark.points(3)
def test_gradient_and_inputs(student, ref, device):
    """Is the gradient with respect to y_hat equal to y_hat - y, with the inputs left unmodified?"""
    y_hat = torch.randn(10, 1, dtype=torch.float64, device=device)
    y = torch.randn(10, 1, dtype=torch.float64, device=device)
    g = torch.rand(10, 1, dtype=torch.float64, device=device)
    where = inputs(y_hat=y_hat, y=y)
    got = student.squared_loss.run((y_hat, y), wrt=[0], grad_output=g, return_args=True)
    expect(got.grad_error is None, "the loss is differentiable with respect to y_hat", inputs=where,
           expected="a result connected to the autograd graph", got=got.grad_error or "",
           mistake=graph_mistake(got.grad_error))
    expect_tensor(got.grads[0], g * (y_hat - y), "d loss / d y_hat = y_hat - y", inputs=where,
                  mistakes={"the 1/2 is missing": 2 * g * (y_hat - y)})
    expect_unchanged(y, got.args_after[1], "y", "squared_loss leaves y unmodified", inputs=where)

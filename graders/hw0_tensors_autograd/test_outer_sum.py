"""outer_sum(a, b) -> the (n, m) tensor a[i] + b[j], by broadcasting."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, graph_mistake, inputs

SIZES = [(3, 4), (1, 5), (6, 1), (1, 1), (17, 9)]
HINT = "make a a column and b a row: a.reshape(-1, 1) + b.reshape(1, -1); broadcasting builds the (n, m) matrix"


@pytest.mark.points(3)
def test_values(student, ref, device, dtype):
    """Does outer_sum(a, b) hold a[i] + b[j] at [i, j], for several sizes (one of length 1 included)?"""
    for n, m in SIZES:
        a = torch.randn(n, dtype=dtype, device=device)
        b = torch.randn(m, dtype=dtype, device=device)
        expect_tensor(student.outer_sum(a, b), ref.outer_sum(a, b), "outer_sum(a, b)[i, j] equals a[i] + b[j]",
                      inputs=inputs(a=a, b=b), hint=HINT,
                      mistakes={"the roles of a and b swapped: an (m, n) matrix b[i] + a[j]":
                                lambda: ref.outer_sum(b, a),
                                "a difference a[i] - b[j] instead of a sum": lambda: ref.outer_sum(a, -b),
                                "a product a[i] * b[j] (an outer product) instead of a sum":
                                lambda: torch.outer(a, b)})
    # The general rules at the edges: an empty a, single elements, a and b the same tensor.
    one = torch.randn(1, dtype=dtype, device=device)
    edges = [("a empty", (torch.randn(0, dtype=dtype, device=device), torch.randn(3, dtype=dtype, device=device))),
             ("one element each", (one, torch.randn(1, dtype=dtype, device=device))), ("b is a", (one, one))]
    expect_general_rules(student.outer_sum.run, ref.outer_sum, edges, ["a", "b"], "outer_sum")


@pytest.mark.points(2)
def test_gradients(student, device):
    """Do gradients reach a and b (each a[i] appears in m sums, each b[j] in n)?"""
    a = torch.randn(4, dtype=torch.float64, device=device)
    b = torch.randn(3, dtype=torch.float64, device=device)
    g = torch.rand(4, 3, dtype=torch.float64, device=device)
    result = student.outer_sum.run((a, b), wrt=[0, 1], grad_output=g)
    where = inputs(a=a, b=b)
    expect(result.grad_error is None, "outer_sum is differentiable with respect to a and b", inputs=where,
           expected="a result connected to the autograd graph", got=result.grad_error or "",
           mistake=graph_mistake(result.grad_error), hint=HINT)
    for name, grad, want in zip("ab", result.grads, (g.sum(dim=1), g.sum(dim=0))):
        expect(grad is not None, f"the gradient reaches {name}", inputs=where, expected="a gradient", got="None")
        expect_tensor(grad, want, f"the gradient with respect to {name}", inputs=where)

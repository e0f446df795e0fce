"""mlp(X, params) -> relu(X.reshape(n, num_inputs) @ W1 + b1) @ W2 + b2, the logits."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, expect_unchanged, inputs

# (shape of X, num_hiddens, num_outputs): images, flat rows, other image sizes, a batch of one
CASES = [((6, 1, 28, 28), 32, 10), ((5, 12), 7, 3), ((4, 3, 4, 5), 16, 4), ((1, 1, 28, 28), 8, 10)]


def make_params(num_inputs, num_hiddens, num_outputs, dtype, device):
    """Weights large enough that the ReLU zeroes a good share of the hidden units."""
    return [torch.randn(num_inputs, num_hiddens, dtype=dtype, device=device) / num_inputs ** 0.5,
            torch.randn(num_hiddens, dtype=dtype, device=device),
            torch.randn(num_hiddens, num_outputs, dtype=dtype, device=device) / num_hiddens ** 0.5,
            torch.randn(num_outputs, dtype=dtype, device=device)]


def mistakes(X, params):
    W1, b1, W2, b2 = params
    flat = X.reshape(len(X), -1)
    return {
        "ReLU applied to the output too: logits must be free to be negative":
            lambda: torch.relu(torch.relu(flat @ W1 + b1) @ W2 + b2),
        "no ReLU on the hidden layer: the network is linear": lambda: (flat @ W1 + b1) @ W2 + b2,
        "the output bias b2 is not added": lambda: torch.relu(flat @ W1 + b1) @ W2,
        "the hidden bias b1 is not added": lambda: torch.relu(flat @ W1) @ W2 + b2,
        "sigmoid instead of ReLU on the hidden layer": lambda: torch.sigmoid(flat @ W1 + b1) @ W2 + b2,
    }


def shape_errors(X):
    """Errors that come from how X was (not) flattened, as (pattern in the error, mistake, hint)."""
    hint = "X.reshape((-1, W1.shape[0])) first: (n, 1, 28, 28) -> (n, 784)"
    return [("shapes cannot be multiplied", "X is not flattened to (n, num_inputs) before X @ W1" if X.dim() > 2
             else None, hint if X.dim() > 2 else "print the shapes: X (n, num_inputs), W1 (num_inputs, num_hiddens), "
             "W2 (num_hiddens, num_outputs)"),
            ("is invalid for input of size", "the number of inputs is hard-coded (784?): take it from W1.shape[0]",
             hint)]


@pytest.mark.points(8)
def test_values(student, ref, device, dtype, explained):
    """Does mlp flatten X to (n, num_inputs) and compute relu(X @ W1 + b1) @ W2 + b2, for several shapes?"""
    for shape, num_hiddens, num_outputs in CASES:
        X = torch.rand(shape, dtype=dtype, device=device) - 0.3
        params = make_params(X[0].numel(), num_hiddens, num_outputs, dtype, device)
        where = inputs(X=X, params=params)
        with explained("mlp(X, params) with X flattened to (n, num_inputs)", where, *shape_errors(X)):
            got = student.mlp(X, params)
        expect_tensor(got, ref.mlp(X, params),
                      "mlp(X, params) = relu(X @ W1 + b1) @ W2 + b2, X flattened to (n, num_inputs)",
                      inputs=where, mistakes=mistakes(X, params),
                      hint="X.reshape((-1, W1.shape[0])) first; num_inputs comes from W1, not a constant like 784")


@pytest.mark.points(5)
def test_gradients(student, ref, device):
    """Does backpropagation through mlp give autograd's gradients for X, W1, b1, W2 and b2?"""
    X = torch.rand(5, 1, 4, 6, dtype=torch.float64, device=device) - 0.3
    values = [X, *make_params(24, 9, 3, torch.float64, device)]
    where = inputs(X=X, params=values[1:])
    remote = [student.put(v, requires_grad=True) for v in values]
    out = student.mlp.handle(remote[0], remote[1:])  # the output stays in the worker, its graph with it
    info = out.describe()
    expect(info.get("kind") == "tensor" and info.get("shape") == [5, 3], "mlp returns the logits as a (5, 3) tensor",
           inputs=where, expected="a tensor of shape (5, 3)",
           got=f"shape {info['shape']}" if info.get("kind") == "tensor" else info.get("type", "?"))
    expect(info["requires_grad"], "the logits are connected to the autograd graph", inputs=where,
           expected="requires_grad=True", got="a result detached from X and the parameters",
           hint="compute with torch operations on X and the parameters (no .detach(), .data or .item())")
    g = torch.randn(5, 3, dtype=torch.float64, device=device)
    out.call("backward", g)
    leaves = [v.clone().requires_grad_() for v in values]
    expected = torch.autograd.grad(ref.mlp(leaves[0], leaves[1:]), leaves, g)
    for name, p, want in zip(("X", "W1", "b1", "W2", "b2"), remote, expected):
        grad = p.attr("grad")
        expect(grad is not None, f"the gradient reaches {name}", inputs=where, expected="a gradient", got="None",
               mistake=f"{name} was used through {name}.data or {name}.detach(), so no gradient reaches it",
               hint=f"use {name} itself in the computation (not {name}.data or {name}.detach())")
        expect_tensor(grad, want, f"the gradient with respect to {name}", inputs=where)


@pytest.mark.points(2)
@pytest.mark.general_rule
def test_inputs_unmodified(student, ref, device):
    """Are X and the parameters left unmodified, the logits in X's dtype and device (one example, float64 images and
    a single zero hidden unit too)?"""
    X = torch.randn(3, 1, 28, 28, device=device)
    params = make_params(784, 16, 10, torch.float32, device)
    result = student.mlp.run((X, params), return_args=True)
    where = inputs(X=X, params=params)
    expect_unchanged(X, result.args_after[0], "X", "mlp leaves X unmodified", inputs=where)
    after = result.args_after[1]
    expect(isinstance(after, (list, tuple)) and len(after) == 4, "mlp leaves the list of parameters as it was",
           inputs=where, expected="the same 4 parameters", got=f"{type(after).__name__} of "
           f"{len(after) if isinstance(after, (list, tuple)) else '?'}")
    for name, before, now in zip(("W1", "b1", "W2", "b2"), params, after):
        expect_unchanged(before, now, name, f"mlp leaves {name} unmodified", inputs=where)
    # The same rules, and the logits in X's dtype and device, at the edges: one flat example, float64 images, a
    # hidden layer of one unit with zero weights (every hidden value exactly 0).
    edges = [("one flat example", (torch.randn(1, 5, device=device), make_params(5, 3, 2, torch.float32, device))),
             ("float64 images", (torch.randn(2, 1, 2, 3, dtype=torch.float64, device=device),
                                 make_params(6, 4, 3, torch.float64, device))),
             ("one hidden unit, zero weights", (torch.randn(3, 4, device=device),
                                                [torch.zeros(4, 1, device=device), torch.zeros(1, device=device),
                                                 torch.randn(1, 2, device=device), torch.randn(2, device=device)]))]
    expect_general_rules(student.mlp.run, ref.mlp, edges, ["X", "params"], "mlp")

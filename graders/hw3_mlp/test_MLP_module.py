"""MLP(num_inputs, hidden_sizes, num_outputs): Flatten, then Linear + ReLU per hidden size, then a final Linear."""

import pytest
import torch

from autograder.compare import expect, expect_like, expect_tensor, inputs, matches

TASK = "MLP"  # not test_MLP.py: it would collide with test_mlp.py on case-insensitive file systems


def linear_layers(info, num_inputs, where):
    """The Linear layers as (name, in, out), in the order a forward pass chains them (else as registered)."""
    shapes = {name: shape for name, shape, *_ in info["parameters"]}
    layers = []
    for name, kind, *_ in info["modules"]:
        if kind == "Linear":
            prefix = f"{name}." if name else ""
            weight, bias = shapes.get(prefix + "weight"), shapes.get(prefix + "bias")
            expect(weight is not None and len(weight) == 2 and bias is not None, "every Linear has a weight and a bias",
                   inputs=where, expected="nn.Linear(in, out) with bias=True", got=f"a Linear named {name!r} without")
            layers.append((name, weight[1], weight[0]))
    return chain(layers, num_inputs) or layers


def chain(layers, width):
    """An order of all the layers in which each takes the previous one's outputs, registration order first."""
    if not layers:
        return []
    for i, layer in enumerate(layers):
        if layer[1] == width:
            rest = chain(layers[:i] + layers[i + 1:], layer[2])
            if rest is not None:
                return [layer, *rest]
    return None


def build(student, num_inputs, hidden_sizes, num_outputs):
    """The student's network, checked to hold the right chain of Linear layers before anything runs it."""
    where = f"MLP({num_inputs}, {hidden_sizes}, {num_outputs})"
    net = student.MLP(num_inputs, list(hidden_sizes), num_outputs)
    info = net.describe() if hasattr(net, "describe") else {"kind": type(net).__name__}
    expect(info.get("kind") == "module", "MLP(...) is an nn.Module", inputs=where, expected="an nn.Module",
           got=info.get("type", info.get("kind", "?")), hint="class MLP(nn.Module) with __init__ and forward")
    layers = linear_layers(info, num_inputs, where)
    widths = [num_inputs, *hidden_sizes, num_outputs]
    want = [f"{a}->{b}" for a, b in zip(widths, widths[1:])]
    got = [f"{a}->{b}" for _, a, b in layers]
    mistake = "hidden_sizes is not used: a single Linear" if len(got) == 1 and len(want) > 1 else None
    if not got:
        mistake = ("no Linear layer is registered on the module: layers kept in a plain Python list or dict (or "
                   "made in forward) are invisible to parameters(); use nn.Sequential or nn.ModuleList")
    elif len(want) >= 3 and got == [want[0], f"{hidden_sizes[0]}->{num_outputs}"]:
        mistake = "only the first hidden size is used: one Linear per entry of hidden_sizes is needed"
    expect(got == want, "one Linear per hidden size, then one to num_outputs, registered in __init__", inputs=where,
           expected=f"Linear layers {', '.join(want)}", got=f"Linear layers {', '.join(got) or '(none)'}",
           mistake=mistake, hint="for each size in hidden_sizes: nn.Linear(previous, size), nn.ReLU(); then "
           "nn.Linear(previous, num_outputs); keep them in an nn.Sequential (or nn.ModuleList)")
    return net, info, layers, where


NO_FLATTEN = ("shapes cannot be multiplied", "no nn.Flatten(): the first Linear gets whole (n, 1, 28, 28) images",
              "start with nn.Flatten(): (n, 1, 28, 28) -> (n, 784)")


def forward_from_state(X, state, layers, hidden=torch.relu, last=lambda H: H):
    """What the network computes from its own weights: Flatten, Linear, ReLU, ..., Linear."""
    H = X.reshape(len(X), -1)
    for i, (name, _, _) in enumerate(layers):
        prefix = f"{name}." if name else ""
        H = H @ state[prefix + "weight"].T + state[prefix + "bias"]
        H = hidden(H) if i < len(layers) - 1 else last(H)
    return H


@pytest.mark.points(8)
def test_structure_and_parameter_counts(student):
    """Does MLP hold Linear layers num_inputs -> each hidden size -> num_outputs, and only their parameters?"""
    for num_inputs, hidden_sizes, num_outputs in [(784, [256], 10), (784, [], 10), (20, [30, 40], 5),
                                                  (10, [8, 8, 8], 3)]:
        net, info, layers, where = build(student, num_inputs, hidden_sizes, num_outputs)
        widths = [num_inputs, *hidden_sizes, num_outputs]
        count = sum(a * b + b for a, b in zip(widths, widths[1:]))
        expect(info["num_parameters"] == count, "the number of parameters", inputs=where,
               expected=f"{count} (weights and biases of the Linear layers)", got=str(info["num_parameters"]))
        frozen = [name for name, _, requires_grad, *_ in info["parameters"] if not requires_grad]
        expect(not frozen, "every parameter requires grad", inputs=where, expected="requires_grad=True",
               got=f"not for {', '.join(frozen)}")


@pytest.mark.points(4)
def test_output_shapes(student, device, explained):
    """Does forward map images (n, 1, 28, 28) and flat rows (n, num_inputs) to logits (n, num_outputs)?"""
    for (num_inputs, hidden_sizes, num_outputs), shape in [((784, [256], 10), (5, 1, 28, 28)),
                                                           ((784, [256], 10), (1, 784)),
                                                           ((20, [30, 40], 5), (3, 20))]:
        net, _, _, where = build(student, num_inputs, hidden_sizes, num_outputs)
        X = torch.rand(shape, device=device)
        where = f"{where}, {inputs(X=X)}"
        with explained("forward flattens the images, then applies the layers", where,
                       *([NO_FLATTEN] if X.dim() > 2 else [])):
            logits = net.call("to", device)(X)
        expect_like(logits, "forward returns logits of shape (n, num_outputs)", shape=(shape[0], num_outputs),
                    dtype=torch.float32, device=X.device, inputs=where,
                    hint="start with nn.Flatten(): (n, 1, 28, 28) -> (n, 784)")


@pytest.mark.points(8)
def test_forward_values(student, device, explained):
    """Does forward compute Flatten, Linear, ReLU, ..., Linear from the network's own weights (float32 and 64)?"""
    for (num_inputs, hidden_sizes, num_outputs), shape, dtype in [
            ((784, [256], 10), (5, 1, 28, 28), torch.float32), ((12, [16, 8], 4), (3, 12), torch.float64),
            ((20, [], 3), (4, 20), torch.float32), ((6, [5, 5, 5], 2), (1, 2, 3), torch.float64)]:
        net, _, layers, where = build(student, num_inputs, hidden_sizes, num_outputs)
        net = net.call("to", device=device, dtype=dtype)
        net.call("eval")  # dropout, if any, is the next test's business
        X = torch.randn(shape, dtype=dtype, device=device)
        where = f"{where}, {inputs(X=X)}"
        state = net.call("state_dict")
        keys = [f"{name}.{p}" if name else p for name, *_ in layers for p in ("weight", "bias")]
        ok = isinstance(state, dict) and all(isinstance(state.get(k), torch.Tensor) for k in keys)
        expect(ok, "state_dict() holds every Linear's weight and bias", inputs=where, expected=", ".join(keys),
               got=", ".join(map(str, state))[:200] if isinstance(state, dict) else type(state).__name__)
        expected = forward_from_state(X, state, layers)
        with explained("forward flattens X, then applies the layers", where, *([NO_FLATTEN] if X.dim() > 2 else [])):
            logits = net(X)
        expect_tensor(logits, expected, "net(X) = Linear(...ReLU(Linear(flatten(X)))...) with its own weights",
                      inputs=where,
                      mistakes={"a ReLU after the last Linear: logits must be free to be negative":
                                lambda: forward_from_state(X, state, layers, last=torch.relu),
                                "no ReLU between the Linear layers: the network is linear":
                                lambda: forward_from_state(X, state, layers, hidden=lambda H: H),
                                "sigmoid instead of ReLU": lambda: forward_from_state(X, state, layers, torch.sigmoid),
                                "softmax on the output: forward returns logits (the loss applies the softmax)":
                                lambda: forward_from_state(X, state, layers, last=lambda H: H.softmax(dim=1))},
                      hint="Flatten, then Linear + ReLU for each hidden size, then a final Linear with no activation")


@pytest.mark.points(5)
def test_same_in_train_and_eval_mode(student, device):
    """Does the network compute the same in train() and eval() mode, call after call (no dropout)?"""
    net, info, _, where = build(student, 784, [256, 128], 10)
    net = net.call("to", device)
    X = torch.rand(8, 1, 28, 28, device=device)
    where = f"{where}, {inputs(X=X)}"
    random_layers = [kind for _, kind, *_ in info["modules"] if "Dropout" in kind or "Norm" in kind]
    mistake = f"a {random_layers[0]} layer: it behaves differently in train() mode" if random_layers else None
    hint = "no dropout or normalisation in this network: Flatten, Linear and ReLU only"
    net.call("train")
    first, second = net(X), net(X)
    expect_like(first, "forward returns logits of shape (8, 10)", shape=(8, 10), inputs=where)
    expect(matches(second, first), "in train() mode, two calls on the same X agree", inputs=where,
           expected="the same logits twice", got="different logits", mistake=mistake, hint=hint)
    net.call("eval")
    expect(matches(net(X), first), "eval() mode computes what train() mode does", inputs=where,
           expected="the same logits in both modes", got="different logits", mistake=mistake, hint=hint)

"""DropoutMLP(num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2): flatten, Linear, ReLU,
Dropout(dropout1), Linear, ReLU, Dropout(dropout2), Linear; dropout only while training."""
import pytest
import torch
import torch.nn.functional as F

from autograder.compare import CheckFailed, binomial_bound, expect, expect_like, expect_tensor, inputs
from autograder.errors import StudentCodeError, StudentFailure
from hw4_dropout import FORBIDDEN

# num_inputs, num_outputs, num_hiddens1, num_hiddens2: all different, so each Linear is known by its shape.
SMALL = (20, 5, 16, 12)
LARGE = (20, 10, 300, 200)


def build(student, sizes, dropout1, dropout2):
    """The student's network, checked to be an nn.Module with the right number of parameters."""
    num_inputs, num_outputs, h1, h2 = sizes
    net = student.DropoutMLP(num_inputs, num_outputs, h1, h2, dropout1, dropout2)
    where = f"DropoutMLP({num_inputs}, {num_outputs}, {h1}, {h2}, {dropout1}, {dropout2})"
    info = net.describe() if hasattr(net, "describe") else {"kind": type(net).__name__}
    expect(info.get("kind") == "module", "DropoutMLP(...) builds an nn.Module", inputs=where,
           expected="an nn.Module", got=info.get("type", info.get("kind", "?")),
           hint="class DropoutMLP(nn.Module) whose forward returns the logits")
    want = num_inputs * h1 + h1 + h1 * h2 + h2 + h2 * num_outputs + num_outputs
    known = {num_inputs * h2 + h2 + h2 * h1 + h1 + h1 * num_outputs + num_outputs:
             "the hidden sizes are swapped: the first hidden layer has num_hiddens2 units and the second num_hiddens1",
             want - (h1 + h2 + num_outputs): "the Linear layers have no bias (bias=False)"}
    expect(info["num_parameters"] == want, "the network has the parameters of its three Linear layers",
           inputs=where, expected=f"{want} parameters", got=f"{info['num_parameters']}",
           mistake=known.get(info["num_parameters"]),
           hint="Linear(num_inputs, num_hiddens1), Linear(num_hiddens1, num_hiddens2), "
                "Linear(num_hiddens2, num_outputs), with biases; dropout and ReLU learn nothing")
    return net, where


def forward(net, X):
    """net(X) in the worker, with PyTorch's dropout forbidden while it runs. A network that raises on image-shaped
    input but runs on the same input flattened is told that it does not flatten."""
    call = net.method("__call__", forbidden=FORBIDDEN["DropoutMLP"], label="DropoutMLP")
    try:
        return call(X)
    except StudentCodeError as exc:
        if X.dim() <= 2:
            raise
        try:
            call(X.reshape(X.shape[0], -1))
        except StudentFailure:
            raise exc from None
        raise CheckFailed("the network takes image-shaped input (n, 1, h, w)", inputs(X=X),
                          f"DropoutMLP raised {exc.type}: {exc.text}", "flatten first: X.reshape(X.shape[0], -1) "
                          "or nn.Flatten() as the first layer",
                          "the input is not flattened: the network runs on X.reshape(n, -1) but not on X") from None


def logits(net, X, num_outputs, where):
    return expect_like(forward(net, X), "the network returns one row of logits per example",
                       shape=(X.shape[0], num_outputs), dtype=X.dtype, device=X.device, inputs=where,
                       hint="flatten the input first (nn.Flatten() or X.reshape(X.shape[0], -1))")


def linear_layers(net, sizes, where):
    """The three (weight, bias) pairs, found in the state_dict by their shapes."""
    num_inputs, num_outputs, h1, h2 = sizes
    state = net.call("state_dict")
    expect(isinstance(state, dict), "the network has a state_dict of tensors", inputs=where,
           expected="a dict", got=type(state).__name__, hint="do not override state_dict")
    layers = []
    for rows, cols, name in [(h1, num_inputs, "Linear(num_inputs, num_hiddens1)"),
                             (h2, h1, "Linear(num_hiddens1, num_hiddens2)"),
                             (num_outputs, h2, "Linear(num_hiddens2, num_outputs)")]:
        keys = [k for k, v in state.items() if isinstance(k, str) and k.endswith("weight")
                and isinstance(v, torch.Tensor) and tuple(v.shape) == (rows, cols)]
        expect(len(keys) == 1, f"the network holds one {name}", inputs=where,
               expected=f"one weight of shape ({rows}, {cols})", got=f"{len(keys)}",
               hint="use nn.Linear for the three layers")
        bias = state.get(keys[0][:-len("weight")] + "bias")
        expect(isinstance(bias, torch.Tensor) and tuple(bias.shape) == (rows,), f"{name} has a bias",
               inputs=where, expected=f"a bias of shape ({rows},)", got="none", hint="nn.Linear has bias=True")
        layers.append((state[keys[0]], bias))
    return layers


def plain_mlp(X, layers, relu=True):
    """What the network computes without dropout."""
    H = X.reshape(X.shape[0], -1)
    for i, (weight, bias) in enumerate(layers):
        H = F.linear(H, weight.to(X), bias.to(X))
        if relu and i < len(layers) - 1:
            H = F.relu(H)
    return H


def kind(call: dict) -> str:
    """A recorded layer's kind: any class with "dropout" in its name (the student's own) counts as Dropout."""
    name = str(call.get("type", ""))
    return "Dropout" if "dropout" in name.lower() else name


def dropout_calls(calls: list) -> list[dict]:
    return [c for c in calls if isinstance(c, dict) and kind(c) == "Dropout"]


@pytest.mark.points(5)
def test_structure(student, device):
    """Does a forward pass go Linear, Dropout(dropout1), Linear, Dropout(dropout2), Linear, from a flattened input
    (or, with dropout_layer called in forward instead of Dropout layers, three Linear with dropout between)?"""
    net, where = build(student, SMALL, 0.2, 0.5)
    linear_layers(net, SMALL, where)
    recorder = student.construct("toolbox.hw4_dropout.CallRecorder", net)
    net = net.call("to", device)
    X = torch.randn(8, 1, 4, 5, device=device)
    logits(net, X, SMALL[1], where + ", " + inputs(X=X))
    calls = recorder.attr("calls")
    expect(isinstance(calls, list), "the layers called in a forward pass can be listed", inputs=where,
           expected="a list", got=type(calls).__name__, hint="build the network from nn.Module layers")
    order = [kind(c) for c in calls if isinstance(c, dict) and kind(c) in ("Linear", "Dropout")]
    if "Dropout" not in order:  # d2l 4.6's Net: dropout_layer called in forward, no Dropout modules
        functional_structure(net, X, order, where)
        return
    want = ["Linear", "Dropout", "Linear", "Dropout", "Linear"]
    expect(order == want, "the layers run in the order Linear, Dropout, Linear, Dropout, Linear", inputs=where,
           expected=", ".join(want), got=", ".join(map(str, order)) or "no Linear or Dropout layers called",
           mistake={(*want, "Dropout"): "dropout after the output layer",
                    ("Dropout", "Linear", "Linear", "Dropout", "Linear"):
                    "dropout1 is applied to the input X, before the first Linear, instead of to its output",
                    ("Linear", "Dropout", "Dropout", "Linear", "Linear"):
                    "both Dropout layers come after the first hidden layer"}.get(tuple(order)),
           hint="after each hidden Linear and its ReLU put one of your Dropout layers (Dropout(dropout1), then "
                "Dropout(dropout2)); nothing after the last Linear")
    rates = [c.get("p") for c in dropout_calls(calls)]
    if all(isinstance(r, float) for r in rates):
        expect(rates == [0.2, 0.5], "the first Dropout has p = dropout1 and the second p = dropout2", inputs=where,
               expected="p = 0.2 then p = 0.5", got=" then ".join(f"p = {r}" for r in rates),
               mistake="dropout1 and dropout2 swapped" if rates == [0.5, 0.2] else None,
               hint="Dropout(dropout1) after the first hidden layer, Dropout(dropout2) after the second")


def functional_structure(net, X, order, where):
    """Without Dropout modules, the three Linear layers in order and some dropout between them in training
    mode: where it acts, and at which rates, the exact cases of test_training_mode_drops_the_hidden_units judge."""
    want = ["Linear", "Linear", "Linear"]
    expect(order == want, "the layers run in the order Linear, Linear, Linear (dropout between them)",
           inputs=where, expected=", ".join(want), got=", ".join(map(str, order)) or "no Linear layers called",
           hint="three nn.Linear layers, applied in order")
    first, second = logits(net, X, SMALL[1], where), logits(net, X, SMALL[1], where)
    expect(not torch.equal(first, second), "dropout acts between the layers in training mode", inputs=where,
           expected="two different outputs (new dropout masks)", got="the same output twice",
           mistake="no dropout in training mode: neither Dropout layers nor dropout_layer in forward",
           hint="after each hidden layer's ReLU: H = dropout_layer(H, dropout1) if self.training, or a Dropout layer")


@pytest.mark.points(6)
def test_eval_mode_is_the_plain_mlp(student, ref, device, dtype):
    """In eval mode, is the output deterministic and equal to relu(relu(X W1^T + b1) W2^T + b2) W3^T + b3?"""
    net, where = build(student, SMALL, 0.5, 0.5)
    net = net.call("to", device)
    if dtype == torch.float64:
        net = net.call("double")
    net.call("eval")
    X = torch.randn(32, 1, 4, 5, dtype=dtype, device=device)
    where = f"{where} after .eval(), " + inputs(X=X)
    first = logits(net, X, SMALL[1], where)
    second = logits(net, X, SMALL[1], where)
    expect(torch.equal(first, second), "in eval mode two forward passes agree", inputs=where,
           expected="the same logits twice", got="different logits", mistake="dropout is applied in eval mode too",
           hint="your Dropout layers must return X unchanged when not self.training (net.eval() sets it)")
    layers = linear_layers(net, SMALL, where)
    expect_tensor(first, ref.mlp_from_state(X, [(w.to(X), b.to(X)) for w, b in layers]),
                  "in eval mode the network is the MLP without dropout", inputs=where,
                  mistakes={"no ReLU after the hidden layers": lambda: plain_mlp(X, layers, relu=False)},
                  hint="flatten, then Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear")


@pytest.mark.points(6)
def test_training_mode_drops_the_hidden_units(student, device):
    """In training mode: random outputs; dropout1 = 1 empties the first hidden layer, dropout2 = 1 the second?"""
    X = torch.randn(16, 1, 4, 5, device=device)
    net, where = build(student, SMALL, 0.5, 0.5)
    net = net.call("to", device)
    where = where + ", " + inputs(X=X)
    first, second = logits(net, X, SMALL[1], where), logits(net, X, SMALL[1], where)
    plain = plain_mlp(X, linear_layers(net, SMALL, where))
    expect(not torch.equal(first, second), "in training mode two forward passes differ", inputs=where,
           expected="different logits (new dropout masks)", got="the same logits twice",
           mistake="no dropout in training mode" if torch.allclose(first, plain, atol=1e-5) else None,
           hint="a new network is in training mode: your Dropout layers must call dropout_layer then")

    for rates in [(1.0, 0.0), (0.0, 1.0), (0.0, 0.0)]:
        net, where = build(student, SMALL, *rates)
        net = net.call("to", device)
        where = where + " in training mode, " + inputs(X=X)
        (W1, b1), (W2, b2), (W3, b3) = linear_layers(net, SMALL, where)
        only_b2 = (F.linear(F.relu(b2), W3, b3)).expand(len(X), -1)  # the first hidden layer all dropped
        only_b3 = b3.expand(len(X), -1)  # the second hidden layer all dropped
        expected = {(1.0, 0.0): only_b2, (0.0, 1.0): only_b3, (0.0, 0.0): plain_mlp(X, [(W1, b1), (W2, b2), (W3, b3)])}
        swapped = {(1.0, 0.0): only_b3, (0.0, 1.0): only_b2}
        on_input = F.linear(F.relu(F.linear(F.relu(b1), W2, b2)), W3, b3).expand(len(X), -1)  # X all dropped
        mistakes = {"dropout1 and dropout2 swapped": swapped.get(rates), "dropout after the output layer":
                    torch.zeros_like(only_b3) if rates == (0.0, 1.0) else None,
                    "dropout1 is applied to the input X, before the first Linear, instead of to its output":
                    on_input if rates == (1.0, 0.0) else None}
        expect_tensor(logits(net, X, SMALL[1], where), expected[rates],
                      f"with dropout1 = {rates[0]} and dropout2 = {rates[1]} the output is known exactly",
                      inputs=where, mistakes={k: v for k, v in mistakes.items() if v is not None},
                      hint="Dropout(dropout1) right after the first hidden layer's ReLU, Dropout(dropout2) after "
                           "the second's, nothing after the output layer")


@pytest.mark.points(3)
def test_each_dropout_layer_drops_its_own_rate(student, device):
    """In training mode, does the first Dropout drop a fraction dropout1 of its units and the second dropout2?"""
    net, where = build(student, LARGE, 0.2, 0.7)
    recorder = student.construct("toolbox.hw4_dropout.CallRecorder", net)
    net = net.call("to", device)
    X = torch.randn(64, 1, 4, 5, device=device)
    where = where + " in training mode, " + inputs(X=X)
    logits(net, X, LARGE[1], where)
    calls = recorder.attr("calls")
    layers = dropout_calls(calls) if isinstance(calls, list) else []
    if not all(isinstance(c, dict) and isinstance(c.get("live"), int) for c in layers):
        layers = []
    # Without Dropout modules (test_structure says so) the rates show only in the exact cases of the
    # training-mode test; here there is nothing more to measure.
    for layer, p, name in zip(layers, (0.2, 0.7), ("first", "second")):
        live, zeroed = layer["live"], layer.get("zeroed", 0)
        low, high = binomial_bound(live, p)
        expect(low <= zeroed <= high, f"the {name} Dropout layer drops a fraction {p} of its units", inputs=where,
               expected=f"about {p} of {live} nonzero units zeroed", got=f"{zeroed / max(live, 1):.3f}",
               mistake="dropout1 and dropout2 swapped" if binomial_bound(live, 0.9 - p)[0] <= zeroed
               <= binomial_bound(live, 0.9 - p)[1] else None,
               hint="Dropout(dropout1) after the first hidden layer, Dropout(dropout2) after the second")

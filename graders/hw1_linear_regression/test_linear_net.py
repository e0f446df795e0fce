"""linear_net(num_inputs) -> nn.Sequential(nn.Linear(num_inputs, 1)), weight ~ N(0, 0.01^2), bias 0."""
import pytest
import torch

from autograder.compare import expect, expect_tensor, inputs, mean_bound, std_bound


def build(student, num_inputs):
    """The student's net, checked to be nn.Sequential(nn.Linear(num_inputs, 1)) before anything uses it."""
    net = student.linear_net(num_inputs)
    where = f"num_inputs = {num_inputs}"
    info = net.describe() if hasattr(net, "describe") else {"kind": type(net).__name__}
    expect(info.get("kind") == "module", "linear_net returns an nn.Module", inputs=where,
           expected="an nn.Sequential", got=info.get("type", info.get("kind", "?")))
    expect(info["type"] == "Sequential", "the model is an nn.Sequential", inputs=where, expected="Sequential",
           got=info["type"], hint="nn.Sequential(nn.Linear(num_inputs, 1))",
           mistake="a bare nn.Linear was returned, not wrapped in an nn.Sequential" if info["type"] == "Linear"
           else None)
    expect(info["children"] == [["0", "Linear"]], "it holds exactly one nn.Linear", inputs=where,
           expected="[Linear]", got=str([c[1] for c in info["children"]]))
    shapes = {name: shape for name, shape, *_ in info["parameters"]}
    outputs = (shapes.get("0.weight") or [None])[0]
    expect(shapes == {"0.weight": [1, num_inputs], "0.bias": [1]}, "the layer maps num_inputs features to 1",
           inputs=where, expected=f"weight [1, {num_inputs}] and bias [1]", got=str(shapes),
           mistake=f"the layer has {outputs} outputs where linear regression has one: nn.Linear(num_inputs, 1)"
           if outputs not in (None, 1) and shapes.get("0.weight") == [outputs, num_inputs] else None)
    return net


@pytest.mark.points(4)
def test_structure(student):
    """Is it an nn.Sequential holding one nn.Linear(num_inputs, 1)?"""
    for num_inputs in (2, 7):
        build(student, num_inputs)


@pytest.mark.points(3)
def test_initialisation(student):
    """Is the weight drawn from N(0, 0.01^2) and the bias zero?"""
    weights = []
    for _ in range(10):
        net = build(student, 200)
        state = net.call("state_dict")
        weights.append(state["0.weight"].flatten())
        expect(float(state["0.bias"].abs().sum()) == 0.0, "the bias starts at 0", inputs="num_inputs = 200",
               expected="0", got=str(state["0.bias"].tolist()), mistake="the bias keeps nn.Linear's default init",
               hint="net[0].bias.data.fill_(0)")
    w = torch.cat(weights)
    std = float(w.std())
    default = abs(std - (1 / 600) ** 0.5) < 0.005
    expect(abs(std - 0.01) < std_bound(0.01, w.numel()) and abs(float(w.mean())) < 0.002,
           "the weight starts from N(0, 0.01^2)", inputs="10 nets with num_inputs = 200",
           expected="standard deviation 0.01", got=f"{std:.5f}",
           mistake="the weight keeps nn.Linear's default init (uniform)" if default else
           f"the weight is drawn with standard deviation {std:.3g}, not 0.01"
           if abs(std - 0.01) >= std_bound(0.01, w.numel()) and abs(float(w.mean())) < mean_bound(std, w.numel())
           else None,
           hint="net[0].weight.data.normal_(0, 0.01)")


@pytest.mark.points(3)
def test_forward(student, device):
    """Does the network compute X @ weight.T + bias on the inputs' device?"""
    net = build(student, 3)
    net = net.call("to", device)
    X = torch.randn(5, 3, device=device)
    state = net.call("state_dict")
    expect_tensor(net(X), X @ state["0.weight"].T + state["0.bias"], "net(X) = X @ weight.T + bias",
                  inputs=inputs(X=X))

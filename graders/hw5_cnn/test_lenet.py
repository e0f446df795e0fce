"""lenet() -> d2l's LeNet as one nn.Sequential: 61,706 parameters; layers read from the module and a forward pass."""
import pytest
import torch

from autograder.compare import expect, expect_like, expect_tensor, inputs
from hw5_cnn.checks import build_module

HINT = ("nn.Sequential(nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2), "
        "nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(), nn.Linear(400, 120), "
        "nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))")
PARAMETER_SHAPES = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]


def leaf_kinds(info):
    """The kinds of the layers without children, in the module's order."""
    names = [name for name, *_ in info["modules"]]
    return [kind for name, kind, *_ in info["modules"]
            if name and not any(other.startswith(name + ".") for other in names)]


@pytest.mark.points(3)
def test_layer_kinds_and_order(student, ref):
    """Are the layers Conv2d, Sigmoid, AvgPool2d, Conv2d, Sigmoid, AvgPool2d, Flatten, Linear, Sigmoid, ..., Linear?"""
    net, info, where = build_module(student, "lenet")
    want = [kind for kind, _ in ref.LENET_LAYERS]
    got = leaf_kinds(info)
    mistake = None
    if [k.replace("MaxPool2d", "AvgPool2d") for k in got] == want and got != want:
        mistake = "max pooling instead of average pooling (d2l's LeNet averages)"
    elif [k.replace("ReLU", "Sigmoid") for k in got] == want and got != want:
        mistake = "ReLU instead of sigmoid (d2l's LeNet uses sigmoids)"
    elif got == want + ["Sigmoid"]:
        mistake = "a sigmoid after the last Linear: the network must return logits"
    expect(got == want, "LeNet's layers, in order", inputs=where, expected=", ".join(want),
           got=", ".join(got) or "(no layers)", mistake=mistake, hint=HINT)


@pytest.mark.points(2)
def test_parameter_count_and_shapes(student):
    """Does LeNet hold 61,706 parameters, with the weight and bias shapes of d2l's layers in order?"""
    _, info, where = build_module(student, "lenet")
    shapes = [tuple(shape) for _, shape, *_ in info["parameters"]]
    expect(info["num_parameters"] == 61706, "the number of parameters", inputs=where, expected="61706",
           got=str(info["num_parameters"]),
           mistake="the first convolution is not padded (then the first Linear takes 16 * 4 * 4 = 256 inputs)"
           if (256 * 120) in [a * b for a, b in (s for s in shapes if len(s) == 2)] else None, hint=HINT)
    expect(shapes == PARAMETER_SHAPES, "the parameters' shapes, in order", inputs=where,
           expected=", ".join(map(str, PARAMETER_SHAPES)), got=", ".join(map(str, shapes)), hint=HINT)


@pytest.mark.points(1)
def test_shapes_through_a_forward_pass(student, ref, device):
    """Layer by layer, do one image's outputs have d2l's shapes: 6x28x28, 6x14x14, 16x10x10, ..., 10?"""
    net, info, where = build_module(student, "lenet")
    net = net.call("to", device)
    expect(len(info["children"]) == len(ref.LENET_LAYERS), "lenet() is one flat nn.Sequential of 12 layers",
           inputs=where, expected="12 layers", got=f"{len(info['children'])}", hint=HINT)
    X = torch.rand(2, 1, 28, 28, device=device)
    H = X
    for i, (kind, shape) in enumerate(ref.LENET_LAYERS):
        H = net[i](H)
        expect_like(H, f"the output of layer {i} ({kind})", shape=(2, *shape), device=device,
                    inputs=where + ", " + inputs(X=X), hint=HINT)


@pytest.mark.points(2)
def test_forward_values(student, ref, device):
    """With its own weights, does the network compute what d2l's LeNet computes (float64)?"""
    net, _, where = build_module(student, "lenet")
    net = net.call("to", device=device, dtype=torch.float64)
    state = net.call("state_dict")
    values = [v for v in state.values() if isinstance(v, torch.Tensor)] if isinstance(state, dict) else []
    expect([tuple(v.shape) for v in values] == PARAMETER_SHAPES, "state_dict() holds the ten weights and biases",
           inputs=where, expected=", ".join(map(str, PARAMETER_SHAPES)),
           got=", ".join(str(tuple(v.shape)) for v in values), hint=HINT)
    model = ref.lenet().to(device=device, dtype=torch.float64)
    with torch.no_grad():
        for p, v in zip(model.parameters(), values):
            p.copy_(v)
    X = torch.rand(3, 1, 28, 28, dtype=torch.float64, device=device)
    with torch.no_grad():
        expected = model(X)
    expect_tensor(net(X), expected, "net(X) equals d2l's LeNet with the same weights", inputs=where + ", " +
                  inputs(X=X), mistakes={"a softmax on the output: LeNet returns logits": expected.softmax(dim=1)},
                  hint=HINT)

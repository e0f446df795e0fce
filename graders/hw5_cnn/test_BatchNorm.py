"""BatchNorm(num_features, num_dims): weight, bias, buffers running_mean and running_var; as nn.BatchNorm1d/2d."""
import pytest
import torch
from torch import nn

from autograder.compare import expect, expect_tensor, inputs
from hw5_cnn.checks import build_module

KEYS = ["bias", "running_mean", "running_var", "weight"]
HINT = ("self.weight = nn.Parameter(torch.ones(num_features)); self.bias = nn.Parameter(torch.zeros(num_features)); "
        "self.register_buffer('running_mean', torch.zeros(num_features)); "
        "self.register_buffer('running_var', torch.ones(num_features))")
FORWARD_HINT = ("forward: return batch_norm(X, self.running_mean, self.running_var, self.weight, self.bias, "
                "self.training)")


def reference_layer(num_features, num_dims, dtype, device):
    layer = nn.BatchNorm1d(num_features) if num_dims == 2 else nn.BatchNorm2d(num_features)
    return layer.to(device=device, dtype=dtype)


@pytest.mark.points(2)
def test_parameters_and_buffers(student):
    """Are weight (ones) and bias (zeros) parameters, running_mean (zeros) and running_var (ones) buffers?"""
    for num_features, num_dims in [(3, 4), (5, 2)]:
        net, info, where = build_module(student, "BatchNorm", num_features, num_dims)
        parameters = sorted(name for name, *_ in info["parameters"])
        buffers = sorted(name for name, *_ in info["buffers"])
        expect(parameters == ["bias", "weight"], "the parameters are weight and bias", inputs=where,
               expected="weight, bias", got=", ".join(parameters) or "none",
               mistake="the running statistics are nn.Parameters: the optimiser would train them"
               if "running_mean" in parameters else None, hint=HINT)
        expect(buffers == ["running_mean", "running_var"], "running_mean and running_var are buffers", inputs=where,
               expected="buffers running_mean, running_var", got=", ".join(buffers) or "no buffers",
               mistake="the running statistics are plain tensor attributes: not in the state_dict, not moved by .to()"
               if not buffers else None, hint=HINT)
        state = net.call("state_dict")
        expect(isinstance(state, dict) and sorted(state) == KEYS, "the state_dict holds the four tensors",
               inputs=where, expected=", ".join(KEYS), got=", ".join(map(str, state)) if isinstance(state, dict)
               else type(state).__name__, hint=HINT)
        for key, fill in [("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0), ("running_var", 1.0)]:
            expect_tensor(state[key], torch.full((num_features,), fill), f"{key} starts at {fill:g}", inputs=where,
                          hint=HINT)


@pytest.mark.points(3)
def test_steps_then_eval_match_pytorch(student, device, dtype):
    """Over three training steps then eval, do outputs and running statistics equal nn.BatchNorm1d's / 2d's?"""
    for num_features, num_dims, shape in [(4, 2, (10, 4)), (3, 4, (4, 3, 5, 6))]:
        net, _, where = build_module(student, "BatchNorm", num_features, num_dims)
        net = net.call("to", device=device, dtype=dtype)
        layer = reference_layer(num_features, num_dims, dtype, device)
        for step in range(4):
            if step == 3:
                net.call("eval")
                layer.eval()
            X = torch.randn(shape, dtype=dtype, device=device) * (step + 1) - step
            mode = "eval" if step == 3 else f"training step {step + 1}"
            here = f"{where}, {mode}, " + inputs(X=X)
            with torch.no_grad():
                expected = layer(X)
            expect_tensor(net(X), expected, f"the output in {mode}", inputs=here,
                          mistakes={"the batch statistics are used in eval mode (is self.training read?)":
                                    lambda: nn.functional.batch_norm(X, None, None, layer.weight, layer.bias, True)},
                          hint=FORWARD_HINT)
            state = net.call("state_dict")
            for key in ("running_mean", "running_var"):
                got = state.get(key) if isinstance(state, dict) else None
                expect_tensor(got, getattr(layer, key), f"{key} after {mode}", inputs=here,
                              hint="pass self.running_mean and self.running_var themselves: batch_norm updates them "
                                   "in place")


@pytest.mark.points(1)
def test_mode_from_self_training(student, device):
    """Does the layer follow train() and eval(), back and forth (the mode read from self.training)?"""
    net, _, where = build_module(student, "BatchNorm", 3, 2)
    net = net.call("to", device)
    layer = reference_layer(3, 2, torch.float32, device)
    for mode in ("eval", "train", "eval"):
        net.call(mode)
        getattr(layer, mode)()
        X = torch.randn(6, 3, device=device) * 2 + 1
        with torch.no_grad():
            expected = layer(X)
        expect_tensor(net(X), expected, f"the output after .{mode}()", inputs=f"{where}, " + inputs(X=X),
                      hint=FORWARD_HINT)


@pytest.mark.points(1)
def test_buffers_move_with_to(student, device):
    """Does .to(float64) (and .to(device)) move the running statistics along with the parameters?"""
    net, _, where = build_module(student, "BatchNorm", 3, 4)
    net = net.call("to", device=device, dtype=torch.float64)
    state = net.call("state_dict")
    for key in KEYS:
        value = state.get(key) if isinstance(state, dict) else None
        expect(isinstance(value, torch.Tensor) and value.dtype == torch.float64, f"{key} is float64 after "
               ".to(torch.float64)", inputs=where, expected="float64",
               got=str(getattr(value, "dtype", "missing")), hint="register the running statistics as buffers")
        meta = getattr(value, "remote_meta", None) or {}
        expect(str(meta.get("device", value.device)).split(":")[0] == device.type, f"{key} moved to {device}",
               inputs=where, expected=str(device), got=str(meta.get("device", value.device)),
               hint="register the running statistics as buffers")
    X = torch.randn(2, 3, 4, 4, dtype=torch.float64, device=device)
    got = net(X)
    expect(isinstance(got, torch.Tensor) and got.dtype == torch.float64, "the layer runs in float64",
           inputs=where + ", " + inputs(X=X), expected="a float64 tensor", got=str(getattr(got, "dtype", got)))


@pytest.mark.points(1)
def test_batch_of_one_in_eval(student, device):
    """After training steps, does eval mode handle a batch of one image with the running statistics?"""
    net, _, where = build_module(student, "BatchNorm", 2, 4)
    net = net.call("to", device)
    layer = reference_layer(2, 4, torch.float32, device)
    for _ in range(2):
        X = torch.randn(5, 2, 3, 3, device=device) * 3
        net(X)
        layer(X)
    net.call("eval")
    layer.eval()
    X = torch.randn(1, 2, 3, 3, device=device)
    with torch.no_grad():
        expected = layer(X)
    expect_tensor(net(X), expected, "the output for one image in eval mode", inputs=f"{where}, " + inputs(X=X),
                  hint=FORWARD_HINT)

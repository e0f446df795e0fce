"""init_mlp_params(num_inputs, num_hiddens, num_outputs) -> [W1, b1, W2, b2]: N(0, 0.01^2) weights, zero biases."""
import math

import pytest
import torch

from autograder.compare import binomial_bound, expect, expect_like, mean_bound, std_bound

NAMES = ("W1", "b1", "W2", "b2")


def params_of(student, num_inputs, num_hiddens, num_outputs):
    """The four parameters, checked for type, shape and dtype before anything computes with them."""
    where = f"num_inputs = {num_inputs}, num_hiddens = {num_hiddens}, num_outputs = {num_outputs}"
    params = student.init_mlp_params(num_inputs, num_hiddens, num_outputs)
    expect(isinstance(params, (list, tuple)) and len(params) == 4, "init_mlp_params returns [W1, b1, W2, b2]",
           inputs=where, expected="a list of 4 tensors",
           got=f"a {type(params).__name__}" + (f" of {len(params)}" if isinstance(params, (list, tuple)) else ""))
    shapes = [(num_inputs, num_hiddens), (num_hiddens,), (num_hiddens, num_outputs), (num_outputs,)]
    for name, p, shape in zip(NAMES, params, shapes):
        transposed = isinstance(p, torch.Tensor) and p.dim() == 2 and tuple(p.shape) == shape[::-1] != shape
        hint = "W1 is (num_inputs, num_hiddens): X @ W1 maps inputs to hidden units" if transposed else \
            "W1 (num_inputs, num_hiddens), b1 (num_hiddens,), W2 (num_hiddens, num_outputs), b2 (num_outputs,)"
        expect_like(p, f"{name} has shape {shape}", shape=shape, dtype=torch.float32, inputs=where, hint=hint)
        cls = p.remote_meta.get("cls")  # a subclass could claim anything about itself (is_leaf, requires_grad)
        expect(cls in ("Tensor", "Parameter"), f"{name} is a torch.Tensor or an nn.Parameter", inputs=where,
               expected="a plain tensor or nn.Parameter", got=f"a {cls} (a tensor subclass)",
               hint="return torch.Tensor or nn.Parameter objects")
    return params, where


@pytest.mark.points(4)
def test_shapes_and_leaves(student):
    """Are W1, b1, W2, b2 float32 of the right shapes, leaf tensors with requires_grad=True?"""
    for sizes in [(784, 256, 10), (5, 3, 2), (1, 1, 1)]:
        params, where = params_of(student, *sizes)
        for name, p in zip(NAMES, params):
            meta = p.remote_meta
            expect(bool(meta["requires_grad"]), f"{name} requires grad", inputs=where,
                   expected="requires_grad=True", got="requires_grad=False",
                   mistake="requires_grad was not set, so backward() cannot reach the parameters",
                   hint="nn.Parameter(tensor), or tensor.requires_grad_() after scaling it")
            expect(bool(meta["is_leaf"]), f"{name} is a leaf tensor", inputs=where, expected="a leaf tensor",
                   got=f"a tensor computed by {meta['grad_fn']}",
                   mistake="requires_grad=True was set before multiplying by 0.01, so the parameter is not a leaf "
                           "and its .grad stays None",
                   hint="scale first, then ask for gradients: nn.Parameter(torch.randn(...) * 0.01)")


@pytest.mark.points(4)
def test_weights_from_normal_0_001(student):
    """Are W1 and W2 drawn from N(0, 0.01^2), anew on every call?"""
    params, where = params_of(student, 784, 256, 10)
    for name, w in (("W1", params[0]), ("W2", params[2])):
        w = w.detach().double().flatten()
        n, mean, std = w.numel(), float(w.mean()), float(w.std())
        mistake = None
        if abs(std - 1) < 0.1:
            mistake = "the weights are not scaled by 0.01 (std 1)"
        elif abs(std - 0.1) < 0.01:
            mistake = "0.01 used as the variance: the standard deviation is 0.1"
        elif abs(mean - 0.005) < 0.001:
            mistake = "torch.rand draws from U(0, 1), not N(0, 1)"
        expect(abs(std - 0.01) < std_bound(0.01, n), f"{name} has standard deviation 0.01", inputs=where,
               expected="standard deviation 0.01", got=f"{std:.5f}", mistake=mistake, hint="torch.randn(...) * 0.01")
        expect(abs(mean) < mean_bound(0.01, n), f"{name} has mean 0", inputs=where, expected="mean 0",
               got=f"mean {mean:.5f}", mistake=mistake, hint="torch.randn(...) * 0.01")
        # A normal distribution puts 68.3% of its mass within one standard deviation; U(-a, a) puts 57.7%.
        inside = int((w.abs() < 0.01).sum())
        low, high = binomial_bound(n, math.erf(1 / math.sqrt(2)))
        expect(low <= inside <= high, f"{name} is normally distributed (68% within one standard deviation)",
               inputs=where, expected=f"{low / n:.3f} to {high / n:.3f} of the values within 0.01 of 0",
               got=f"{inside / n:.3f}", mistake="a uniform distribution instead of a normal one",
               hint="draw with torch.randn or torch.normal, not torch.rand")
    again, _ = params_of(student, 784, 256, 10)
    expect(not torch.equal(params[0], again[0]), "two calls draw different weights", inputs=where,
           expected="different W1", got="the same W1 twice", hint="do not fix a seed inside init_mlp_params")


@pytest.mark.points(2)
def test_biases_start_at_zero(student):
    """Are b1 and b2 zero?"""
    params, where = params_of(student, 784, 256, 10)
    for name, b in (("b1", params[1]), ("b2", params[3])):
        expect(float(b.detach().abs().sum()) == 0.0, f"{name} starts at zero", inputs=where, expected="zeros",
               got=f"values up to {float(b.detach().abs().max()):.4g}", mistake="the biases are drawn at random",
               hint="torch.zeros(num_hiddens) and torch.zeros(num_outputs)")

"""xavier_uniform_(tensor, gain=1.0): fill tensor in place from U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
import math

import pytest
import torch

from autograder.compare import binomial_bound, expect, expect_like, mean_bound

NOT_FILLED = "not in place: the tensor passed in is unchanged (was a new tensor returned instead?)"


def fans(shape):
    """PyTorch's fans: (out, in) -> (in, out); (out, in, kh, kw) -> (in * kh * kw, out * kh * kw)."""
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def wrong_bounds(shape, gain):
    """The bound a known mistake draws from, by the mistake's name; where two coincide, the first is named."""
    fan_in, fan_out = fans(shape)
    out = {}
    if gain != 1:
        out["the gain is ignored"] = math.sqrt(6 / (fan_in + fan_out))
        out["the gain is applied inside the square root: sqrt(gain * 6 / (fan_in + fan_out))"] = \
            math.sqrt(gain * 6 / (fan_in + fan_out))
    if len(shape) == 4:
        out["the fans ignore the receptive field kh * kw: fan_in = in_channels * kh * kw, fan_out = out_channels * "
            "kh * kw"] = gain * math.sqrt(6 / (shape[0] + shape[1]))
        out["the receptive field kh * kw is counted in fan_in only"] = gain * math.sqrt(6 / (fan_in + shape[0]))
    out.update({
        "sqrt(2 / (fan_in + fan_out)) used as the bound: that is xavier_normal_'s standard deviation; U(-a, a) has "
        "variance a^2 / 3, so a = sqrt(6 / (fan_in + fan_out))": gain * math.sqrt(2 / (fan_in + fan_out)),
        "sqrt(3 / (fan_in + fan_out)): the variance a^2 / 3 must be 2 / (fan_in + fan_out)":
            gain * math.sqrt(3 / (fan_in + fan_out)),
        "only fan_in used: sqrt(6 / fan_in)": gain * math.sqrt(6 / fan_in),
        "only fan_out used: sqrt(6 / fan_out)": gain * math.sqrt(6 / fan_out),
        "nn.Linear's default bound 1 / sqrt(fan_in): the tensor was not re-initialised": 1 / math.sqrt(fan_in),
    })
    return out


def name_mistake(values, shape, gain):
    """The known mistake the drawn values fit, if any: a normal distribution, or a wrong bound (within 2%)."""
    top, std = float(values.abs().max()), float(values.std())
    if top == 0:
        return NOT_FILLED
    if top > 2.2 * std:  # U(-a, a): max |x| / std = sqrt(3); a normal sample of this size reaches past 4 std
        return "drawn from a normal distribution (xavier_normal_), not from U(-a, a)"
    return next((name for name, bound in wrong_bounds(shape, gain).items() if abs(top / bound - 1) < 0.02), None)


def call(student, shape, dtype, device, *gain, requires_grad=False, **keyword_gain):
    """Fill a zero tensor that lives in the worker; return (the tensor's handle, what came back, its values)."""
    zeros = torch.zeros(shape, dtype=dtype, device=device)
    device = zeros.device  # "cuda:0" rather than "cuda", as the tensor will report it
    p = student.put(zeros, requires_grad=requires_grad)
    returned = student.xavier_uniform_.handle(p, *gain, **keyword_gain)
    values = p.get()
    gains = [f"gain = {g:g} (positional)" for g in gain] + [f"gain = {g:g}" for g in keyword_gain.values()]
    where = ", ".join([f"tensor = zeros{tuple(shape)} {str(dtype).removeprefix('torch.')} on {device}", *gains])
    expect_like(values, "the tensor keeps its shape, dtype and device", shape=shape, dtype=dtype, device=device,
                inputs=where, hint="fill the tensor in place (tensor.uniform_(-a, a)); do not replace it")
    return p, returned, values.detach(), where


def check_uniform(values, shape, gain, where):
    """The values look like n draws from U(-a, a): inside [-a, a], reaching both ends, mean 0, variance a^2 / 3."""
    fan_in, fan_out = fans(shape)
    a = gain * math.sqrt(6 / (fan_in + fan_out))
    v = values.double().flatten()
    n, mistake = v.numel(), name_mistake(values.double(), shape, gain)
    expect(float(v.abs().max()) > 0, "the tensor passed in is filled", inputs=where, expected="random values",
           got="still all zeros", mistake=mistake, hint="fill the tensor itself: tensor.uniform_(-a, a) inside "
           "`with torch.no_grad():`, then return it")
    rule = f"a = {gain:g} * sqrt(6 / ({fan_in} + {fan_out})) = {a:.5f}"
    hint = "a = gain * sqrt(6 / (fan_in + fan_out)) with PyTorch's fans; then tensor.uniform_(-a, a)"
    expect(float(v.abs().max()) <= a * (1 + 1e-6), "every value lies in [-a, a]", inputs=where,
           expected=f"|values| <= {rule}", got=f"max |value| = {float(v.abs().max()):.5f}", mistake=mistake, hint=hint)
    reach = a * (1 - 40 / n)  # the largest of n uniform draws falls short of this with probability ~e^-20
    expect(float(v.max()) >= reach and float(v.min()) <= -reach, "the values reach out to -a and a", inputs=where,
           expected=f"{rule}, values up to +-{reach:.5f}", got=f"values from {float(v.min()):.5f} to "
           f"{float(v.max()):.5f}", mistake=mistake, hint=hint)
    expect(abs(float(v.mean())) < mean_bound(a / math.sqrt(3), n), "the values have mean 0", inputs=where,
           expected="mean 0", got=f"mean {float(v.mean()):.5f}", hint="draw from U(-a, a), symmetric around 0")
    var, spread = float(v.var()), 6 * math.sqrt(4 / 45) * a ** 2 / math.sqrt(n)  # var of x^2 is 4 a^4 / 45
    expect(abs(var - a ** 2 / 3) < spread, "the variance is a^2 / 3, as for U(-a, a)", inputs=where,
           expected=f"{a ** 2 / 3:.6f}", got=f"{var:.6f}", mistake=mistake, hint=hint)
    inside = int((v.abs() < a / 2).sum())
    low, high = binomial_bound(n, 0.5)
    expect(low <= inside <= high, "the values are spread uniformly over [-a, a]", inputs=where,
           expected="half of them within a / 2 of 0", got=f"{inside / n:.3f} of them", mistake=mistake, hint=hint)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.points(6)
def test_bound_and_variance_of_a_matrix(student, device, dtype):
    """For (out, in) matrices, are the values uniform on [-a, a] with a = sqrt(6 / (in + out)) (fan_in = in)?"""
    for shape in [(300, 500), (1000, 30)]:
        _, _, values, where = call(student, shape, dtype, device)
        check_uniform(values, shape, 1.0, where)


@pytest.mark.points(4)
def test_fans_of_a_convolution_kernel(student, device):
    """For (out, in, kh, kw) kernels, do the fans count the receptive field: fan_in = in*kh*kw, fan_out = out*kh*kw?"""
    for shape in [(64, 32, 3, 5), (32, 16, 5, 5)]:
        _, _, values, where = call(student, shape, torch.float32, device)
        check_uniform(values, shape, 1.0, where)


@pytest.mark.points(4)
def test_gain(student, device):
    """Does the gain multiply the bound: a = gain * sqrt(6 / (fan_in + fan_out))?"""
    for shape, gain, positional in [((200, 300), 2.0, False), ((150, 400), math.sqrt(2.0), True),
                                    ((32, 8, 3, 3), 5 / 3, False)]:
        args, kwargs = ((gain,), {}) if positional else ((), {"gain": gain})
        _, _, values, where = call(student, shape, torch.float64, device, *args, **kwargs)
        check_uniform(values, shape, gain, where)


@pytest.mark.points(3)
def test_in_place_and_returns_the_same_tensor(student, device):
    """Is the tensor filled in place and returned itself, for a plain tensor and an nn.Linear's weight?"""
    p, returned, values, where = call(student, (40, 60), torch.float32, device)
    expect(float(values.abs().max()) > 0, "the tensor passed in is filled", inputs=where, expected="random values",
           got="still all zeros", mistake=NOT_FILLED, hint="fill it in place: tensor.uniform_(-a, a)")
    same = getattr(returned, "handle", None) is not None and returned.handle.id == p.handle.id
    expect(same, "xavier_uniform_ returns the tensor it filled (the same object)", inputs=where,
           expected="the tensor passed in", got="None" if returned.type.endswith("NoneType") else
           f"another object ({returned.type.rsplit('.', 1)[-1]})", hint="end with `return tensor`",
           mistake="the tensor is filled in place but not returned (no `return tensor`)"
           if returned.type.endswith("NoneType") else None)
    linear = student.construct("torch.nn.Linear", 60, 40).call("to", device)
    weight = linear.attr("weight", handle=True)
    before = linear.call("state_dict")["weight"]
    returned = student.xavier_uniform_.handle(weight)
    where = "the weight (40, 60) of nn.Linear(60, 40)"
    expect(returned.handle.id == weight.handle.id, "xavier_uniform_ returns the weight it filled", inputs=where,
           expected="the same Parameter", got=f"another object ({returned.type.rsplit('.', 1)[-1]})",
           hint="end with `return tensor`")
    expect(not torch.equal(linear.call("state_dict")["weight"], before), "the layer's weight is filled anew",
           inputs=where, expected="new values in the layer", got="nn.Linear's initial weight, unchanged",
           mistake=NOT_FILLED, hint="fill the tensor itself: tensor.uniform_(-a, a) inside torch.no_grad()")


@pytest.mark.points(3)
def test_no_autograd_tracking(student, device):
    """On a tensor with requires_grad=True, is the tensor filled without autograd, so that it stays a leaf?"""
    p, _, values, where = call(student, (50, 70), torch.float32, device, requires_grad=True)
    where += ", requires_grad=True"
    info = p.describe()
    expect(info["requires_grad"] and info["is_leaf"] and info["grad_fn"] is None,
           "the tensor is still a leaf that requires grad", inputs=where,
           expected="requires_grad=True, is_leaf=True, no grad_fn",
           got=f"requires_grad={info['requires_grad']}, is_leaf={info['is_leaf']}, grad_fn={info['grad_fn']}",
           mistake="the initialisation was recorded by autograd", hint="fill the tensor inside `with torch.no_grad():`")
    expect(float(values.abs().max()) > 0, "the tensor is filled", inputs=where, expected="random values",
           got="still all zeros", mistake=NOT_FILLED, hint="fill it in place, inside `with torch.no_grad():`")

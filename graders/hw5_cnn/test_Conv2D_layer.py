"""Conv2D(kernel_size): an nn.Module with parameters weight (kh, kw) and bias (1,);
forward = corr2d(x, weight) + bias."""
import pytest
import torch

from autograder.compare import expect, expect_tensor, graded_alone, inputs, mean_bound
from hw5_cnn.checks import asymmetric, build_module

TASK = "Conv2D"  # not test_Conv2D.py: it would collide with test_conv2d.py on case-insensitive file systems


@pytest.mark.points(1)
def test_parameters(student):
    """Does Conv2D((kh, kw)) hold exactly two parameters, weight (kh, kw) and bias (1,), both trainable?"""
    for kernel_size in [(1, 2), (3, 2)]:
        _, info, where = build_module(student, "Conv2D", kernel_size)
        got = {name: tuple(shape) for name, shape, *_ in info["parameters"]}
        want = {"weight": kernel_size, "bias": (1,)}
        missing = [name for name in want if name not in got]
        mistake = (f"self.{missing[0]} is a plain tensor, not an nn.Parameter: the module does not register it, so "
                   "net.parameters() and the optimizer never see it" if len(got) == 1 and len(missing) == 1
                   else "the bias has the kernel's shape; a Conv2D layer has one bias, of shape (1,)"
                   if got == {"weight": kernel_size, "bias": kernel_size} and kernel_size != (1,) else None)
        expect(got == want, "the layer's parameters", inputs=where, expected=f"{want}", got=f"{got}", mistake=mistake,
               hint="self.weight = nn.Parameter(torch.rand(kernel_size)); self.bias = nn.Parameter(torch.zeros(1))")
        frozen = [name for name, _, requires_grad, *_ in info["parameters"] if not requires_grad]
        expect(not frozen, "every parameter requires grad", inputs=where, expected="requires_grad=True",
               got=f"not for {', '.join(frozen)}", hint="wrap the tensors in nn.Parameter(...)")


@pytest.mark.points(1)
def test_initialisation(student):
    """Does a new Conv2D start as d2l's does: weight drawn from U(0, 1), bias zero (the contract's init)?"""
    kernel_size = (24, 25)  # 600 weights: their range and mean tell U(0, 1) from torch.randn or a constant
    net, _, where = build_module(student, "Conv2D", kernel_size)
    state = net.call("state_dict")
    weight, bias = (state.get(k) if isinstance(state, dict) else None for k in ("weight", "bias"))
    held = sorted(state) if isinstance(state, dict) else state
    expect(isinstance(weight, torch.Tensor) and isinstance(bias, torch.Tensor), "the layer's state_dict holds "
           "weight and bias", inputs=where, expected="weight and bias", got=f"{held}",
           hint="self.weight = nn.Parameter(torch.rand(kernel_size)); self.bias = nn.Parameter(torch.zeros(1))")
    w = weight.detach().double().flatten()
    low, high, mean = float(w.min()), float(w.max()), float(w.mean())
    spread = float(w.std())
    uniform = 0 <= low and high < 1 and abs(mean - 0.5) < mean_bound((1 / 12) ** 0.5, w.numel()) and spread > 0.2
    mistake = ("the weight is drawn from N(0, 1) (torch.randn), not U(0, 1) (torch.rand)" if low < 0 and abs(mean) < 0.3
               else "the weight starts constant" if spread == 0 else None)
    expect(uniform, "the weight starts uniform on [0, 1), as d2l's torch.rand(kernel_size)", inputs=where,
           expected="values in [0, 1) with mean about 0.5", got=f"values in [{low:.3f}, {high:.3f}], mean {mean:.3f}",
           mistake=mistake, hint="self.weight = nn.Parameter(torch.rand(kernel_size))")
    expect(bool((bias.detach() == 0).all()), "the bias starts at zero", inputs=where, expected="bias = [0.]",
           got=f"bias = {bias.detach().flatten().tolist()[:4]}", hint="self.bias = nn.Parameter(torch.zeros(1))")


@pytest.mark.points(3)
def test_forward_and_gradients(student, ref, device):
    """With its weight and bias set, does forward give corr2d(x, weight) + bias, and the gradients of both?"""
    for kernel_size, x_shape in [((1, 2), (6, 8)), ((3, 2), (5, 4))]:
        net, _, where = build_module(student, "Conv2D", kernel_size)
        K = asymmetric(*kernel_size, device=device)
        b = torch.tensor([0.75], dtype=torch.float64, device=device)
        net = net.call("to", device=device, dtype=torch.float64)
        net.method("load_state_dict").handle({"weight": K, "bias": b})
        X = torch.randn(x_shape, dtype=torch.float64, device=device)
        where = f"{where} with weight K and bias {float(b)}, " + inputs(X=X, K=K)
        out = net.method("__call__").handle(X)
        got = out.get()
        # graded on its own: built on the student's corr2d where that is wrong (and charged to corr2d)
        expected = graded_alone(got, ref.corr2d(X, K) + b, lambda: student.corr2d(X, K) + b)
        expect_tensor(got, expected, "forward(x) = corr2d(x, self.weight) + self.bias", inputs=where,
                      mistakes={"the bias is not added": ref.corr2d(X, K),
                                "the kernel is flipped": ref.corr2d(X, K.flip(0, 1)) + b},
                      hint="return corr2d(x, self.weight) + self.bias")
        g = torch.randn(expected.shape, dtype=torch.float64, device=device)
        out.call("backward", g)
        weight, bias = K.clone().requires_grad_(), b.clone().requires_grad_()
        want_w, want_b = torch.autograd.grad(ref.corr2d(X, weight) + bias, [weight, bias], g)
        own = {"weight": lambda: student.corr2d.run((X, K), wrt=[1], grad_output=g).grads[0],
               "bias": lambda: g.sum().reshape(1)}
        for name, want in [("weight", want_w), ("bias", want_b)]:
            grad = net.attr(name, handle=True).attr("grad")
            expect(grad is not None, f"backward reaches self.{name}", inputs=where, expected="a gradient", got="None",
                   hint=f"use self.{name} itself in forward")
            expect_tensor(grad, graded_alone(grad, want, own[name]), f"the gradient with respect to self.{name}",
                          inputs=where)

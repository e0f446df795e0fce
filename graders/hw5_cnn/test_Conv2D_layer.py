"""Conv2D(kernel_size): an nn.Module with parameters weight (kh, kw) and bias (1,);
forward = corr2d(x, weight) + bias."""
import pytest
import torch

from autograder.compare import expect, expect_tensor, inputs
from hw5_cnn.checks import asymmetric, build_module

TASK = "Conv2D"  # not test_Conv2D.py: it would collide with test_conv2d.py on case-insensitive file systems


@pytest.mark.points(2)
def test_parameters(student):
    """Does Conv2D((kh, kw)) hold exactly two parameters, weight (kh, kw) and bias (1,), both trainable?"""
    for kernel_size in [(1, 2), (3, 2)]:
        _, info, where = build_module(student, "Conv2D", kernel_size)
        got = {name: tuple(shape) for name, shape, *_ in info["parameters"]}
        want = {"weight": kernel_size, "bias": (1,)}
        expect(got == want, "the layer's parameters", inputs=where, expected=f"{want}", got=f"{got}",
               hint="self.weight = nn.Parameter(torch.rand(kernel_size)); self.bias = nn.Parameter(torch.zeros(1))")
        frozen = [name for name, _, requires_grad, *_ in info["parameters"] if not requires_grad]
        expect(not frozen, "every parameter requires grad", inputs=where, expected="requires_grad=True",
               got=f"not for {', '.join(frozen)}", hint="wrap the tensors in nn.Parameter(...)")


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
        expected = ref.corr2d(X, K) + b
        expect_tensor(out.get(), expected, "forward(x) = corr2d(x, self.weight) + self.bias", inputs=where,
                      mistakes={"the bias is not added": ref.corr2d(X, K),
                                "the kernel is flipped": ref.corr2d(X, K.flip(0, 1)) + b},
                      hint="return corr2d(x, self.weight) + self.bias")
        g = torch.randn(expected.shape, dtype=torch.float64, device=device)
        out.call("backward", g)
        weight, bias = K.clone().requires_grad_(), b.clone().requires_grad_()
        want_w, want_b = torch.autograd.grad(ref.corr2d(X, weight) + bias, [weight, bias], g)
        for name, want in [("weight", want_w), ("bias", want_b)]:
            grad = net.attr(name, handle=True).attr("grad")
            expect(grad is not None, f"backward reaches self.{name}", inputs=where, expected="a gradient", got="None",
                   hint=f"use self.{name} itself in forward")
            expect_tensor(grad, want, f"the gradient with respect to self.{name}", inputs=where)

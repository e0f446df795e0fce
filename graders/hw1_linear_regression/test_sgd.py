"""sgd(params, lr, batch_size): in place, without autograd, p -= lr * p.grad / batch_size; zero p.grad."""
import pytest
import torch

from autograder.compare import expect, expect_tensor, inputs


def remote_params(student, values, grads):
    """Parameters living in the student's process, with the given gradients set."""
    params = []
    for value, grad in zip(values, grads):
        p = student.put(value, requires_grad=True)
        p.set("grad", grad)
        params.append(p)
    return params


def step_mistakes(value, grad, lr, batch_size):
    return {
        "the step is not divided by batch_size": value - lr * grad,
        "the gradient is added instead of subtracted": value + lr * grad / batch_size,
        "multiplied by batch_size instead of dividing": value - lr * grad * batch_size,
        "the learning rate is not applied": value - grad / batch_size,
    }


@pytest.mark.points(6)
def test_one_step(student, ref, device, dtype):
    """Does one step compute p - lr * p.grad / batch_size for every parameter?"""
    values = [torch.randn(3, 1, dtype=dtype, device=device), torch.randn(1, dtype=dtype, device=device)]
    grads = [torch.randn_like(v) for v in values]
    lr, batch_size = 0.1, 4
    params = remote_params(student, values, grads)
    student.sgd(params, lr, batch_size)
    where = inputs(params=values, lr=lr, batch_size=batch_size)
    for name, p, value, grad in zip(("w", "b"), params, values, grads):
        expect_tensor(p.get().detach(), value - lr * grad / batch_size, f"{name} after one sgd step, in place",
                      inputs=where, mistakes={**step_mistakes(value, grad, lr, batch_size),
                                              "the parameters were rebound (p = p - ...), not updated in place": value},
                      hint="update in place: p -= lr * p.grad / batch_size inside `with torch.no_grad():`")


@pytest.mark.points(4)
def test_zeroes_gradients_and_keeps_leaves(student, device):
    """Are the gradients zeroed afterwards, and the parameters still leaf tensors that require grad?"""
    values = [torch.randn(2, 2, device=device), torch.randn(1, device=device)]
    params = remote_params(student, values, [torch.ones_like(v) for v in values])
    student.sgd(params, 0.5, 2)
    where = inputs(params=values, lr=0.5, batch_size=2)
    for name, p in zip(("w", "b"), params):
        grad = p.attr("grad")
        expect(grad is None or float(grad.abs().sum()) == 0.0, f"{name}.grad is zeroed after the step",
               inputs=where, expected="zeros (or None)", got="the old gradient",
               mistake="the gradient is not zeroed, so the next step would add to it",
               hint="call p.grad.zero_() after updating p")
        info = p.describe()
        expect(info["requires_grad"] and info["is_leaf"] and info["grad_fn"] is None,
               f"{name} is still a leaf tensor that requires grad", inputs=where,
               expected="requires_grad=True, no grad_fn", got=f"requires_grad={info['requires_grad']}, "
               f"grad_fn={info['grad_fn']}", mistake="the update was recorded by autograd",
               hint="wrap the update in `with torch.no_grad():`")


@pytest.mark.points(5)
def test_several_steps(student, ref, device):
    """Do five steps with changing gradients and batch sizes follow the reference exactly?"""
    values = [torch.randn(4, 3, dtype=torch.float64, device=device),
              torch.randn(3, 1, dtype=torch.float64, device=device),
              torch.randn(1, dtype=torch.float64, device=device)]
    params = [student.put(v, requires_grad=True) for v in values]
    expected = [v.clone().requires_grad_() for v in values]
    for step, (lr, batch_size) in enumerate([(0.1, 10), (0.03, 7), (1.0, 1), (0.5, 3), (0.01, 256)]):
        grads = [torch.randn_like(v) for v in values]
        for p, e, g in zip(params, expected, grads):
            p.set("grad", g)
            e.grad = g.clone()
        student.sgd(params, lr, batch_size)
        ref.sgd(expected, lr, batch_size)
        for p, e in zip(params, expected):
            expect_tensor(p.get().detach(), e.detach(), f"the parameters after step {step + 1} of 5",
                          inputs=inputs(lr=lr, batch_size=batch_size, param=e))

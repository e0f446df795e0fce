"""SGD(params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False): equal to torch.optim.SGD.

Every check replays one plan of gradients in the student's optimizer (in the worker, each step
monitored for torch.optim's own optimizers) and in torch.optim.SGD, and compares every step.
"""
import pytest
import torch

from hw6_optimizers.checks import (
    check_closure,
    check_defaults,
    check_grad_and_leaves,
    check_groups_missing_grads_and_lr,
    check_options,
    check_state_dict_round_trip,
)

OPTIONS = [
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    {"lr": 0.05, "weight_decay": 0.2},
    {"lr": 0.03, "momentum": 0.7, "dampening": 0.2, "weight_decay": 0.1},
    {"lr": 0.03, "momentum": 0.6, "nesterov": True, "weight_decay": 0.3},
]


@pytest.mark.points(3)
def test_plain_sgd_matches_torch_on_cpu_and_device(student, ref, device, dtype):
    """With only lr given (no momentum), does SGD follow torch.optim.SGD for 20 steps, on the CPU and the device?"""
    for where in dict.fromkeys([torch.device("cpu"), device]):
        check_defaults(student, ref, "SGD", dtype, where, required={"lr": 0.1})


@pytest.mark.points(5)
def test_every_option_matches_torch(student, ref, device, dtype):
    """With momentum, dampening, Nesterov and weight decay, alone and together, does SGD follow torch.optim.SGD?"""
    check_options(student, ref, "SGD", OPTIONS, dtype, device)


@pytest.mark.points(4)
def test_two_groups_missing_gradients_and_changed_lr(student, ref, device, dtype):
    """Two param groups with their own lr and options, a grad left None at some steps, lr changed between steps?"""
    groups = [{"params": [0, 2], "lr": 0.05, "momentum": 0.9, "dampening": 0.1},
              {"params": [1], "momentum": 0.5, "nesterov": True, "weight_decay": 0.1}]
    check_groups_missing_grads_and_lr(student, ref, "SGD", groups, {"lr": 0.1}, dtype, device)


@pytest.mark.points(2)
def test_step_leaves_grad_and_parameters_alone(student, ref, device):
    """Does step keep each parameter the same leaf tensor of its dtype and leave p.grad unchanged (with weight decay;
    also for a single step on a 0-d parameter in float32 without weight decay, and with lr = 0)?"""
    check_grad_and_leaves(student, ref, "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.5}, torch.float64,
                          device)


@pytest.mark.points(2)
def test_closure_and_state_dict_round_trip(student, ref, device):
    """Does step(closure) return the loss, and does state_dict() restore the momentum buffers in a new optimizer?"""
    options = {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}
    check_closure(student, ref, "SGD", options, torch.float64, device)
    check_state_dict_round_trip(student, ref, "SGD", options, torch.float64, device)

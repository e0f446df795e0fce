"""RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0): equal to torch.optim.RMSprop.

Every check replays one plan of gradients in the student's optimizer (in the worker, each step
monitored for torch.optim's own optimizers) and in torch.optim.RMSprop, and compares every step.
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
    check_tiny_gradients,
)

OPTIONS = [
    {"lr": 0.003, "alpha": 0.9},
    {"lr": 0.003, "momentum": 0.8},
    {"lr": 0.003, "weight_decay": 0.2},
    {"lr": 0.002, "eps": 1e-3},
    {"lr": 0.005, "alpha": 0.8, "eps": 1e-6, "weight_decay": 0.1, "momentum": 0.5},
]


@pytest.mark.points(2)
def test_defaults_match_torch_on_cpu_and_device(student, ref, device, dtype):
    """With every default, does RMSprop follow torch.optim.RMSprop for 20 steps, on the CPU and the run's device?"""
    for where in dict.fromkeys([torch.device("cpu"), device]):
        check_defaults(student, ref, "RMSprop", dtype, where)


@pytest.mark.points(3)
def test_every_option_matches_torch(student, ref, device, dtype):
    """With each option changed, alone and together, does RMSprop follow torch.optim.RMSprop for 20 steps?"""
    check_options(student, ref, "RMSprop", OPTIONS, dtype, device)


@pytest.mark.points(2)
def test_tiny_gradients_show_where_epsilon_sits(student, ref, device, dtype):
    """With gradients of 1e-8, where epsilon sets the step size, does RMSprop still follow torch.optim.RMSprop?"""
    check_tiny_gradients(student, ref, "RMSprop", {"lr": 0.01, "alpha": 0.9}, dtype, device)


@pytest.mark.points(2)
def test_two_groups_missing_gradients_and_changed_lr(student, ref, device, dtype):
    """Two param groups with their own lr and options, a grad left None at some steps, lr changed between steps?"""
    groups = [{"params": [0, 2], "lr": 0.005, "alpha": 0.9, "momentum": 0.5},
              {"params": [1], "weight_decay": 0.1}]
    check_groups_missing_grads_and_lr(student, ref, "RMSprop", groups, {"lr": 0.01}, dtype, device)


@pytest.mark.points(1)
def test_step_leaves_grad_and_parameters_alone(student, ref, device):
    """Does step keep each parameter the same leaf tensor of its dtype and leave p.grad unchanged (with weight decay;
    also for a single step on a 0-d parameter in float32 without weight decay, and with lr = 0)?"""
    check_grad_and_leaves(student, ref, "RMSprop", {"lr": 0.01, "weight_decay": 0.5, "momentum": 0.5}, torch.float64,
                          device)


@pytest.mark.points(2)
def test_closure_and_state_dict_round_trip(student, ref, device):
    """Does step(closure) return the loss, and does state_dict() carry the state into a new optimizer?"""
    options = {"lr": 0.01, "momentum": 0.5}
    check_closure(student, ref, "RMSprop", options, torch.float64, device)
    check_state_dict_round_trip(student, ref, "RMSprop", options, torch.float64, device)

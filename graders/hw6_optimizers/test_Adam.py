"""Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0): equal to torch.optim.Adam.

Every check replays one plan of gradients in the student's optimizer (in the worker, each step
monitored for torch.optim's own optimizers) and in torch.optim.Adam, and compares every step.
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
    {"lr": 0.01},
    {"lr": 0.01, "betas": (0.8, 0.99)},
    {"lr": 0.01, "eps": 1e-3},
    {"lr": 0.01, "weight_decay": 0.2},
    {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-6, "weight_decay": 0.1},
]


@pytest.mark.points(3)
def test_defaults_match_torch_on_cpu_and_device(student, ref, device, dtype):
    """With every default, does Adam follow torch.optim.Adam for 20 steps, on the CPU and the run's device?"""
    for where in dict.fromkeys([torch.device("cpu"), device]):
        check_defaults(student, ref, "Adam", dtype, where)


@pytest.mark.points(4)
def test_every_option_matches_torch(student, ref, device, dtype):
    """With each option changed, alone and together, does Adam follow torch.optim.Adam for 20 steps?"""
    check_options(student, ref, "Adam", OPTIONS, dtype, device)


@pytest.mark.points(3)
def test_tiny_gradients_show_where_epsilon_sits(student, ref, device, dtype):
    """With gradients of 1e-8, where epsilon sets the step size, does Adam still follow torch.optim.Adam?"""
    check_tiny_gradients(student, ref, "Adam", {"lr": 0.01}, dtype, device)


@pytest.mark.points(3)
def test_two_groups_missing_gradients_and_changed_lr(student, ref, device, dtype):
    """Two param groups with their own lr and options, a grad left None at some steps, lr changed between steps?"""
    groups = [{"params": [0, 2], "lr": 0.02, "betas": (0.8, 0.99)},
              {"params": [1], "eps": 1e-4, "weight_decay": 0.1}]
    check_groups_missing_grads_and_lr(student, ref, "Adam", groups, {"lr": 0.01}, dtype, device)


@pytest.mark.points(1)
def test_step_leaves_grad_and_parameters_alone(student, ref, device):
    """Does step keep each parameter the same leaf tensor of its dtype and leave p.grad unchanged (with weight decay;
    also for a single step on a 0-d parameter in float32 without weight decay, and with lr = 0)?"""
    check_grad_and_leaves(student, ref, "Adam", {"lr": 0.01, "weight_decay": 0.5}, torch.float64, device)


@pytest.mark.points(2)
def test_closure_and_state_dict_round_trip(student, ref, device):
    """Does step(closure) return the loss, and does state_dict() carry the state into a new optimizer?"""
    options = {"lr": 0.05}
    check_closure(student, ref, "Adam", options, torch.float64, device)
    check_state_dict_round_trip(student, ref, "Adam", options, torch.float64, device)

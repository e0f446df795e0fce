"""cosine_annealing(t, base_lr, total_steps, min_lr=0.0): min_lr + (base_lr - min_lr) * (1 + cos(pi t / T)) / 2
for t <= T (CosineAnnealingLR), then min_lr."""
import math

import pytest
import torch

from hw6_optimizers.schedules import expect_schedule, torch_scheduler_lrs, values


def _cos(t, base, total, low):
    return low + (base - low) * (1 + math.cos(math.pi * t / total)) / 2


MISTAKES = {
    "pi is missing: cos(t / total_steps) instead of cos(pi * t / total_steps)":
        lambda a: a[3] if a[0] >= a[2] else a[3] + (a[1] - a[3]) * (1 + math.cos(a[0] / a[2])) / 2,
    "the / 2 is missing: (1 + cos(...)) runs from 2 to 0, so the schedule starts at twice base_lr":
        lambda a: a[3] + (a[1] - a[3]) * (1 + math.cos(math.pi * a[0] / a[2])),
    "min_lr is ignored: the cosine goes down to 0": lambda a: _cos(min(a[0], a[2]), a[1], a[2], 0.0),
    "min_lr is added on top: min_lr + base_lr * (1 + cos) / 2 instead of min_lr + (base_lr - min_lr) * ...":
        lambda a: a[3] + a[1] * (1 + math.cos(math.pi * min(a[0], a[2]) / a[2])) / 2,
    "after total_steps the cosine keeps going (it climbs back up, as PyTorch's periodic scheduler does); the "
    "contract stays at min_lr": lambda a: _cos(a[0], a[1], a[2], a[3]),
    "t counts from 1: the schedule is one step late": lambda a: _cos(min(a[0] + 1, a[2]), a[1], a[2], a[3]),
}
HINT = ("min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2 while t <= total_steps, "
        "min_lr after")


@pytest.mark.points(3)
def test_boundaries_start_middle_end_and_after(student, ref):
    """Is it base_lr at t = 0, the midpoint at T / 2, min_lr at t = T and min_lr ever after (T = 20, 7)?"""
    for base, total, low in [(0.1, 20, 0.01), (1.0, 7, 0.25)]:
        args = [(t, base, total, low) for t in (0, 1, total // 2, total - 1, total, total + 1, total + 5, 3 * total)]
        expect_schedule("cosine_annealing", args, values(student, "cosine_annealing", args),
                        [ref.cosine_annealing(*a) for a in args], MISTAKES, HINT)


@pytest.mark.points(3)
def test_agrees_with_torch_cosineannealinglr_up_to_total(student):
    """From t = 0 to T = 30, does it give the learning rate torch.optim.lr_scheduler.CosineAnnealingLR sets?"""
    base, total, low = 0.3, 30, 0.02
    lrs = torch_scheduler_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, total, low), base, total + 1)
    args = [(t, base, total, low) for t in range(total + 1)]
    expect_schedule("cosine_annealing", args, values(student, "cosine_annealing", args), lrs, MISTAKES, HINT,
                    what="cosine_annealing against CosineAnnealingLR")


@pytest.mark.points(2)
def test_min_lr_defaults_to_zero(student, ref):
    """Without min_lr, does the schedule end at 0 at t = T and stay there?"""
    args = [(t, 0.5, 10) for t in (0, 3, 5, 9, 10, 11, 40)]
    mistakes = {"after total_steps the cosine keeps going; it must stay at min_lr":
                lambda a: _cos(a[0], a[1], a[2], 0.0)}
    expect_schedule("cosine_annealing", args, values(student, "cosine_annealing", args),
                    [ref.cosine_annealing(*a) for a in args], mistakes, HINT + "; min_lr defaults to 0.0")

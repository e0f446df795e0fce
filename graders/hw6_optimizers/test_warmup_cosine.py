"""warmup_cosine(t, base_lr, warmup_steps, total_steps, min_lr=0.0): base_lr * (t + 1) / W for t < W; a cosine
from base_lr at t = W to min_lr at t = T; min_lr after."""
import math

import pytest

from hw6_optimizers.schedules import expect_schedule, values


def _cos(t, base, total, low):
    return low + (base - low) * (1 + math.cos(math.pi * t / total)) / 2


def _right_cosine(a, shift_total=True):
    t, base, warm, total, low = a
    return _cos(min(t - warm, total - warm), base, total - warm, low) if t >= warm else base * (t + 1) / warm


MISTAKES = {
    "the warm-up starts at 0: base_lr * t / warmup_steps; it is base_lr * (t + 1) / warmup_steps, reaching "
    "base_lr at t = warmup_steps - 1": lambda a: a[1] * a[0] / a[2] if a[0] < a[2] else _right_cosine(a),
    "the cosine counts t from 0 instead of from warmup_steps (use t - warmup_steps)":
        lambda a: _right_cosine(a) if a[0] < a[2] else _cos(min(a[0], a[3]), a[1], a[3], a[4]),
    "the cosine spans total_steps instead of total_steps - warmup_steps (it does not reach min_lr at total_steps)":
        lambda a: _right_cosine(a) if a[0] < a[2] else _cos(a[0] - a[2], a[1], a[3], a[4]) if a[0] <= a[3] else a[4],
    "after total_steps the cosine keeps going; it must stay at min_lr":
        lambda a: _right_cosine(a) if a[0] <= a[3] else _cos(a[0] - a[2], a[1], a[3] - a[2], a[4]),
    "min_lr is ignored: the cosine goes down to 0":
        lambda a: _right_cosine((a[0], a[1], a[2], a[3], 0.0)),
}
HINT = ("t < W: base_lr * (t + 1) / W; W <= t <= T: min_lr + (base_lr - min_lr) * (1 + cos(pi * (t - W) / (T - W))) "
        "/ 2; t > T: min_lr")


@pytest.mark.points(3)
def test_linear_warmup_reaches_base_lr_at_warmup_minus_one(student, ref):
    """During the warm-up, is the rate base_lr * (t + 1) / W: base_lr / W at t = 0 and base_lr at t = W - 1?"""
    for base, warm, total in [(0.1, 5, 30), (1.0, 1, 4), (0.4, 10, 11)]:
        args = [(t, base, warm, total, 0.0) for t in range(warm)]
        expect_schedule("warmup_cosine", args, values(student, "warmup_cosine", args),
                        [ref.warmup_cosine(*a) for a in args], MISTAKES, HINT)


@pytest.mark.points(4)
def test_cosine_from_warmup_to_total(student, ref):
    """From t = W to T, is it a cosine from base_lr to min_lr: base_lr at W, the midpoint halfway, min_lr at T?"""
    for base, warm, total, low in [(0.1, 5, 25, 0.01), (2.0, 3, 10, 0.5)]:
        args = [(t, base, warm, total, low) for t in range(total + 1)]
        expect_schedule("warmup_cosine", args, values(student, "warmup_cosine", args),
                        [ref.warmup_cosine(*a) for a in args], MISTAKES, HINT)


@pytest.mark.points(3)
def test_after_total_stays_at_min_lr_which_defaults_to_zero(student, ref):
    """After T, does it stay at min_lr, with min_lr = 0 by default (also at t = T itself)?"""
    args = [(t, 0.3, 4, 12, 0.05) for t in (12, 13, 20, 100)]
    expect_schedule("warmup_cosine", args, values(student, "warmup_cosine", args),
                    [ref.warmup_cosine(*a) for a in args], MISTAKES, HINT)
    plain = [(t, 0.3, 4, 12) for t in (0, 3, 4, 8, 12, 13, 50)]
    expect_schedule("warmup_cosine", plain, values(student, "warmup_cosine", plain),
                    [ref.warmup_cosine(*a) for a in plain], {}, HINT + "; min_lr defaults to 0.0")

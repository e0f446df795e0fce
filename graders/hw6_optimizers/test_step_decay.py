"""step_decay(t, base_lr, step_size, gamma=0.1) = base_lr * gamma ** (t // step_size), as StepLR."""
import pytest
import torch

from hw6_optimizers.schedules import expect_schedule, torch_scheduler_lrs, values

MISTAKES = {
    "t / step_size is not floored: a smooth exponential decay instead of steps (use t // step_size)":
        lambda a: a[1] * a[3] ** (a[0] / a[2]),
    "the decay comes one step early: (t + 1) // step_size; t counts from 0":
        lambda a: a[1] * a[3] ** ((a[0] + 1) // a[2]),
    "gamma * (t // step_size) instead of gamma ** (t // step_size)": lambda a: a[1] * a[3] * (a[0] // a[2]),
    "the exponent is t itself, not t // step_size": lambda a: a[1] * a[3] ** a[0],
}
HINT = "base_lr * gamma ** (t // step_size): the rate is multiplied by gamma once every step_size steps"


@pytest.mark.points(3)
def test_steps_down_by_gamma_every_step_size_steps(student, ref):
    """Is step_decay base_lr * gamma ** (t // step_size) at every step from 0 to 30, for several step sizes?"""
    for base, size, gamma in [(0.1, 3, 0.5), (1.0, 1, 0.9), (0.05, 7, 0.3)]:
        args = [(t, base, size, gamma) for t in range(31)]
        expect_schedule("step_decay", args, values(student, "step_decay", args),
                        [ref.step_decay(*a) for a in args], MISTAKES, HINT)


@pytest.mark.points(1)
def test_gamma_defaults_to_one_tenth(student, ref):
    """Without gamma, does the rate drop tenfold every step_size steps?"""
    args = [(t, 0.5, 4) for t in range(13)]
    got = values(student, "step_decay", args)
    implied = got[4] / got[0] if len(got) > 4 and isinstance(got[0], float) and got[0] == 0.5 else None
    other = {} if implied is None or abs(implied - 0.1) < 1e-12 else {
        f"gamma defaults to {implied:.4g}, not 0.1 (StepLR's default)":
        lambda a: a[1] * implied ** (a[0] // a[2])}
    expect_schedule("step_decay", args, got, [ref.step_decay(*a) for a in args],
                    other, "def step_decay(t, base_lr, step_size, gamma=0.1): gamma defaults to 0.1")


@pytest.mark.points(2)
def test_agrees_with_torch_steplr(student):
    """Does step_decay give the learning rate torch.optim.lr_scheduler.StepLR sets before each of 40 steps?"""
    base, size, gamma = 0.2, 5, 0.7
    lrs = torch_scheduler_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, size, gamma), base, 40)
    args = [(t, base, size, gamma) for t in range(40)]
    expect_schedule("step_decay", args, values(student, "step_decay", args), lrs, MISTAKES, HINT,
                    what="step_decay against StepLR")

"""set_seed(seed): seeds Python's random, NumPy and torch (CPU and CUDA) so that two runs give identical results.

The grader seeds with the student's ``set_seed``, draws a few numbers from every global generator in
the worker (``toolbox.random_draws``), moves the generators on, seeds again and draws again.
"""
import pytest
import torch

from autograder.compare import describe, expect

HINTS = {
    "python": "call random.seed(seed)",
    "numpy": "call np.random.seed(seed): np.random.default_rng(seed) makes a new generator and leaves the global "
             "one (which np.random.rand and friends use) unseeded",
    "torch": "call torch.manual_seed(seed)",
    "cuda": "call torch.cuda.manual_seed_all(seed) (torch.manual_seed seeds the GPUs too)",
}
NAMES = {"python": "Python's random", "numpy": "NumPy's global generator", "torch": "torch's CPU generator",
         "cuda": "torch's CUDA generator"}


def draws_after(student, seed):
    student.function("set_seed", timeout=30)(seed)
    got = student.construct("toolbox.random_draws").get()
    expect(isinstance(got, dict), "the generators can be read after set_seed", expected="numbers",
           got=describe(got), hint="set_seed should only seed the generators")
    return got


def same(a, b):
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and torch.equal(a.cpu(), b.cpu())
    return a == b


@pytest.mark.points(3)
def test_does_seeding_twice_repeat_every_generator(student, seed):
    """After set_seed(s) twice, do Python's random, NumPy and torch (and CUDA, on a GPU) draw the same numbers?"""
    s = seed % 10_000
    first = draws_after(student, s)
    student.construct("toolbox.random_draws")  # the generators move on meanwhile, as in a real run
    second = draws_after(student, s)
    for key in ("python", "numpy", "torch", "cuda"):
        if first.get(key) is None and second.get(key) is None:
            continue  # no GPU here
        expect(same(first.get(key), second.get(key)), f"set_seed seeds {NAMES[key]}",
               inputs=f"set_seed({s}), draws, more draws, set_seed({s}), draws",
               expected="the same draws after each set_seed", got="different draws",
               mistake=f"{NAMES[key]} is not seeded", hint=HINTS[key])


@pytest.mark.points(2)
def test_do_different_seeds_give_different_numbers(student, seed):
    """Do set_seed(s) and set_seed(s + 1) give different numbers (the seed is used, not a constant)?"""
    s = seed % 10_000
    first, second = draws_after(student, s), draws_after(student, s + 1)
    for key in ("python", "numpy", "torch"):
        expect(not same(first.get(key), second.get(key)), f"set_seed uses its argument for {NAMES[key]}",
               inputs=f"set_seed({s}) against set_seed({s + 1})", expected="different draws",
               got="the same draws", mistake="the seed argument is ignored (a fixed seed is used)",
               hint="pass `seed` itself to every generator's seed function")

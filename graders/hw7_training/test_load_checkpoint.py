"""load_checkpoint(path, model, optimizer=None, scheduler=None) -> epoch: training resumed from a checkpoint
continues exactly (bit for bit) as if it had never stopped, a shuffling DataLoader and dropout included.

The grader trains in the worker with a plain loop of its own (``toolbox.run_epoch``), so only the
student's save_checkpoint and load_checkpoint are under test: 4 epochs straight, against 2 epochs, a
checkpoint, the generators moved on, fresh objects, load_checkpoint and 2 more epochs.
"""
import pytest
import torch

from autograder.compare import describe, expect, read_number
from hw7_training.checks import (
    CKPT_WHERE,
    SECONDS,
    data,
    expect_identical,
    expect_state,
    shuffling_loader,
    state_dict_of,
    train_epochs,
    training_setup,
)

PATH = "checkpoint.pt"
HINT = ("restore everything save_checkpoint stored: model.load_state_dict, optimizer.load_state_dict, "
        "scheduler.load_state_dict, random.setstate, np.random.set_state, torch.set_rng_state (a CPU ByteTensor: "
        "load with map_location='cpu') and torch.cuda.set_rng_state_all; return the epoch")


def save_after(student, device, seed, epochs, X, y):
    run = training_setup(student, device, seed)
    train_epochs(student, run, shuffling_loader(student, X, y), device, epochs)
    student.function("save_checkpoint", timeout=SECONDS)(PATH, run["model"], run["optimizer"], epochs,
                                                         run["scheduler"])
    return run


def fresh(student, device, seed):
    """New objects after the generators moved on, as in a new process."""
    student.construct("toolbox.random_draws", 50)
    return training_setup(student, device, seed + 1)


def load(student, run):
    return student.function("load_checkpoint", timeout=SECONDS)(PATH, run["model"], run["optimizer"],
                                                                run["scheduler"])


@pytest.mark.points(8)
def test_does_a_resumed_run_match_the_uninterrupted_one_bit_for_bit(student, device, seed):
    """Do 2 epochs, a checkpoint, load_checkpoint into fresh objects and 2 more epochs equal 4 epochs straight?"""
    s = seed % 10_000
    X, y = data(40, torch.device("cpu"), torch.float32)
    where = f"{CKPT_WHERE}; 4 epochs straight against 2 + checkpoint + load into fresh objects + 2"
    straight = training_setup(student, device, s)
    train_epochs(student, straight, shuffling_loader(student, X, y), device, 4)
    want = straight["model"].call("state_dict")

    save_after(student, device, s, 2, X, y)
    resumed = fresh(student, device, s)
    load(student, resumed)
    train_epochs(student, resumed, shuffling_loader(student, X, y), device, 2)
    got = state_dict_of(resumed["model"], "resumed model", where)
    for name, value in want.items():
        expect(name in got, "the resumed model has the same parameters", inputs=where, expected=name, got="none")
        expect_identical(got[name], value, "the resumed run's weights equal the uninterrupted run's, bit for bit",
                         where=where, hint=HINT)
    lr = resumed["optimizer"].attr("param_groups")[0]["lr"]
    expect(lr == straight["optimizer"].attr("param_groups")[0]["lr"], "the resumed schedule is where it should be",
           inputs=where, expected=f"lr {straight['optimizer'].attr('param_groups')[0]['lr']:.6g}", got=f"lr {lr:.6g}",
           mistake="the scheduler's state is not restored", hint=HINT)


@pytest.mark.points(3)
def test_does_it_return_the_epoch_and_restore_the_weights(student, device, seed):
    """Does load_checkpoint put the saved weights into a fresh model and return the saved epoch?"""
    s = seed % 10_000
    X, y = data(40, torch.device("cpu"), torch.float32)
    run = save_after(student, device, s, 3, X, y)
    saved = run["model"].call("state_dict")
    resumed = fresh(student, device, s)
    where = f"{CKPT_WHERE}; saved after epoch 3, loaded into a fresh model"
    epoch = load(student, resumed)
    expect(epoch is not None, "load_checkpoint returns the epoch", inputs=where, expected="3", got="None",
           mistake="load_checkpoint returns nothing (no return statement): the caller cannot tell where to resume",
           hint=HINT)
    expect(read_number(epoch, "load_checkpoint returns the epoch", inputs=where, integer=True) == 3,
           "load_checkpoint returns the saved epoch", inputs=where, expected="3", got=describe(epoch), hint=HINT)
    expect_state(state_dict_of(resumed["model"], "model", where), saved, "the model holds the saved weights",
                 where=where, exact=True, hint=HINT)


@pytest.mark.points(2)
def test_does_it_restore_the_optimizer_and_the_scheduler(student, device, seed):
    """Does load_checkpoint restore the optimizer's momentum buffers and the scheduler's position?"""
    s = seed % 10_000
    X, y = data(40, torch.device("cpu"), torch.float32)
    run = save_after(student, device, s, 2, X, y)
    want_opt, want_sched = run["optimizer"].call("state_dict"), run["scheduler"].call("state_dict")
    resumed = fresh(student, device, s)
    where = f"{CKPT_WHERE}; saved after epoch 2, loaded into fresh objects"
    load(student, resumed)
    got_opt = resumed["optimizer"].call("state_dict")
    want_buffers = {str(k): v["momentum_buffer"] for k, v in want_opt["state"].items()}
    got_state = got_opt.get("state") if isinstance(got_opt, dict) else None
    got_buffers = {str(k): v.get("momentum_buffer") for k, v in (got_state or {}).items() if isinstance(v, dict)}
    expect(set(got_buffers) == set(want_buffers), "the optimizer's state is restored", inputs=where,
           expected=f"momentum buffers for {len(want_buffers)} parameters", got=f"{len(got_buffers)}",
           mistake="the optimizer's state is not restored (optimizer.load_state_dict missing)", hint=HINT)
    expect_state(got_buffers, want_buffers, "the optimizer's momentum buffers are restored", where=where, exact=True,
                 hint=HINT)
    got_sched = resumed["scheduler"].call("state_dict")
    expect(isinstance(got_sched, dict) and got_sched.get("last_epoch") == want_sched["last_epoch"],
           "the scheduler's position is restored", inputs=where, expected=f"last_epoch {want_sched['last_epoch']}",
           got=f"last_epoch {got_sched.get('last_epoch') if isinstance(got_sched, dict) else describe(got_sched)}",
           mistake="the scheduler's state is not restored (scheduler.load_state_dict missing)", hint=HINT)


@pytest.mark.points(2)
def test_does_it_restore_every_random_generator(student, device, seed):
    """After load_checkpoint, do Python's random, NumPy and torch draw what they drew right after the save?"""
    s = seed % 10_000
    X, y = data(40, torch.device("cpu"), torch.float32)
    save_after(student, device, s, 1, X, y)
    after_save = student.construct("toolbox.random_draws").get()
    resumed = fresh(student, device, s)
    load(student, resumed)
    after_load = student.construct("toolbox.random_draws").get()
    where = f"{CKPT_WHERE}; draws right after the save, against draws right after loading into fresh objects"
    names = {"python": "Python's random", "numpy": "NumPy's generator", "torch": "torch's CPU generator",
             "cuda": "torch's CUDA generators"}
    for key, name in names.items():
        a, b = after_save.get(key), after_load.get(key)
        same = torch.equal(a.cpu(), b.cpu()) if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) else a == b
        expect(same, f"load_checkpoint restores {name}", inputs=where, expected="the same draws",
               got="different draws", mistake=f"{name}'s state is not saved or not restored", hint=HINT)

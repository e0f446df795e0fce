"""save_checkpoint(path, model, optimizer, epoch, scheduler=None): the model's, optimizer's and scheduler's
states, the epoch and the random generators' states, in a file that loads with torch.load(weights_only=True).

The grader reads the file's bytes back and loads them in its own process with weights_only=True: a
checkpoint that needs pickle's full power (a whole module, a NumPy array) fails there, as it would for
anyone loading it safely.
"""
import io

import pytest
import torch

from autograder.compare import describe, expect
from hw7_training.checks import CKPT_WHERE, SECONDS, data, shuffling_loader, train_epochs, training_setup

PATH = "checkpoint.pt"
HINT = ("store only plain data: {'epoch': epoch, 'model': model.state_dict(), 'optimizer': optimizer.state_dict(), "
        "'scheduler': scheduler.state_dict(), and the generators' states (random.getstate(), NumPy's state with its "
        "array turned into a list, torch.get_rng_state(), torch.cuda.get_rng_state_all())}")


def saved(student, device, seed):
    """Train one epoch (so the optimizer has momentum buffers), save with the student's function, read it back."""
    run = training_setup(student, device, seed % 10_000)
    X, y = data(40, torch.device("cpu"), torch.float32)
    train_epochs(student, run, shuffling_loader(student, X, y), device, 1)
    student.function("save_checkpoint", timeout=SECONDS)(PATH, run["model"], run["optimizer"], 1, run["scheduler"])
    raw = student.construct("toolbox.file_bytes", PATH).get()
    expect(isinstance(raw, torch.Tensor) and raw.numel() > 0, "save_checkpoint writes a file at the path it is given",
           inputs=f"path = {PATH!r}; {CKPT_WHERE}", expected="a non-empty file", got=describe(raw),
           hint="torch.save(checkpoint, path)")
    try:
        loaded = torch.load(io.BytesIO(raw.numpy().tobytes()), map_location="cpu", weights_only=True)
    except Exception as exc:  # the student's file: any failure to load safely is theirs
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        expect(False, "the checkpoint loads with torch.load(path, weights_only=True)",
               inputs=f"{CKPT_WHERE}; saved after epoch 1", expected="plain data (tensors, numbers, lists, dicts)",
               got=f"{type(exc).__name__}: {first}",
               mistake="the checkpoint holds objects weights_only=True refuses (a NumPy array, a module, an "
                       "optimizer object)" if "weights_only" in str(exc) or "global" in str(exc) else None,
               hint=HINT)
    return loaded, run


def tensors_in(value, found=None):
    found = [] if found is None else found
    if isinstance(value, torch.Tensor):
        found.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            tensors_in(v, found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            tensors_in(v, found)
    return found


@pytest.mark.points(3)
def test_does_the_checkpoint_load_with_weights_only(student, device, seed):
    """Does the file save_checkpoint writes load with torch.load(..., weights_only=True)?"""
    saved(student, device, seed)


@pytest.mark.points(2)
def test_does_the_checkpoint_hold_the_model_and_the_optimizer(student, device, seed):
    """Does the checkpoint hold the model's weights, the optimizer's momentum buffers and torch's generator state?"""
    loaded, run = saved(student, device, seed)
    stored = tensors_in(loaded)

    def present(t):
        t = t.detach().cpu()
        return any(s.shape == t.shape and s.dtype == t.dtype and torch.equal(s, t) for s in stored)

    where = f"{CKPT_WHERE}; saved after epoch 1"
    for name, t in run["model"].call("state_dict").items():
        expect(present(t), "the checkpoint holds the model's weights", inputs=where,
               expected=f"a tensor equal to model.state_dict()['{name}']", got="none", hint=HINT,
               mistake="the model's state_dict() is not saved")
    buffers = [s.get("momentum_buffer") for s in run["optimizer"].call("state_dict")["state"].values()]
    expect(all(isinstance(b, torch.Tensor) and present(b) for b in buffers) and buffers,
           "the checkpoint holds the optimizer's state (its momentum buffers)", inputs=where,
           expected="optimizer.state_dict() saved", got="no momentum buffers in the file", hint=HINT,
           mistake="the optimizer's state_dict() is not saved")
    expect(present(student.construct("torch.get_rng_state").get()),
           "the checkpoint holds torch's random generator state", inputs=where,
           expected="torch.get_rng_state() saved", got="no such tensor in the file", hint=HINT,
           mistake="torch's generator state is not saved, so the resumed run shuffles and drops out differently")

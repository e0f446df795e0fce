"""fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, scheduler=None, patience=None) -> history.

One dict per epoch run (epoch from 1, train_loss, train_accuracy, val_loss, val_accuracy, lr: the learning rate that
epoch trained with); scheduler.step() once per epoch after the epoch's optimizer steps; early stopping once
val_accuracy has gone `patience` epochs in a row without a strictly higher value; on return the model holds the
weights of its best epoch (the earliest on a tie). The student's fit runs the student's train_one_epoch and
evaluate; the grader replays the same run with the reference here (fixed batches, known weights) and compares.
"""
import copy

import pytest
import torch

from autograder.compare import describe, expect, expect_number, read_number
from gradeworker import toolbox
from hw7_training.checks import (
    SECONDS,
    classifier_pair,
    data,
    expect_state,
    local_classifier,
    state_dict_of,
    weights,
)

KEYS = {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"}
N_TRAIN, N_VAL, BATCH = 40, 10, 16  # training batches of 16, 16 and 8
HINT = ("for epoch in 1..epochs: lr = optimizer.param_groups[0]['lr']; train = train_one_epoch(...); "
        "scheduler.step() if there is one; val = evaluate(model, val_loader, ...); append the dict; keep "
        "copy.deepcopy(model.state_dict()) when val_accuracy is strictly higher than the best so far; stop once "
        "`patience` epochs in a row brought no improvement; finally model.load_state_dict(best)")


def history_of(got, epochs, where):
    """The returned history, checked to be a list of dicts of numbers with the contract's keys."""
    expect(isinstance(got, list) and all(isinstance(h, dict) for h in got), "fit returns a list of dicts",
           inputs=where, expected="one dict per epoch", got=describe(got), hint="return the list of per-epoch dicts")
    for h in got:
        expect(set(h) == KEYS, "each epoch's dict has exactly the contract's keys", inputs=where,
               expected=", ".join(sorted(KEYS)), got=", ".join(sorted(map(str, h))), hint=HINT)
        for key in KEYS:
            read_number(h[key], f"the history's '{key}' is a number", inputs=where,
                        hint="store Python numbers (loss.item(), float(...)), not tensors")
    return got


def setup(student, device, *, lr, seed_data=None):
    Xt, yt = data(N_TRAIN, torch.device("cpu"))
    Xv, yv = data(N_VAL, torch.device("cpu"))
    state = weights(device, scale=1.0)
    return Xt, yt, Xv, yv, state


def run_student(student, device, Xt, yt, Xv, yv, state, *, lr, epochs, patience=None, step_lr=None):
    remote, _ = classifier_pair(student, state, device)
    opt = student.construct("torch.optim.SGD", remote.method("parameters").handle(), lr=lr, timeout=SECONDS)
    scheduler = None
    if step_lr is not None:
        scheduler = student.construct("torch.optim.lr_scheduler.StepLR", opt, step_size=1, gamma=step_lr)
    got = student.function("fit", timeout=SECONDS)(
        remote, student.construct("toolbox.Batches", Xt, yt, BATCH),
        student.construct("toolbox.Batches", Xv, yv, BATCH),
        student.construct("torch.nn.CrossEntropyLoss"), opt, epochs, device, scheduler=scheduler, patience=patience)
    return got, remote, opt


def run_reference(ref, device, Xt, yt, Xv, yv, state, *, lr, epochs, patience=None, step_lr=None):
    net = local_classifier(state, device)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=step_lr) if step_lr is not None else None
    history = ref.fit(net, toolbox.Batches(Xt, yt, BATCH), toolbox.Batches(Xv, yv, BATCH), torch.nn.CrossEntropyLoss(),
                      opt, epochs, device, scheduler=scheduler, patience=patience)
    return history, net, opt


def trajectory(ref, device, Xt, yt, Xv, yv, state, *, lr, epochs):
    """Each epoch's val_accuracy and the weights after it, training without early stopping."""
    net = local_classifier(state, device)
    opt, loss_fn = torch.optim.SGD(net.parameters(), lr=lr), torch.nn.CrossEntropyLoss()
    accuracies, states = [], []
    for _ in range(epochs):
        ref.train_one_epoch(net, toolbox.Batches(Xt, yt, BATCH), loss_fn, opt, device)
        accuracies.append(ref.evaluate(net, toolbox.Batches(Xv, yv, BATCH), loss_fn, device)["accuracy"])
        states.append(copy.deepcopy(net.state_dict()))
    return accuracies, states


def stopping(accuracies, patience, *, strict=True, late=0):
    """(epochs run, best epoch) under a stopping rule: the contract's, `>=` (strict=False), or one epoch late."""
    best, best_epoch, waited = None, 0, 0
    for epoch, acc in enumerate(accuracies, start=1):
        if best is None or acc > best or (not strict and acc == best):
            best, best_epoch, waited = acc, epoch, 0
        else:
            waited += 1
            if patience is not None and waited >= patience + late:
                return epoch, best_epoch
    return len(accuracies), best_epoch


# ----- the history and the scheduler ------------------------------------------------------------------------
LR, GAMMA, EPOCHS = 0.2, 0.5, 3


@pytest.mark.points(4)
def test_is_the_history_one_dict_per_epoch(student, ref, device):
    """Does fit return one dict per epoch, with the contract's keys and epochs counting from 1?"""
    Xt, yt, Xv, yv, state = setup(student, device, lr=LR)
    where = (f"{EPOCHS} epochs, a linear classifier, SGD(lr={LR}), {N_TRAIN} training and {N_VAL} validation examples, "
             "no scheduler, patience=None")
    got, _, _ = run_student(student, device, Xt, yt, Xv, yv, state, lr=LR, epochs=EPOCHS)
    history = history_of(got, EPOCHS, where)
    expect(len(history) == EPOCHS, "without patience, fit runs every epoch", inputs=where,
           expected=f"{EPOCHS} dicts", got=f"{len(history)}", hint=HINT)
    epochs = [h["epoch"] for h in history]
    expect(epochs == list(range(1, EPOCHS + 1)), "epochs count from 1", inputs=where,
           expected=str(list(range(1, EPOCHS + 1))), got=str(epochs),
           mistake="the epochs count from 0" if epochs == list(range(EPOCHS)) else None,
           hint="for epoch in range(1, epochs + 1)")


@pytest.mark.points(5)
def test_is_the_scheduler_stepped_once_per_epoch(student, ref, device):
    """With StepLR(step_size=1, gamma=0.5): does each epoch record the lr it trained with, one step per epoch?"""
    Xt, yt, Xv, yv, state = setup(student, device, lr=LR)
    where = (f"{EPOCHS} epochs of 3 batches, SGD(lr={LR}), scheduler = StepLR(step_size=1, gamma={GAMMA}), "
             "patience=None")
    got, remote, opt = run_student(student, device, Xt, yt, Xv, yv, state, lr=LR, epochs=EPOCHS, step_lr=GAMMA)
    history = history_of(got, EPOCHS, where)
    lrs = [h["lr"] for h in history]
    want = [LR * GAMMA ** e for e in range(EPOCHS)]
    close = len(lrs) == len(want) and all(abs(a - b) <= 1e-12 * max(1.0, abs(b)) for a, b in zip(lrs, want))
    mistake = None
    if len(lrs) == EPOCHS and lrs == [LR * GAMMA ** (e + 1) for e in range(EPOCHS)]:
        mistake = "the lr was read after scheduler.step(), so each epoch records the next epoch's rate"
    elif len(lrs) == EPOCHS and lrs == [LR * GAMMA ** (3 * e) for e in range(EPOCHS)]:
        mistake = "scheduler.step() is called once per batch instead of once per epoch"
    elif len(lrs) == EPOCHS and all(a == LR for a in lrs):
        mistake = "scheduler.step() is never called"
    expect(close, "each epoch's 'lr' is the learning rate it trained with", inputs=where, expected=str(want),
           got=str(lrs), mistake=mistake, hint=HINT)
    final = opt.attr("param_groups")[0]["lr"]
    expect_number(final, LR * GAMMA ** EPOCHS, "after fit the scheduler has stepped once per epoch", inputs=where,
                  mistakes={"scheduler.step() is called once per batch instead of once per epoch": LR * GAMMA ** 9},
                  hint="call scheduler.step() once per epoch, after train_one_epoch")


@pytest.mark.points(3)
def test_do_the_recorded_values_match_the_reference(student, ref, device):
    """Do each epoch's losses and accuracies, and the final weights, match the reference's run?"""
    Xt, yt, Xv, yv, state = setup(student, device, lr=LR)
    where = f"{EPOCHS} epochs, SGD(lr={LR}), StepLR(step_size=1, gamma={GAMMA}), patience=None"
    got, remote, _ = run_student(student, device, Xt, yt, Xv, yv, state, lr=LR, epochs=EPOCHS, step_lr=GAMMA)
    history = history_of(got, EPOCHS, where)
    want, net, _ = run_reference(ref, device, Xt, yt, Xv, yv, state, lr=LR, epochs=EPOCHS, step_lr=GAMMA)
    expect(len(history) == len(want), "fit runs every epoch", inputs=where, expected=f"{len(want)} epochs",
           got=str(len(history)), hint=HINT)
    for h, w in zip(history, want):
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            expect_number(h[key], w[key], f"epoch {w['epoch']}'s {key}", inputs=where, scale=1000,
                          mistakes={"training and validation are swapped": w[key.replace("train", "x").replace(
                              "val", "train").replace("x", "val")]} if "loss" in key else None, hint=HINT)
    expect_state(state_dict_of(remote, "model", where), net.state_dict(), "the final weights equal the reference's",
                 where=where, hint=HINT)


# ----- early stopping and the best weights --------------------------------------------------------------------
E_LR, E_EPOCHS, PATIENCE = 1.0, 10, 2


def early_stopping_case(ref, device):
    """Data on which the rule matters: a stop before the last epoch, a later tie with the best, best != last."""
    for _ in range(400):
        Xt, yt = data(N_TRAIN, torch.device("cpu"))
        Xv, yv = data(N_VAL, torch.device("cpu"))
        state = weights(device, scale=1.0)
        accuracies, states = trajectory(ref, device, Xt, yt, Xv, yv, state, lr=E_LR, epochs=E_EPOCHS)
        run, best = stopping(accuracies, PATIENCE)
        loose_run, loose_best = stopping(accuracies, PATIENCE, strict=False)
        all_best = stopping(accuracies, None)[1]
        all_loose = stopping(accuracies, None, strict=False)[1]
        if run < E_EPOCHS - 1 and loose_best != best and best != run and all_loose != all_best and all_best != E_EPOCHS:
            return Xt, yt, Xv, yv, state, accuracies, states
    raise RuntimeError("no early-stopping case found")  # a grader problem, never the student's


@pytest.mark.points(5)
def test_does_early_stopping_stop_and_restore_the_best_epoch(student, ref, device):
    """With patience=2, does fit stop after 2 epochs without a strictly higher val_accuracy and restore the best?"""
    Xt, yt, Xv, yv, state, accuracies, states = early_stopping_case(ref, device)
    run, best = stopping(accuracies, PATIENCE)
    where = (f"up to {E_EPOCHS} epochs, SGD(lr={E_LR}), patience={PATIENCE}; the reference's val_accuracy per epoch: "
             f"{[round(a, 2) for a in accuracies[:run + 1]]}...")
    got, remote, _ = run_student(student, device, Xt, yt, Xv, yv, state, lr=E_LR, epochs=E_EPOCHS, patience=PATIENCE)
    history = history_of(got, E_EPOCHS, where)
    loose_run, loose_best = stopping(accuracies, PATIENCE, strict=False)
    mistake = None
    if len(history) == stopping(accuracies, PATIENCE, late=1)[0]:
        mistake = "the run stops one epoch late (patience counted off by one)"
    elif len(history) == loose_run:
        mistake = "a val_accuracy equal to the best resets the patience (>= instead of >)"
    elif len(history) == E_EPOCHS:
        mistake = "patience is ignored: no early stopping"
    expect(len(history) == run, f"fit stops after {PATIENCE} epochs in a row without a strictly higher val_accuracy",
           inputs=where, expected=f"{run} epochs (best at epoch {best})", got=f"{len(history)} epochs",
           mistake=mistake, hint=HINT)
    expect_state(state_dict_of(remote, "model", where), states[best - 1],
                 f"the model holds the weights of its best epoch ({best}) on return", where=where, hint=HINT,
                 mistakes={"the best weights were not restored, or were kept with state_dict() without copying "
                           "(its tensors are the live parameters): copy.deepcopy(model.state_dict())":
                           lambda: states[run - 1],
                           "a later epoch with equal val_accuracy replaced the best one (>= instead of >)":
                           lambda: states[loose_best - 1]})


@pytest.mark.points(3)
def test_does_it_restore_the_best_epoch_without_patience(student, ref, device):
    """With patience=None, does fit run every epoch and still return the model of its best (earliest) epoch?"""
    Xt, yt, Xv, yv, state, accuracies, states = early_stopping_case(ref, device)
    best, loose = stopping(accuracies, None)[1], stopping(accuracies, None, strict=False)[1]
    where = (f"{E_EPOCHS} epochs, SGD(lr={E_LR}), patience=None; the reference's val_accuracy per epoch: "
             f"{[round(a, 2) for a in accuracies]}")
    got, remote, _ = run_student(student, device, Xt, yt, Xv, yv, state, lr=E_LR, epochs=E_EPOCHS)
    history = history_of(got, E_EPOCHS, where)
    expect(len(history) == E_EPOCHS, "without patience, fit runs every epoch", inputs=where,
           expected=f"{E_EPOCHS} epochs", got=f"{len(history)}", hint=HINT)
    expect_state(state_dict_of(remote, "model", where), states[best - 1],
                 f"the model holds the weights of its best epoch ({best}, the earliest of the highest)", where=where,
                 hint=HINT,
                 mistakes={"the best weights were not restored, or were kept with state_dict() without copying "
                           "(its tensors are the live parameters): copy.deepcopy(model.state_dict())":
                           lambda: states[-1],
                           "the latest of the epochs with the highest val_accuracy was kept (>= instead of >)":
                           lambda: states[loose - 1]})

"""train_one_epoch(model, loader, loss_fn, optimizer, device) -> {"loss": ..., "accuracy": ...}.

model.train(); per batch: to(device), zero_grad, forward, mean batch loss, backward, step. The loss is the
per-example mean over the epoch (each batch weighted by its size), the accuracy the fraction correct. The
weights start known and the batches come in a fixed order (50 examples in batches of 16, 16, 16 and 2),
so the grader replays the epoch with the reference in its own process and compares.
"""
import pytest
import torch

from autograder.compare import describe, expect, expect_number
from gradeworker import toolbox
from gradeworker.toolbox import ModeSensitive
from hw7_training.checks import (
    LOOP_HINT,
    SECONDS,
    classifier_pair,
    data,
    expect_loop_general_rules,
    expect_state,
    local_classifier,
    state_dict_of,
    summary,
    weights,
)

N, BATCH, LR, MOMENTUM = 50, 16, 0.5, 0.5


class RecordingLoss:
    """nn.CrossEntropyLoss() noting each batch's (mean loss, correct, size) in the reference run."""

    def __init__(self):
        self.loss, self.record = torch.nn.CrossEntropyLoss(), []

    def __call__(self, logits, y):
        value = self.loss(logits, y)
        self.record.append((float(value.detach()), int((logits.argmax(dim=1) == y).sum()), len(y)))
        return value


def where_text(model="a linear classifier (nn.Module)"):
    return (f"model = {model}, loader = {N} examples in batches of {BATCH} (the last holds {N % BATCH}), "
            f"loss_fn = nn.CrossEntropyLoss(), optimizer = SGD(lr={LR}, momentum={MOMENTUM})")


def wrong_epoch(state, X, y, device, *, zero_grad=True, zero_between=False):
    """The weights one mistaken epoch leaves (computed only when a check fails)."""
    def run():
        net = local_classifier(state, device)
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
        loss_fn = torch.nn.CrossEntropyLoss()
        for Xb, yb in toolbox.Batches(X, y, BATCH):
            Xb, yb = Xb.to(device), yb.to(device)
            if zero_grad and not zero_between:
                opt.zero_grad()
            loss = loss_fn(net(Xb), yb)
            loss.backward()
            if zero_between:
                opt.zero_grad()
            opt.step()
        return net.state_dict()
    return run


def run_epoch(student, ref, device, *, probe=False):
    """The student's epoch in the worker and the reference's here, from the same weights and batches."""
    X, y = data(N, torch.device("cpu"))  # batches stay on the CPU: moving them to `device` is the loop's job
    state = weights(device)
    remote, local = classifier_pair(student, state, device)
    if probe:  # right only in training mode with autograd on
        remote, local = student.construct("toolbox.ModeSensitive", remote, True), ModeSensitive(local, True)
        remote.call("eval")  # as an evaluation would leave it: train_one_epoch must switch it back
        local.eval()
    opt = student.construct("torch.optim.SGD", remote.method("parameters").handle(), lr=LR, momentum=MOMENTUM,
                            timeout=SECONDS)
    loss_fn = student.construct("torch.nn.CrossEntropyLoss")
    batches = student.construct("toolbox.Batches", X, y, BATCH)
    got = student.function("train_one_epoch", timeout=SECONDS)(remote, batches, loss_fn, opt, device)
    recorder = RecordingLoss()
    want = ref.train_one_epoch(local, toolbox.Batches(X, y, BATCH), recorder,
                               torch.optim.SGD(local.parameters(), lr=LR, momentum=MOMENTUM), device)
    return got, want, recorder.record, remote, local, state, X, y


@pytest.mark.points(5)
def test_are_the_weights_after_one_epoch_right(student, ref, device):
    """After one epoch, are the weights those of zero_grad, forward, mean loss, backward, step on every batch?"""
    got, want, record, remote, local, state, X, y = run_epoch(student, ref, device)
    mistakes = {
        "the gradients were never zeroed (optimizer.zero_grad() missing), so each step used the sum of all the "
        "gradients so far": wrong_epoch(state, X, y, device, zero_grad=False),
        "optimizer.zero_grad() sits between backward() and step(), which wipes the gradients before the step":
            wrong_epoch(state, X, y, device, zero_between=True),
    }
    expect_state(state_dict_of(remote, "model", where_text()), local.state_dict(),
                 "the weights after the epoch equal the reference's", where=where_text(), mistakes=mistakes,
                 hint=LOOP_HINT)


@pytest.mark.points(4)
def test_is_the_loss_the_per_example_mean(student, ref, device):
    """Is the returned loss the mean over examples, each batch's mean weighted by its size (short last batch)?"""
    got, want, record, *_ = run_epoch(student, ref, device)
    loss, _ = summary(got, "train_one_epoch", where_text())
    means = [r[0] for r in record]
    total = sum(m * n for m, _, n in record)
    expect_number(loss, want["loss"], "the returned loss is the per-example mean over the epoch",
                  inputs=where_text(), scale=100,
                  mistakes={"the batch means were averaged without weighting by batch size (the short last batch "
                            "counts as much as a full one)": sum(means) / len(means),
                            "the loss is the sum over all examples, not the mean": total,
                            "only the last batch's loss is returned": means[-1],
                            "the summed batch means were divided by the number of examples": sum(means) / N},
                  hint="add loss.item() * len(y) per batch and divide by the number of examples at the end")


@pytest.mark.points(3)
def test_is_the_accuracy_the_fraction_correct(student, ref, device):
    """Is the returned accuracy the fraction of the epoch's examples predicted right (in [0, 1]), with the loader's
    data left unmodified (a loader of one example and one of unnormalised images included)?"""
    got, want, record, *_ = run_epoch(student, ref, device)
    _, accuracy = summary(got, "train_one_epoch", where_text())
    correct = sum(c for _, c, _ in record)
    expect_number(accuracy, want["accuracy"], "the returned accuracy is the fraction correct over the epoch",
                  inputs=where_text(), scale=100,
                  mistakes={"the accuracy is the number correct, not the fraction": correct,
                            "the batch accuracies were averaged without weighting by batch size":
                                sum(c / n for _, c, n in record) / len(record)},
                  hint="count (logits.argmax(dim=1) == y).sum() per batch and divide by the number of examples")
    train = student.function("train_one_epoch", timeout=SECONDS)

    def one_epoch(model, loader):
        opt = student.construct("torch.optim.SGD", model.method("parameters").handle(), lr=LR, momentum=MOMENTUM)
        return train(model, loader, student.construct("torch.nn.CrossEntropyLoss"), opt, device)
    expect_loop_general_rules(student, "train_one_epoch", one_epoch, device, "a linear classifier (nn.Module)")


@pytest.mark.points(3)
def test_does_it_train_in_training_mode(student, ref, device):
    """Given a model left in eval mode, does train_one_epoch switch it to training mode, with autograd on?"""
    got, want, record, probe, local, *_ = run_epoch(student, ref, device, probe=True)
    where = where_text("a model left in eval mode")
    calls = probe.attr("calls")
    expect(isinstance(calls, list) and all(isinstance(c, dict) and "training" in c for c in calls),
           "the model's record of its calls is intact", inputs=where, expected="a list of calls", got=describe(calls),
           hint="only call the model; do not change its attributes")
    expect(len(calls) > 0, "the model is called on every batch", inputs=where, expected="4 calls", got="none",
           hint=LOOP_HINT)
    expect(all(c["training"] for c in calls), "the model is in training mode while it trains", inputs=where,
           expected="training = True at every call", got="training = False", mistake="model.train() is missing",
           hint="call model.train() at the start: the previous evaluation left the model in eval mode, and "
                "dropout and batch normalisation behave differently there")
    expect(all(c["grad_enabled"] for c in calls), "autograd is on while training", inputs=where,
           expected="grad enabled at every call", got="torch.no_grad() around the forward pass",
           hint="only evaluation runs under torch.no_grad()")
    expect_state(state_dict_of(probe, "model", where), local.state_dict(), "the weights after the epoch",
                 where=where, hint=LOOP_HINT)

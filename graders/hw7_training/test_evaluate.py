"""evaluate(model, loader, loss_fn, device) -> {"loss": ..., "accuracy": ...}: model.eval(), no autograd graph;
per-example means (each batch weighted by its size); changes neither parameters nor batch-norm statistics.

The model is a linear classifier followed by batch normalisation with known running statistics, handed
over in training mode; the batches (50 examples in 16, 16, 16 and 2) stay on the CPU.
"""

import pytest
import torch

from autograder.compare import describe, expect, expect_number
from gradeworker import toolbox
from gradeworker.toolbox import ModeSensitive
from hw7_training.checks import (
    SECONDS,
    D,
    Q,
    classifier_pair,
    data,
    expect_loop_general_rules,
    expect_state,
    state_dict_of,
    summary,
    weights,
)

N, BATCH = 50, 16
WHERE = (f"model = Flatten, Linear({D}, {Q}), BatchNorm1d({Q}) with known running statistics, left in training "
         f"mode; loader = {N} examples in batches of {BATCH} (the last holds {N % BATCH}); "
         "loss_fn = nn.CrossEntropyLoss()")
HINT = ("model.eval(); with torch.no_grad(): for each batch move X and y to device, add loss_fn(logits, y).item() "
        "* len(y) and the number correct; divide by the number of examples at the end")


def bn_state(device):
    state = dict(weights(device))
    state.update({"2.weight": 1 + 0.2 * torch.randn(Q, dtype=torch.float64, device=device),
                  "2.bias": 0.3 * torch.randn(Q, dtype=torch.float64, device=device),
                  "2.running_mean": 0.5 * torch.randn(Q, dtype=torch.float64, device=device),
                  "2.running_var": 0.5 + torch.rand(Q, dtype=torch.float64, device=device),
                  "2.num_batches_tracked": torch.tensor(7, device=device)})
    return state


def local_bn_model(state, device):
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(D, Q), torch.nn.BatchNorm1d(Q))
    net = net.to(device=device, dtype=torch.float64)
    net.load_state_dict(state)
    return net


def remote_bn_model(student, state, device):
    layers = [student.construct("torch.nn.Flatten", timeout=SECONDS), student.construct("torch.nn.Linear", D, Q),
              student.construct("torch.nn.BatchNorm1d", Q)]
    net = student.construct("torch.nn.Sequential", *layers).call("to", device=device, dtype=torch.float64)
    net.call("load_state_dict", state)
    net.call("train")
    return net


def in_training_mode(state, X, y, device):
    """What evaluate gives when it forgets model.eval(): batch statistics instead of the running ones."""
    def run():
        net = local_bn_model(state, device).train()
        total, correct = 0.0, 0
        with torch.no_grad():
            for Xb, yb in toolbox.Batches(X, y, BATCH):
                Xb, yb = Xb.to(device), yb.to(device)
                logits = net(Xb)
                total += float(torch.nn.functional.cross_entropy(logits, yb)) * len(yb)
                correct += int((logits.argmax(dim=1) == yb).sum())
        return total / N, correct / N
    return run


def evaluate_bn(student, ref, device):
    X, y = data(N, torch.device("cpu"))
    state = bn_state(device)
    remote = remote_bn_model(student, state, device)
    loss_fn = student.construct("torch.nn.CrossEntropyLoss")
    got = student.function("evaluate", timeout=SECONDS)(remote, student.construct("toolbox.Batches", X, y, BATCH),
                                                        loss_fn, device)
    local = local_bn_model(state, device)
    want = ref.evaluate(local, toolbox.Batches(X, y, BATCH), torch.nn.CrossEntropyLoss(), device)
    return got, want, remote, state, X, y


@pytest.mark.points(4)
def test_are_the_loss_and_accuracy_right(student, ref, device):
    """Are the loss and the accuracy the per-example means in eval mode (batch norm on its running statistics)?"""
    got, want, remote, state, X, y = evaluate_bn(student, ref, device)
    loss, accuracy = summary(got, "evaluate", WHERE)
    wrong_mode = in_training_mode(state, X, y, device)
    record = []
    net = local_bn_model(state, device).eval()
    with torch.no_grad():
        for Xb, yb in toolbox.Batches(X, y, BATCH):
            logits = net(Xb.to(device))
            record.append((float(torch.nn.functional.cross_entropy(logits, yb.to(device))),
                           int((logits.argmax(dim=1) == yb.to(device)).sum()), len(yb)))
    expect_number(loss, want["loss"], "the returned loss is the per-example mean in eval mode", inputs=WHERE,
                  scale=100, hint=HINT,
                  mistakes={"the model was evaluated in training mode (model.eval() is missing): batch "
                            "normalisation used each batch's statistics": lambda: wrong_mode()[0],
                            "the batch means were averaged without weighting by batch size":
                                sum(r[0] for r in record) / len(record)})
    expect_number(accuracy, want["accuracy"], "the returned accuracy is the fraction correct in eval mode",
                  inputs=WHERE, scale=100, hint=HINT,
                  mistakes={"the model was evaluated in training mode (model.eval() is missing)":
                            lambda: wrong_mode()[1],
                            "the accuracy is the number correct, not the fraction": sum(r[1] for r in record)})


@pytest.mark.points(3)
def test_does_it_leave_the_model_unchanged(student, ref, device):
    """Are the parameters and the batch-norm running statistics exactly as before evaluate, and the loader's data
    too (a loader of one example and one of unnormalised images included)?"""
    got, want, remote, state, X, y = evaluate_bn(student, ref, device)
    after = state_dict_of(remote, "model", WHERE)
    moved = [k for k in ("2.running_mean", "2.running_var", "2.num_batches_tracked")
             if k in after and not torch.equal(after[k].to(state[k].device), state[k])]
    expect(not moved, "evaluate leaves batch normalisation's running statistics alone", inputs=WHERE,
           expected="running_mean, running_var and num_batches_tracked unchanged", got=f"{', '.join(moved)} changed",
           mistake="model.eval() is missing: in training mode batch normalisation updates its running statistics",
           hint="call model.eval() before the loop")
    expect_state(after, state, "evaluate leaves every parameter and buffer unchanged", where=WHERE, exact=True,
                 hint="evaluate must not train: no backward(), no optimizer step")
    evaluate = student.function("evaluate", timeout=SECONDS)
    expect_loop_general_rules(student, "evaluate", lambda model, loader: evaluate(
        model, loader, student.construct("torch.nn.CrossEntropyLoss"), device), device, f"Linear({D}, {Q})")


@pytest.mark.points(3)
def test_does_it_run_in_eval_mode_without_autograd(student, ref, device):
    """Is the model called in eval mode and under torch.no_grad() (no autograd graph), on every batch?"""
    X, y = data(N, torch.device("cpu"))
    inner, local = classifier_pair(student, weights(device), device)
    probe = student.construct("toolbox.ModeSensitive", inner, False)
    probe.call("train")
    where = WHERE.replace(f"BatchNorm1d({Q}) with known running statistics", "(a probe that records each call)")
    got = student.function("evaluate", timeout=SECONDS)(probe, student.construct("toolbox.Batches", X, y, BATCH),
                                                        student.construct("torch.nn.CrossEntropyLoss"), device)
    calls = probe.attr("calls")
    expect(isinstance(calls, list) and len(calls) > 0 and all(isinstance(c, dict) and "training" in c for c in calls),
           "the model is called on the batches", inputs=where, expected="a record of 4 calls", got=describe(calls),
           hint="only call the model; do not change its attributes")
    expect(not any(c["training"] for c in calls), "the model is in eval mode while it is evaluated", inputs=where,
           expected="training = False at every call", got="training = True",
           mistake="model.eval() is missing", hint="call model.eval() before the loop")
    expect(not any(c["grad_enabled"] for c in calls), "no autograd graph is built while evaluating", inputs=where,
           expected="grad disabled at every call", got="grad enabled",
           mistake="torch.no_grad() is missing", hint="run the loop inside `with torch.no_grad():`")
    sizes = [c["batch"] for c in calls]
    expect(sizes == [16, 16, 16, 2], "every batch is evaluated once", inputs=where,
           expected="batches of [16, 16, 16, 2]",
           got=f"batches of {sizes}", hint=HINT)
    want = ref.evaluate(ModeSensitive(local, False), toolbox.Batches(X, y, BATCH), torch.nn.CrossEntropyLoss(), device)
    loss, accuracy = summary(got, "evaluate", where)
    expect_number(accuracy, want["accuracy"], "the returned accuracy", inputs=where, scale=100, hint=HINT)

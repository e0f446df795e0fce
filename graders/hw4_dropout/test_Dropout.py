"""Dropout(p=0.5): an nn.Module; dropout_layer(X, p) in training mode, the identity in eval mode."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, inputs
from hw4_dropout import FORBIDDEN
from hw4_dropout.checks import check_dropout_statistics, checked_output, expect_drop_fraction, no_zeros


def build(student, *args):
    """The student's layer, checked to be an nn.Module before anything uses it."""
    layer = student.Dropout(*args)
    where = f"Dropout({', '.join(map(repr, args))})"
    info = layer.describe() if hasattr(layer, "describe") else {"kind": type(layer).__name__}
    expect(info.get("kind") == "module", "Dropout(...) builds an nn.Module", inputs=where, expected="an nn.Module",
           got=info.get("type", info.get("kind", "?")), hint="class Dropout(nn.Module) with __init__ and forward")
    return layer, info, where


def forward(layer, X):
    """layer(X) in the worker, with PyTorch's dropout forbidden while it runs."""
    return layer.method("__call__", forbidden=FORBIDDEN["Dropout"], label="Dropout")(X)


@pytest.mark.points(3)
def test_rate_with_default_one_half(student, device):
    """Does a new Dropout(p) start in training mode and drop a fraction p (0.3; 0.5 by default; 0: nothing)?"""
    # Behaviour only: the contract names no attribute (self.p, self.rate and self.dropout are all fine).
    X = no_zeros((200, 100), torch.float32, device)
    for args, want in [((0.3,), 0.3), ((), 0.5), ((0.0,), 0.0)]:
        layer, info, where = build(student, *args)
        expect(info["training"], "a new layer is in training mode", inputs=where, expected="training = True",
               got="training = False", hint="call super().__init__() and leave self.training alone")
        where = f"{where} in training mode, " + inputs(X=X)
        out = checked_output(forward(layer, X), X, "Dropout", where)
        if not args:  # the default: name it when some other rate is at work
            dropped = float((out == 0).double().mean())
            expect(abs(dropped - 0.5) < 0.05, "Dropout() drops half of the elements (p = 0.5 by default)",
                   inputs=where, expected="about 0.5 of them zero", got=f"{dropped:.4f}",
                   mistake="the default probability is not 0.5" if dropped > 0 else "nothing is dropped",
                   hint="def __init__(self, p=0.5): the contract's default")
        elif want:
            expect_drop_fraction(out, want, f"{where.split(' in training')[0]}", where)
        else:
            expect_tensor(out, X, "Dropout(0.0) drops nothing: X comes back unchanged", inputs=where,
                          hint="pass the layer's probability to dropout_layer(X, p) in forward")
    # The general rules at the layer's edges (X untouched; the output in X's dtype and device): p = 0 and p = 1 in
    # training mode, in float64, and a single element.
    for p, shape in ((0.0, (3, 4)), (1.0, (3, 4)), (1.0, (1,))):
        layer, _, where = build(student, p)
        X = no_zeros(shape, torch.float64, device)
        call = layer.method("__call__", forbidden=FORBIDDEN["Dropout"], label="Dropout").run
        expect_general_rules(call, lambda X, p=p: torch.zeros_like(X) if p == 1 else X.clone(),
                             [(f"{where} in training mode, float64", (X,))], ["X"], "Dropout")


@pytest.mark.points(6)
def test_training_mode_applies_dropout_layer(student, device, dtype):
    """In training mode, does the layer drop a fraction p and scale the rest by 1 / (1 - p), also after eval()?"""
    for p in (0.2, 0.7):
        layer, _, _ = build(student, p)
        X = no_zeros((300, 200), dtype, device)
        check_dropout_statistics(forward(layer, X), X, p, f"Dropout({p}) in training mode")
        layer.call("eval")
        layer.call("train")
        check_dropout_statistics(forward(layer, X), X, p, f"Dropout({p}), after .eval() then .train(),")


@pytest.mark.points(6)
def test_eval_mode_is_the_identity(student, device, dtype):
    """After .eval(), does the layer return its input unchanged, every time?"""
    for p in (0.5, 0.9):
        layer, _, where = build(student, p)
        layer.call("eval")
        X = no_zeros((40, 30), dtype, device)
        where = f"{where} after .eval(), " + inputs(X=X)
        for _ in range(2):
            out = checked_output(forward(layer, X), X, "Dropout in eval mode", where)
            expect(not bool((out == 0).any()), "in eval mode nothing is dropped", inputs=where,
                   expected="no zeros (the input has none)", got=f"{int((out == 0).sum())} zeros",
                   mistake="Dropout does not check self.training: it drops elements in eval mode too",
                   hint="in forward: if self.training: return dropout_layer(X, self.p); else return X")
            expect_tensor(out, X, "in eval mode Dropout is the identity", inputs=where,
                          mistakes={"Dropout scales by (1 - p) in eval mode; with the 1 / (1 - p) scaling in "
                                    "training, eval mode must do nothing": X * (1 - p),
                                    "Dropout scales by 1 / (1 - p) in eval mode": X / (1 - p)},
                          hint="in eval mode return X as it is")

"""accuracy(y_hat, y) -> the number of correct predictions as a Python float.

y_hat is (n, q) scores (argmax over dim 1) or (n,) predicted labels; y may be (n,) or (n, 1).
"""
import pytest
import torch

from autograder.compare import CheckFailed, describe, expect, expect_general_rules, inputs
from autograder.errors import StudentCodeError

HINT = ("if y_hat has a second dimension, take y_hat.argmax(dim=1); compare with y.reshape(-1) "
        "(or y_hat's shape) and return float(number of matches)")


def count(got, checked, where):
    """The student's count as a Python number; a one-element tensor is read too (its type is checked apart)."""
    if isinstance(got, torch.Tensor) and got.numel() == 1 and not got.dtype.is_complex:
        return float(got.reshape(-1)[0])
    expect(isinstance(got, (int, float)) and not isinstance(got, bool), checked, inputs=where,
           expected="a number", got=describe(got), hint=HINT)
    return float(got)


def check_count(student, y_hat, y, checked, mistakes=None):
    where = inputs(y_hat=y_hat, y=y)
    try:
        answer = student.accuracy(y_hat, y)
    except StudentCodeError as e:
        if y_hat.dim() == 1 and "Dimension out of range" in e.text:  # argmax(dim=1) of a 1-D tensor
            raise CheckFailed(checked, where, f"accuracy raised {e.type}: {e.text}", HINT,
                              "the argmax is taken even when y_hat already holds predicted labels of shape (n,)") \
                from None
        raise
    got = count(answer, checked, where)
    predicted = y_hat.argmax(dim=1) if y_hat.dim() > 1 else y_hat
    want = float((predicted == y.reshape(-1)).sum())
    named = [name for name, value in (mistakes or {}).items() if value == got and value != want]
    expect(got == want, checked, inputs=where, expected=f"{want:g} correct predictions", got=f"{got:g}",
           mistake=named[0] if named else None, hint=HINT)


def scores(n, q, dtype, device):
    """Random scores (no ties) and labels that agree with about half of the predictions."""
    y_hat = torch.randn(n, q, dtype=dtype, device=device)
    y = torch.where(torch.rand(n, device=device) < 0.5, y_hat.argmax(dim=1), torch.randint(0, q, (n,), device=device))
    return y_hat, y


def common_mistakes(y_hat, y):
    """The count each common wrong accuracy would return."""
    predicted, flat = y_hat.argmax(dim=1), y.reshape(-1)
    out = {"the fraction correct was returned, not the number correct": float((predicted == flat).sum()) / len(y_hat)}
    if y_hat.shape[0] == y_hat.shape[1]:
        out["the argmax was taken over dim 0 instead of over each row"] = float((y_hat.argmax(dim=0) == flat).sum())
    if y.dim() == 2:
        out["y of shape (n, 1) was not flattened: comparing it with (n,) predictions broadcast to an (n, n) "
            "matrix"] = float((predicted == y).sum())
    return out


@pytest.mark.points(3)
def test_counts_correct_predictions(student, device, dtype):
    """With (n, q) scores and labels of shape (n,), is the result the number of rows whose argmax is the label?"""
    for n, q in [(4, 4), (10, 3), (7, 10), (1, 5), (6, 2)]:  # square first: argmax over dim 0 gives values
        y_hat, y = scores(n, q, dtype, device)
        check_count(student, y_hat, y, "accuracy counts the rows whose largest score is at the label",
                    common_mistakes(y_hat, y))


@pytest.mark.points(3)
def test_labels_of_shape_n_by_1(student, device):
    """With labels of shape (n, 1), is the count still right (not an (n, n) comparison)?"""
    for n, q in [(8, 3), (5, 5)]:
        y_hat, y = scores(n, q, torch.float32, device)
        y = y.reshape(n, 1)
        check_count(student, y_hat, y, "accuracy with labels of shape (n, 1)", common_mistakes(y_hat, y))


@pytest.mark.points(2)
def test_predicted_labels(student, device):
    """With y_hat already predicted labels of shape (n,), is each compared with its label directly?"""
    y = torch.randint(0, 4, (9,), device=device)
    predicted = torch.where(torch.arange(9, device=device) % 3 == 0, (y + 1) % 4, y)  # 6 of 9 right
    for labels in (y, y.reshape(9, 1)):
        mistakes = {"the fraction correct was returned, not the number correct": 6 / 9,
                    "y of shape (n, 1) was not flattened: comparing it with (n,) predictions broadcast to an (n, n) "
                    "matrix": float((predicted == labels).sum())}
        check_count(student, predicted, labels, "accuracy with y_hat of shape (n,) holding predicted labels", mistakes)


@pytest.mark.points(2)
def test_returns_a_python_float(student, ref, device):
    """Is the result a Python float (not a tensor, not an int), on any device?"""
    y_hat, y = scores(12, 4, torch.float64, device)
    got = student.accuracy(y_hat, y)
    expect(type(got) is float, "accuracy returns a Python float", inputs=inputs(y_hat=y_hat, y=y),
           expected="a float, such as 7.0", got=describe(got),
           mistake="a tensor was returned: float(...) turns a one-element tensor into a number"
           if isinstance(got, torch.Tensor) else "an int was returned where the contract gives a float "
           "(float(...) of the count)" if type(got) is int else None,
           hint="return float(cmp.sum()): a plain number is cheap to add up over an epoch and holds no device memory")
    # The general rules at the edges (y_hat and y untouched, a number back): one example, labels of shape (n, 1),
    # y_hat already predicted labels.
    one, label = scores(1, 3, torch.float32, device)
    edges = [("one example", (one, label)), ("labels of shape (n, 1)", (y_hat, y.reshape(-1, 1))),
             ("y_hat of predicted labels", (y_hat.argmax(dim=1), y))]
    expect_general_rules(student.accuracy.run, ref.accuracy, edges, ["y_hat", "y"], "accuracy")

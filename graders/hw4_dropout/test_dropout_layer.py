"""dropout_layer(X, dropout): zero each element with probability dropout, scale the rest by 1 / (1 - dropout).

Random: checked by properties and ~6 sigma bounds, never against the reference's mask.
"""
import pytest
import torch

from autograder.compare import expect, expect_tensor, inputs
from hw4_dropout.checks import (
    check_dropout_statistics,
    checked_output,
    expect_drop_fraction,
    expect_untouched,
    mask_pattern_mistake,
    no_zeros,
)


def drop(student, X, p):
    return checked_output(student.dropout_layer(X, p), X, "dropout_layer", inputs(X=X) + f", dropout = {p}")


@pytest.mark.points(6)
def test_drops_a_fraction_dropout_of_the_elements(student, device):
    """On a million elements, is a fraction dropout of them zeroed (dropout 0.2 and 0.7)?"""
    X = no_zeros((1000, 1000), torch.float32, device)
    for p in (0.2, 0.7):
        out = drop(student, X, p)
        expect_drop_fraction(out, p, "dropout_layer", inputs(X=X) + f", dropout = {p}")


@pytest.mark.points(6)
def test_survivors_are_scaled_by_one_over_one_minus_dropout(student, device, dtype):
    """Is every kept element exactly X / (1 - dropout), and the fraction dropped right (dropout 0.2, 0.5, 0.7)?"""
    X = no_zeros((200, 50), dtype, device)
    for p in (0.2, 0.5, 0.7):
        check_dropout_statistics(student.dropout_layer(X, p), X, p, "dropout_layer")


@pytest.mark.points(4)
def test_dropout_zero_and_one(student, device, dtype):
    """Does dropout = 0 return X unchanged and dropout = 1 return zeros (not NaN), for 1-D to 4-D inputs?"""
    for shape in [(3, 4), (7,), (2, 3, 4, 5), (1, 1)]:
        X = no_zeros(shape, dtype, device)
        where = inputs(X=X)
        expect_tensor(drop(student, X, 0), X, "with dropout = 0 nothing is dropped: X comes back unchanged",
                      inputs=where + ", dropout = 0", hint="if dropout == 0: return X")
        expect_tensor(drop(student, X, 1), torch.zeros_like(X), "with dropout = 1 everything is dropped: zeros",
                      inputs=where + ", dropout = 1",
                      mistakes={"dropout = 1 divides by 1 - dropout = 0, and 0 / 0 gives NaN":
                                torch.full_like(X, float("nan"))},
                      hint="handle dropout == 1 first: return torch.zeros_like(X)")


@pytest.mark.points(5)
def test_gradient_flows_through_the_same_mask(student, device, dtype):
    """Is the gradient 1 / (1 - dropout) exactly where the output was kept, and 0 where it was dropped?"""
    for p in (0.2, 0.7):
        X = no_zeros((64, 32), dtype, device)
        where = inputs(X=X) + f", dropout = {p}, gradient of out.sum()"
        result = student.dropout_layer.run((X, p), wrt=[0], grad_output=torch.ones_like(X))
        out = checked_output(result.value, X, "dropout_layer", where)
        kept_count = int((out != 0).sum())
        expect(0 < kept_count < out.numel(), "some elements kept and some dropped (a mask to flow through)",
               inputs=where, expected=f"some of the {out.numel()} elements zero and some not", got=f"{kept_count} kept",
               hint="out = mask * X / (1.0 - dropout), with mask = (torch.rand(X.shape) > dropout)")
        expect(result.grad_error is None, "the output is differentiable with respect to X", inputs=where,
               expected="a result connected to the autograd graph", got=result.grad_error or "",
               mistake="the output is cut off from autograd (computed under torch.no_grad(), or from X.detach(), "
                       "X.data or a new tensor)",
               hint="compute the output from X with tensor operations: mask * X / (1.0 - dropout)")
        grad = result.grads[0]
        expect(grad is not None, "the gradient reaches X", inputs=where, expected="a gradient", got="None",
               hint="compute the output from X itself, not from a copy made with torch.tensor(...) or .detach()")
        kept = (out != 0).to(dtype)
        expect_tensor(grad, kept / (1 - p), "d out.sum() / dX is 1 / (1 - dropout) where kept and 0 where dropped",
                      inputs=where,
                      mistakes={"the gradient is not masked (another mask, or none, on the backward pass)":
                                torch.full_like(X, 1 / (1 - p)),
                                "the gradient misses the 1 / (1 - dropout) scaling": kept,
                                "the gradient is scaled by 1 / dropout instead of 1 / (1 - dropout)": kept / p},
                      hint="multiply X by the mask (and divide by 1 - dropout) in one differentiable expression")


@pytest.mark.points(5)
def test_a_fresh_mask_for_every_element_and_every_call(student, device):
    """Is every element dropped independently: a new mask on every call, different in every row and column?"""
    p = 0.5
    X = no_zeros((64, 64), torch.float32, device)
    where = inputs(X=X) + f", dropout = {p}"
    first = drop(student, X, p) != 0
    second = drop(student, X, p) != 0
    expect(not torch.equal(first, second), "two calls drop different elements", inputs=where,
           expected="two different masks", got="the same mask twice",
           mistake="the mask is drawn once (outside dropout_layer, or cached) and reused",
           hint="draw the mask inside dropout_layer, on every call")
    pattern = mask_pattern_mistake(first)
    expect(pattern is None, "each element is dropped on its own, in every row and column", inputs=where,
           expected="rows dropped differently, each row partly", got="a mask shared by rows or whole rows dropped",
           mistake=pattern, hint="draw one random number per element: torch.rand(X.shape)")


@pytest.mark.points(4)
@pytest.mark.general_rule
def test_dtype_device_and_input_untouched(student, device, dtype):
    """Does the result keep X's dtype and device, and is X left unmodified (dropout 0, 0.3, 0.6 and 1)?"""
    for shape, p in [((50, 40), 0.3), ((4, 3, 8, 8), 0.6), ((6, 5), 0), ((6, 5), 1)]:  # X.zero_() at 1 too
        X = no_zeros(shape, dtype, device)
        where = inputs(X=X) + f", dropout = {p}"
        result = student.dropout_layer.run((X, p), return_args=True)
        checked_output(result.value, X, "dropout_layer", where)
        expect_untouched(X, result.args_after[0], result.value, "X", "dropout_layer leaves X unmodified", where)

"""l2_penalty(w) -> (w ** 2).sum() / 2, a scalar (0-d tensor)."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, expect_unchanged, inputs


def common_mistakes(w):
    return {
        "the 1/2 is missing": lambda: (w ** 2).sum(),
        "the norm itself (a square root) instead of half its square": lambda: torch.linalg.vector_norm(w),
        "half the norm instead of half its square": lambda: torch.linalg.vector_norm(w) / 2,
        "a mean instead of a sum": lambda: (w ** 2).mean() / 2,
        "the absolute values (an L1 penalty) instead of the squares": lambda: w.abs().sum() / 2,
        "summed over one dimension only, not to a scalar": lambda: (w ** 2).sum(dim=0) / 2,
        "w.T @ w / 2: a (1, 1) matrix instead of a 0-d tensor": lambda: (w.T @ w) / 2 if w.dim() == 2 else None,
    }


@pytest.mark.points(5)
def test_values(student, ref, device, dtype):
    """Is the penalty (w ** 2).sum() / 2, a 0-d tensor, for columns, vectors and matrices?"""
    for shape in [(200, 1), (5,), (3, 4), (1,), (2, 3, 4)]:
        w = torch.randn(shape, dtype=dtype, device=device)
        got = student.l2_penalty(w)
        expect(not isinstance(got, (int, float)) or isinstance(got, bool), "l2_penalty(w) = (w ** 2).sum() / 2",
               inputs=inputs(w=w), expected="a tensor", got=f"a Python {type(got).__name__} ({got!r})",
               mistake="a Python number is returned (float(...) or .item()): it is cut off from autograd, so the "
                       "penalty adds nothing to the gradient",
               hint="return the 0-d tensor itself: torch.sum(w.pow(2)) / 2")
        expect_tensor(got, ref.l2_penalty(w), "l2_penalty(w) = (w ** 2).sum() / 2",
                      inputs=inputs(w=w), mistakes=common_mistakes(w),
                      hint="torch.sum(w.pow(2)) / 2: a single number, half the squared L2 norm")


@pytest.mark.points(5)
def test_gradient_is_w_and_input_untouched(student, ref, device, dtype):
    """Is the gradient of the penalty w itself (d/dw ||w||^2 / 2 = w), with w left unmodified (a 0-d, an empty and a
    zero w too)?"""
    w = torch.randn(50, 1, dtype=dtype, device=device)
    where = inputs(w=w)
    result = student.l2_penalty.run((w,), wrt=[0])
    expect(result.grad_error is None, "the penalty is differentiable with respect to w", inputs=where,
           expected="a result connected to the autograd graph", got=result.grad_error or "",
           hint="compute it from w with tensor operations; no .item() or float()")
    expect_tensor(result.grads[0], w, "d l2_penalty / dw = w", inputs=where,
                  mistakes={"the 1/2 is missing (the gradient is 2 w)": 2 * w,
                            "the norm instead of half its square (the gradient is w / ||w||)":
                            lambda: w / torch.linalg.vector_norm(w),
                            "a mean instead of a sum (the gradient is w / w.numel())": w / w.numel()},
                  hint="half the sum of squares has gradient w: that is why weight decay shrinks w by lr * lambd * w")
    result = student.l2_penalty.run((w,), return_args=True)
    expect_unchanged(w, result.args_after[0], "w", "l2_penalty leaves w unmodified", inputs=where)
    # The general rules at the edges: a 0-d w, an empty w, w = 0.
    edges = [("a 0-d w", (torch.randn((), dtype=dtype, device=device),)),
             ("an empty w", (torch.randn(0, 1, dtype=dtype, device=device),)),
             ("w = 0", (torch.zeros(3, 1, dtype=dtype, device=device),))]
    expect_general_rules(student.l2_penalty.run, ref.l2_penalty, edges, ["w"], "l2_penalty")

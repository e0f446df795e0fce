"""add_into_(out, X, Y) -> out: out[:] = X + Y in place (broadcast to out's shape), returning out itself."""
import pytest
import torch

from autograder.compare import expect, expect_tensor, expect_unchanged, inputs

# (out, X, Y) shapes: equal shapes, then X and Y broadcast (a row, a column, a scalar) to out's shape.
CASES = [((3, 4), (3, 4), (3, 4)), ((2, 5), (2, 5), (5,)), ((4, 3), (4, 1), (1, 3)), ((6,), (6,), ())]
HINT = "write into out's memory: out[:] = X + Y (or out.copy_(X + Y)), then return out"


@pytest.mark.points(3)
def test_writes_the_sum_in_place(student, device, dtype):
    """Does out hold X + Y afterwards, written in place, with X and Y broadcast to out's shape?"""
    for out_shape, x_shape, y_shape in CASES:
        out = torch.randn(out_shape, dtype=dtype, device=device)
        X = torch.randn(x_shape, dtype=dtype, device=device)
        Y = torch.randn(y_shape, dtype=dtype, device=device)
        where = inputs(out=out, X=X, Y=Y)
        handle = student.put(out)
        result = student.add_into_.run((handle, X, Y), return_args=True)
        expect_tensor(handle.get(), torch.broadcast_to(X + Y, out_shape).clone(), "out after add_into_ holds X + Y",
                      inputs=where, hint=HINT,
                      mistakes={"out was not modified: `out = X + Y` rebinds the name to a new tensor": out,
                                "out += X + Y: the old contents of out were kept": out + X + Y})
        expect_unchanged(X, result.args_after[1], "X", "add_into_ leaves X unmodified", inputs=where,
                         mistakes={"the sum was accumulated into X (X += Y), not written into out":
                                   lambda X=X, Y=Y: X + Y if torch.broadcast_shapes(X.shape, Y.shape) == X.shape
                                   else None})
        expect_unchanged(Y, result.args_after[2], "Y", "add_into_ leaves Y unmodified", inputs=where)


@pytest.mark.points(2)
def test_returns_out_itself(student, device):
    """Is the returned tensor out itself (id(result) == id(out)), not a new tensor with the same values?"""
    out = torch.zeros(3, 2, device=device)
    X, Y = torch.ones(3, 2, device=device), torch.arange(2.0, device=device)
    handle = student.put(out)
    returned = student.add_into_.handle(handle, X, Y)
    same = getattr(getattr(returned, "handle", None), "id", None) == handle.handle.id
    expect(same, "add_into_ returns out itself: id(add_into_(out, X, Y)) == id(out)", inputs=inputs(out=out, X=X, Y=Y),
           expected="the object out", got=f"another object ({getattr(returned, 'type', type(returned).__name__)})",
           mistake="a new tensor was returned (X + Y), so id() changed", hint=HINT)

"""set_block_(X, rows, cols, value) -> None: X[rows[0]:rows[1], cols[0]:cols[1]] = value, in place."""
import pytest
import torch

from autograder.compare import expect, expect_tensor, inputs

CASES = [((6, 5), (0, 2), (1, 4), 12.0), ((4, 4), (1, -1), (0, 4), -3.5), ((5, 7), (-2, 5), (-3, -1), 7.0),
         ((3, 3), (2, 2), (0, 3), 1.0), ((4, 6), (0, 4), (5, 6), 0.0)]
HINT = "index and assign in one step: X[rows[0]:rows[1], cols[0]:cols[1]] = value"


def expected_after(X, rows, cols, value):
    Z = X.clone()
    Z[rows[0]:rows[1], cols[0]:cols[1]] = value
    return Z


def mistakes(X, rows, cols, value):
    """What the common wrong answers leave in X."""
    def inclusive():
        Z = X.clone()
        r1 = rows[1] + 1 if rows[1] != -1 else None
        c1 = cols[1] + 1 if cols[1] != -1 else None
        Z[rows[0]:r1, cols[0]:c1] = value
        return Z
    return {"X was not modified: the block was written into a copy, or the result rebound to a new name": X,
            "the end bounds taken as inclusive (a Python slice stops before its end)": inclusive,
            "rows and columns swapped": lambda: expected_after(X, cols, rows, value)}


@pytest.mark.points(5)
def test_writes_the_block_in_place(student, device, dtype):
    """Does set_block_ write value into exactly that block of X, in place, negative bounds included?"""
    for shape, rows, cols, value in CASES:
        X = torch.randn(shape, dtype=dtype, device=device)
        where = inputs(X=X) + f", rows={rows}, cols={cols}, value={value}"
        handle = student.put(X)
        returned = student.set_block_(handle, rows, cols, value)
        expect_tensor(handle.get(), expected_after(X, rows, cols, value),
                      "X after set_block_, changed in place inside the block and nowhere else", inputs=where,
                      mistakes=mistakes(X, rows, cols, value), hint=HINT)
        expect(returned is None, "set_block_ returns None (an in-place function)", inputs=where,
               expected="None", got=type(returned).__name__, hint="end the function without return",
               mistake="a tensor is returned: the in-place function returns None (no `return X`)"
               if type(returned).__name__ == "Tensor" else None)


"""classify_critical_point(f, point): 'minimum', 'maximum' or 'saddle' from the signs of the eigenvalues of the
Hessian of f at point; ValueError when the gradient's norm there exceeds 1e-4.

f is a test function built in the worker (``toolbox.Objective``):
f(x) = 1/2 (x - c)^T A (x - c) + b^T (x - c) + sum_i k_i (x_i - c_i)^3, whose gradient at c is b and whose
Hessian at c is A. A is a rotated diagonal of chosen eigenvalues (so its diagonal entries do not give the
answer away), and the cubic terms make the Hessian anywhere else (at the origin, say) a different matrix.
"""
import pytest
import torch

from autograder.compare import expect, expect_unchanged
from autograder.errors import StudentCodeError

HINT = ("compute the Hessian at `point` (torch.autograd.functional.hessian(f, point)) and the signs of ALL its "
        "eigenvalues (torch.linalg.eigvalsh): all > 0 minimum, all < 0 maximum, otherwise saddle")


def hessian_with(eigenvalues, dtype, device):
    """A symmetric matrix with these eigenvalues, in a random orthonormal basis."""
    n = len(eigenvalues)
    Q, _ = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64))
    A = Q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ Q.T
    return ((A + A.T) / 2).to(dtype=dtype, device=device)


def label_of(eigenvalues):
    return "minimum" if min(eigenvalues) > 0 else "maximum" if max(eigenvalues) < 0 else "saddle"


def mistake_for(eigenvalues, A, got):
    """Which shortcut gives the student's wrong answer, if one does."""
    H = A.double()
    det, trace, corner = float(torch.det(H)), float(torch.trace(H)), float(H[0, 0])
    shortcuts = {
        "the determinant alone decides (2-D calculus: det H > 0 and H[0, 0] > 0 means a minimum); beyond 2-D "
        "the determinant is only the product of the eigenvalues":
            "saddle" if det < 0 else "minimum" if corner > 0 else "maximum",
        "the sign of the determinant alone decides": "minimum" if det > 0 else "saddle",
        "the trace (the sum of the eigenvalues) decides, not the sign of every eigenvalue":
            "minimum" if trace > 0 else "maximum",
        "the diagonal entries of the Hessian decide, not its eigenvalues": label_of(torch.diagonal(H).tolist()),
    }
    named = [text for text, answer in shortcuts.items() if answer == got and got != label_of(eigenvalues)]
    return "; or ".join(named) or None


def classify(student, eigenvalues, dtype, device, b=None, cubic=True):
    """Build f in the worker around a random center c, and ask the student about c."""
    n = len(eigenvalues)
    A = hessian_with(eigenvalues, dtype, device)
    c = (2 * torch.rand(n, dtype=dtype, device=device) + 1) * torch.where(torch.rand(n, device=device) < 0.5, -1, 1)
    k = torch.full((n,), 1.5, dtype=dtype, device=device) if cubic else None
    grad = None if b is None else torch.tensor(b, dtype=dtype, device=device)
    f = student.construct("toolbox.Objective", A, c, grad, k)
    where = (f"f(x) = 1/2 (x - c)^T A (x - c){' + b^T (x - c)' if b else ''} + 1.5 sum (x_i - c_i)^3 in {n}-D, "
             f"point = c, {str(dtype).removeprefix('torch.')} on {device}; A has eigenvalues "
             f"{[round(e, 3) for e in eigenvalues]} (det {float(torch.det(A.double())):.3g}, "
             f"trace {float(torch.trace(A.double())):.3g})" + (f", gradient at c: {b}" if b else ""))
    result = student.classify_critical_point.run((f, c), return_args=True)
    expect_unchanged(c, result.args_after[1], "point", "classify_critical_point leaves point unmodified", inputs=where)
    return result.value, A, where


def expect_label(student, eigenvalues, dtype, device):
    got, A, where = classify(student, eigenvalues, dtype, device)
    want = label_of(eigenvalues)
    expect(got == want, "classify_critical_point names the critical point by the signs of the Hessian's eigenvalues",
           inputs=where, expected=repr(want), got=repr(got), mistake=mistake_for(eigenvalues, A, got), hint=HINT)


@pytest.mark.points(3)
def test_two_dimensional_minimum_maximum_and_saddles(student, device, dtype):
    """In 2-D, are a minimum, a maximum and two saddles (one with a positive trace) named correctly?"""
    for eigenvalues in ([1.0, 3.0], [-0.5, -2.0], [3.0, -1.0], [-4.0, 0.5]):
        expect_label(student, eigenvalues, dtype, device)


@pytest.mark.points(4)
def test_three_dimensional_saddles_fool_determinant_and_trace(student, device, dtype):
    """In 3-D, is a saddle with det H > 0 and trace H > 0 still a saddle, and are minima and maxima right?"""
    for eigenvalues in ([-1.0, -1.0, 5.0], [2.0, 0.5, 1.0], [-1.0, -2.0, -3.0], [1.0, -2.0, -3.0], [-2.0, 4.0, 0.7]):
        expect_label(student, eigenvalues, dtype, device)


@pytest.mark.points(1)
def test_higher_dimensions(student, device):
    """In 6-D, is one small negative eigenvalue among large positive ones a saddle (and without it a minimum)? And in
    1-D, with point left unmodified there too, a maximum?"""
    for eigenvalues in ([5.0, 4.0, 3.0, 2.0, 1.0, -0.2], [5.0, 4.0, 3.0, 2.0, 1.0, 0.2], [-3.0]):
        expect_label(student, eigenvalues, torch.float64, device)


@pytest.mark.points(2)
def test_value_error_away_from_a_critical_point(student, device):
    """Is ValueError raised where the gradient's norm exceeds 1e-4, and not where it is below?"""
    cases = [([2e-4, 0.0], True, None),
             ([8e-5, 8e-5, 0.0], True, "each component of the gradient is compared with 1e-4; the contract "
                                       "compares its NORM (here 1.13e-4)"),
             ([5e-5, -3e-5], False, "the test is stricter than the contract: a gradient of norm below 1e-4 counts "
                                    "as zero (numerical derivatives are never exactly 0)")]
    for b, should_raise, mistake in cases:
        eigenvalues = [1.0, 2.0, 3.0][:len(b)]
        try:
            got, _, where = classify(student, eigenvalues, torch.float64, device, b=b)
            raised = False
        except StudentCodeError as exc:
            if exc.type != "ValueError":
                raise
            raised, got, where = True, None, f"a minimum's neighbourhood in {len(b)}-D, gradient at the point {b}"
        norm = sum(v * v for v in b) ** 0.5
        expect(raised == should_raise, f"classify_critical_point raises ValueError exactly when the gradient's norm "
               f"exceeds 1e-4 (here {norm:.3g})", inputs=where,
               expected="ValueError" if should_raise else "'minimum'", got="ValueError" if raised else repr(got),
               mistake=mistake if mistake else None if raised else "the gradient is not checked",
               hint="grad = torch.autograd.grad(f(x), x); if grad.norm() > 1e-4: raise ValueError(...)")
        if not raised:
            expect(got == "minimum", "near-critical points are still classified", inputs=where,
                   expected="'minimum'", got=repr(got), hint=HINT)

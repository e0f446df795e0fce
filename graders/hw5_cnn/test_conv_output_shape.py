"""conv_output_shape(input_size, kernel_size, padding=0, stride=1) -> (h, w): floor((n + 2p - k) / s) + 1."""
import pytest

from autograder.compare import expect, expect_pair

HINT = ("per dimension (n + 2 * p - k) // s + 1, with p the padding on EACH side (PyTorch's padding=p); "
        "as_pair(...) turns an int into (int, int)")


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def formula(n, k, p, s, rule):
    return tuple(rule(n_, k_, p_, s_) for n_, k_, p_, s_ in zip(pair(n), pair(k), pair(p), pair(s)))


RULES = {
    "the padding is counted once, as a total (the lecture notes' p_h), but padding=p is the padding on EACH side":
        lambda n, k, p, s: (n + p - k) // s + 1,
    "rounded up (ceil) instead of down (floor)": lambda n, k, p, s: -(-(n + 2 * p - k) // s) + 1,
    "divided by the stride without rounding down first ((n + 2p - k + s) / s rounded off)":
        lambda n, k, p, s: round((n + 2 * p - k + s) / s),
    "the + 1 is missing": lambda n, k, p, s: (n + 2 * p - k) // s,
    "the stride is ignored": lambda n, k, p, s: n + 2 * p - k + 1,
}
TRUE = lambda n, k, p, s: (n + 2 * p - k) // s + 1  # noqa: E731


def check(student, n, k, p, s):
    where = f"input_size={n!r}, kernel_size={k!r}, padding={p!r}, stride={s!r}"
    got = expect_pair(student.conv_output_shape(n, k, padding=p, stride=s), "conv_output_shape returns (h, w)",
                      inputs=where, names="(h, w)")
    ok = all(isinstance(v, int) and not isinstance(v, bool) for v in got)
    floats = all(isinstance(v, float) for v in got)
    expect(ok, "h and w are Python ints", inputs=where, expected="two ints", got=f"{got!r}",
           mistake="true division / gives floats; the output size is an int, rounded down with //" if floats else
           "the sizes are tensors, not Python ints" if any(type(v).__name__ == "Tensor" for v in got) else None,
           hint="use integer division //, not / (a float) or torch operations")
    want = formula(n, k, p, s, TRUE)
    mistake = next((name for name, rule in RULES.items() if formula(n, k, p, s, rule) == got and
                    formula(n, k, p, s, rule) != want), None)
    expect(got == want, "the output shape", inputs=where, expected=f"{want}", got=f"{got}", mistake=mistake, hint=HINT)


@pytest.mark.points(1)
def test_ints(student):
    """Does the formula hold with ints for every argument (the same in both dimensions)?"""
    for n, k, p, s in [(8, 3, 0, 1), (8, 3, 1, 1), (28, 5, 2, 1), (7, 3, 1, 2)]:
        check(student, n, k, p, s)


@pytest.mark.points(2)
def test_pairs(student):
    """Does it take (h, w) pairs, each dimension with its own size, kernel, padding and stride?"""
    for n, k, p, s in [((8, 8), (5, 3), (2, 1), 1), ((8, 8), (3, 5), (0, 1), (3, 4)), ((10, 6), (3, 2), 0, (1, 2)),
                       ((5, 9), 3, (1, 0), (2, 3))]:
        check(student, n, k, p, s)


@pytest.mark.points(2)
def test_stride_not_dividing(student):
    """Is the result rounded down when the stride does not divide n + 2p - k?"""
    for n, k, p, s in [(7, 2, 0, 2), ((9, 10), (2, 3), (1, 1), (3, 4)), (6, 3, 2, 4), ((28, 13), (5, 4), (2, 0), 3)]:
        check(student, n, k, p, s)

"""compare.py, the one place tolerances and named mistakes live: no worker needed."""
from __future__ import annotations

import math

import pytest
import torch

from autograder.compare import (
    CheckFailed,
    binomial_bound,
    expect,
    expect_like,
    expect_number,
    expect_tensor,
    expect_unchanged,
    inputs,
    matches,
    mean_bound,
    read_number,
    std_bound,
    tolerance,
)


def failure(check, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        check(*args, **kwargs)
    return info.value


def test_does_expect_tensor_accept_values_within_the_dtypes_tolerance():
    x = torch.randn(4, 3, dtype=torch.float64)
    expect_tensor(x + 1e-12, x, "close in float64")
    y = x.float()
    expect_tensor(y * (1 + 1e-6), y, "close in float32")


@pytest.mark.parametrize("got, why", [
    (torch.zeros(4, 3, dtype=torch.float64), "expected"),
    (torch.zeros(3, 4, dtype=torch.float64), "expected shape (4, 3), got (3, 4)"),
    (torch.zeros(4, 3, dtype=torch.float32), "expected dtype float64, got float32: you returned float32 where "
                                             "float64 came in"),
    ([[0.0] * 3] * 4, "expected a tensor"),
])
def test_does_expect_tensor_say_what_differs(got, why):
    expected = torch.ones(4, 3, dtype=torch.float64)
    exc = failure(expect_tensor, got, expected, "f(X) is all ones", inputs=inputs(X=expected), hint="try harder")
    assert why in exc.comparison
    assert exc.checked == "f(X) is all ones" and "tensor(4, 3) float64 on cpu" in exc.inputs


def test_is_a_float32_result_named_even_when_its_values_are_right():
    expected = torch.randn(5, dtype=torch.float64)
    exc = failure(expect_tensor, expected.float(), expected, "same values")
    assert exc.mistake == "you returned float32 where float64 came in"


def test_is_a_float64_result_computed_through_float32_named():
    expected = torch.randn(5, dtype=torch.float64) + 0.4
    exc = failure(expect_tensor, expected.float().double(), expected, "same values")
    assert "float32 precision only" in exc.comparison and exc.mistake == "computed in float32 where float64 came in"
    wrong = failure(expect_tensor, expected + 1e-3, expected, "same values")  # a real difference is not blamed on it
    assert wrong.mistake is None and "precision" not in wrong.comparison


def test_does_expect_tensor_report_nan_as_not_finite():
    expected = torch.ones(5)
    got = expected.clone()
    got[2] = float("nan")
    assert "NaN or inf" in failure(expect_tensor, got, expected, "finite").comparison


def test_is_the_matching_mistake_named_and_only_that_one():
    X = torch.randn(6, 2)
    mistakes = {"forgot the bias": lambda: X.sum(1), "squared it": lambda: X ** 2, "raises": lambda: 1 / 0}
    exc = failure(expect_tensor, X ** 2, X * 2, "2X", mistakes=mistakes)
    assert exc.mistake == "squared it"
    assert failure(expect_tensor, X * 3, X * 2, "2X", mistakes=mistakes).mistake is None


def test_does_matches_ignore_dtype_but_not_shape():
    x = torch.arange(6.0).reshape(2, 3)
    assert matches(x.double(), x)
    assert not matches(x.reshape(3, 2), x)
    assert not matches("not a tensor", x)
    assert matches(torch.tensor([float("nan")]), torch.tensor([float("nan")]))


def test_does_a_scale_or_a_magnitude_widen_the_tolerance():
    r, a = tolerance(torch.float32)
    assert tolerance(torch.float32, scale=10) == pytest.approx((10 * r, 10 * a))
    wide = tolerance(torch.float32, magnitude=1e4)[0]
    assert wide == pytest.approx(8 * torch.finfo(torch.float32).eps * 1e4)
    assert tolerance(torch.float64, rtol=0.5)[0] == 0.5


def test_do_numbers_need_to_be_plain_numbers():
    assert read_number(3, "n") == 3.0
    assert "item()" in failure(read_number, torch.tensor(1.0), "n").hint
    assert failure(read_number, True, "n")
    assert failure(read_number, 2.5, "n", integer=True)


def test_does_expect_number_name_a_scalar_mistake():
    assert expect_number(0.5 + 1e-13, 0.5, "half") == pytest.approx(0.5)
    exc = failure(expect_number, 1.0, 0.5, "half", mistakes={"not halved": 1.0, "doubled": lambda: 2.0})
    assert exc.mistake == "not halved" and "expected 0.5, got 1" in exc.comparison
    assert failure(expect_number, 0.5 + 1e-13, 0.5, "exactly half", exact=True)


def test_do_expect_like_and_expect_unchanged_check_what_they_say():
    t = torch.zeros(2, 3)
    assert expect_like(t, "like", shape=(2, 3), dtype=torch.float32, device="cpu") is t
    assert "expected shape (3, 2)" in failure(expect_like, t, "like", shape=(3, 2)).comparison
    expect_unchanged(t, t.clone(), "X", "X kept")
    assert "modified in place" in failure(expect_unchanged, t, t + 1, "X", "X kept").comparison
    expect(True, "holds")
    exc = failure(expect, False, "holds", expected="a", got="b", mistake="m", hint="h")
    assert (exc.comparison, exc.mistake, exc.hint) == ("expected a, got b", "m", "h")


def test_are_the_statistical_bounds_about_six_sigma():
    assert mean_bound(1.0, 100) == pytest.approx(0.6)
    assert std_bound(2.0, 50) == pytest.approx(6 * 2.0 / math.sqrt(100))
    low, high = binomial_bound(10_000, 0.5)
    assert low == pytest.approx(5000 - 300 - 1) and high == pytest.approx(5000 + 300 + 1)
    torch.manual_seed(0)
    drops = int((torch.rand(10_000) < 0.5).sum())
    assert low <= drops <= high


def test_shape_graph_and_number_mistakes_are_named():
    from autograder.compare import DETACHED_MISTAKE, NUMBER_AS_TENSOR_MISTAKE, graph_mistake, read_number, shape_mistake
    assert "dropped" in shape_mistake(torch.zeros(5), (5, 1))
    assert "added" in shape_mistake(torch.zeros(5, 1), (5,))
    assert "transposed" in shape_mistake(torch.zeros(3, 4), (4, 3))
    assert shape_mistake(torch.zeros(4, 3), (4, 3)) is None and shape_mistake(torch.zeros(2, 6), (4, 3)) is None
    assert graph_mistake("the result is not connected to the inputs' autograd graph (...)") == DETACHED_MISTAKE
    assert graph_mistake(None) is None and graph_mistake("backward raised") is None
    with pytest.raises(CheckFailed) as failed:
        read_number(torch.tensor(1.0), "a number")
    assert failed.value.mistake == NUMBER_AS_TENSOR_MISTAKE
    with pytest.raises(CheckFailed) as failed:
        expect_like(torch.zeros(5), "y", shape=(5, 1))
    assert "dropped" in failed.value.mistake


def test_expect_unchanged_names_a_known_mistake():
    X, Y = torch.ones(3), torch.full((3,), 2.0)
    with pytest.raises(CheckFailed) as failed:
        expect_unchanged(X, X + Y, "X", "X unchanged", mistakes={"X += Y": lambda: X + Y})
    assert failed.value.mistake == "X += Y"
    with pytest.raises(CheckFailed) as failed:
        expect_unchanged(X, X * 0, "X", "X unchanged", mistakes={"X += Y": lambda: X + Y})
    assert failed.value.mistake is None
    expect_unchanged(X, X.clone(), "X", "X unchanged", mistakes={"X += Y": lambda: X + Y})


def test_error_mistake_names_known_pytorch_errors_only():
    from autograder.compare import error_mistake
    assert "torch.no_grad" in error_mistake("a leaf Variable that requires grad is being used in an in-place "
                                            "operation.")
    assert "flattened" in error_mistake("mat1 and mat2 shapes cannot be multiplied (20x4 and 16x10)")
    assert error_mistake("division by zero") is None


def _local_run(fn):
    """What ``student.<fn>.run(args, return_args=True)`` gives, run here on copies as the worker would."""
    from types import SimpleNamespace

    def run(args, return_args=False):
        copies = [[t.clone() for t in a] if isinstance(a, list) else a.clone() if isinstance(a, torch.Tensor) else a
                  for a in args]
        return SimpleNamespace(value=fn(*copies), args_after=copies)
    return run


def test_does_expect_general_rules_catch_slips_at_an_edge_case_only():
    from autograder.compare import expect_general_rules

    def reference(X, k):
        return X[:k] * 2, float(k)

    def zeroes_at_k0(X, k):  # right everywhere but k = 0, where it wipes X
        return (X.zero_()[:0], 0.0) if k == 0 else reference(X, k)

    def float32_for_one_row(X, k):
        return (X[:k].float() * 2 if X.shape[0] == 1 else X[:k] * 2), float(k)

    def tensor_for_the_number(X, k):
        return X[:k] * 2, torch.tensor(float(k))

    cases = [("k = 2", (torch.ones(3, 2, dtype=torch.float64), 2)), ("k = 0", (torch.ones(3, 2), 0)),
             ("a single row", (torch.ones(1, 2, dtype=torch.float64), 1))]
    expect_general_rules(_local_run(reference), reference, cases, ["X", "k"], "f")
    slip = failure(expect_general_rules, _local_run(zeroes_at_k0), reference, cases, ["X", "k"], "f")
    assert "modified in place" in slip.comparison and "(k = 0)" in slip.inputs and "X = tensor(3, 2)" in slip.inputs
    assert slip.mistake.startswith("X was zeroed in place")
    slip = failure(expect_general_rules, _local_run(float32_for_one_row), reference, cases, ["X", "k"], "f")
    assert slip.mistake == "you returned float32 where float64 came in" and "(a single row)" in slip.inputs
    assert "the result[0]" in slip.comparison
    slip = failure(expect_general_rules, _local_run(tensor_for_the_number), reference, cases, ["X", "k"], "f")
    assert "expected a Python number" in slip.comparison


def test_does_expect_general_rules_look_inside_lists_and_dicts():
    from autograder.compare import expect_general_rules

    def reference(X, params):
        return {"out": X @ params[0] + params[1]}

    def bias_added_in_place(X, params):
        return {"out": (X @ params[0]).add_(params[1]) if len(X) > 1 else params[1].add_((X @ params[0])[0])}

    def a_list_for_the_dict(X, params):
        return [X @ params[0] + params[1]]

    params = [torch.ones(2, 3), torch.zeros(3)]
    cases = [("two rows", (torch.ones(2, 2), params)), ("one row", (torch.ones(1, 2), params))]
    expect_general_rules(_local_run(reference), reference, cases, ["X", "params"], "f")
    slip = failure(expect_general_rules, _local_run(bias_added_in_place), reference, cases, ["X", "params"], "f")
    assert "params[1] modified in place" in slip.comparison and "(one row)" in slip.inputs
    assert slip.mistake.startswith("the result was computed in params[1] itself")
    slip = failure(expect_general_rules, _local_run(a_list_for_the_dict), reference, cases, ["X", "params"], "f")
    assert "a dict with keys ['out']" in slip.comparison


def test_are_in_place_slips_named_from_what_the_argument_holds():
    from autograder.compare import in_place_mistakes, matches

    X = torch.arange(1.0, 7.0).reshape(2, 3)
    [(shape_name, held)] = in_place_mistakes("X", X, X.reshape(1, 2, 3), None).items()
    assert "shape was changed in place" in shape_name and held.shape == (1, 2, 3)
    named = in_place_mistakes("X", X, X * 2, (X * 2).reshape(-1))
    assert [matches(X * 2, v) for v in named.values()] == [False, True]
    assert in_place_mistakes("X", X, 3.0, None) == {}

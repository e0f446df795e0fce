"""preprocess(table) -> float64 tensor: numeric columns mean-filled, then one-hot blocks with a _nan column."""
import pytest
import torch

from autograder.compare import expect_tensor

HINT = ("numeric columns first: None -> the mean of the present values; then for each categorical column one "
        "0/1 column per category in sorted order and one for None (pd.get_dummies(..., dummy_na=True))")

HOUSE = {"NumRooms": [None, 2, 4, None], "Alley": ["Pave", None, None, None]}
TABLES = [
    # interleaved numeric and categorical columns; a categorical column with nothing missing still gets its _nan
    {"colour": ["red", "blue", None, "blue", "green"], "size": [1.5, None, 2.0, 3.5, None],
     "shape": ["sq", "ci", "ci", "sq", "sq"], "count": [3, 1, None, 4, 2]},
    # a numeric column with nothing present (filled with 0), integers only, and a single row
    {"a": [None, None, None], "b": [1, 2, 6], "c": ["x", "y", None]},
    {"only": [7.0], "kind": ["k"]},
]


def mistakes(table):
    def variant(fill_zero=False, no_nan=False, unsorted=False, mean_over_all=False, table_order=False):
        numeric, one_hot = [], []
        for values in table.values():
            present = [v for v in values if v is not None]
            if all(isinstance(v, (int, float)) for v in present):
                mean = (sum(present) / (len(values) if mean_over_all else len(present))) if present else 0.0
                (one_hot if table_order else numeric).append(
                    [(0.0 if fill_zero else mean) if v is None else float(v) for v in values])
            else:
                levels = list(dict.fromkeys(present)) if unsorted else sorted(set(present))
                one_hot += [[float(v == c) for v in values] for c in levels]
                if not no_nan:
                    one_hot.append([float(v is None) for v in values])
        cols = numeric + one_hot
        return torch.tensor(cols, dtype=torch.float64).T
    found = {"missing numbers filled with 0 instead of the column mean": variant(fill_zero=True),
             "no column for missing categories (dummy_na=True keeps one)": variant(no_nan=True),
             "categories in order of appearance rather than sorted": variant(unsorted=True),
             "the mean divides by all rows, counting missing values as 0": variant(mean_over_all=True),
             "the table's column order was kept: the numeric columns must come first, then the one-hot blocks "
             "(as pd.get_dummies orders them)": variant(table_order=True)}
    right = variant()
    # a mistake that makes no difference on this table (one category: sorted is the order of appearance) is not one
    return {name: wrong for name, wrong in found.items()
            if wrong.shape != right.shape or not torch.equal(wrong, right)}


@pytest.mark.points(4)
def test_house_table(student, ref):
    """On d2l's house table (NumRooms with gaps, Alley Pave or missing): is it [NumRooms, Alley_Pave, Alley_nan]?"""
    expect_tensor(student.preprocess(HOUSE), ref.preprocess(HOUSE), "preprocess of d2l's house table",
                  inputs=f"table = {HOUSE}", mistakes=mistakes(HOUSE), hint=HINT)


@pytest.mark.points(6)
def test_mixed_tables(student, ref):
    """On tables with interleaved numeric and categorical columns, an empty numeric column and one row, is every
    feature right and in get_dummies' order?"""
    for table in TABLES:
        got = student.preprocess(table)
        expected = ref.preprocess(table)
        expect_tensor(got, expected, "preprocess(table): numeric columns first, then the one-hot blocks",
                      inputs=f"table = {table}", mistakes=mistakes(table), hint=HINT)

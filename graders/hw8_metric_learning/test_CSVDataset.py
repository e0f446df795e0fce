"""CSVDataset(path): a Dataset over a CSV file of numbers (no header); len = rows; [i] = (features (D,), label (1,)).

The grader writes each CSV file itself, into the worker's working folder, and reads the same text here with the
reference; the student's class only ever gets the file's name.
"""
import os
import tempfile

import pytest
import torch

from autograder.compare import CheckFailed, describe, expect, expect_tensor, read_number
from autograder.errors import StudentCodeError

HINT = ("xy = np.loadtxt(path, delimiter=',', dtype=np.float32, ndmin=2); self.x_data = torch.from_numpy(xy[:, :-1]); "
        "self.y_data = torch.from_numpy(xy[:, [-1]]); __getitem__ returns (self.x_data[i], self.y_data[i]); "
        "__len__ returns xy.shape[0]")
LABEL_AXIS = "the label is taken as xy[:, -1], which drops its axis: shape () instead of (1,) (use xy[:, [-1]])"
FEATURES_WITH_LABEL = "the label column is kept among the features (use xy[:, :-1])"
HEADER = "the first row is skipped as a header: the file has none"


def csv_text(n: int, d: int) -> str:
    X = torch.round(torch.rand(n, d) * 2 - 1, decimals=6)
    y = torch.randint(0, 2, (n,))
    return "".join(",".join(f"{v:.6f}" for v in row) + f",{int(label)}\n" for row, label in zip(X.tolist(), y))


def both(student, ref, name: str, text: str):
    """(the student's dataset in the worker, the reference's here) over the same file."""
    student.construct("toolbox.hw8_metric_learning.write_text", name, text)
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return student.CSVDataset(name), ref.CSVDataset(path)


def check_items(ds, want, where: str, n_columns: int) -> None:
    n = len(want)
    got_len = read_number(ds.call("__len__"), "len(dataset) is a number", inputs=where, integer=True)
    mistake = ("__len__ returns the number of columns, not of rows" if got_len == n_columns and n != n_columns
               else HEADER if got_len == n - 1 else None)
    expect(got_len == n, "len(dataset) is the number of rows", inputs=where, expected=str(n), got=f"{got_len:g}",
           mistake=mistake, hint=HINT)
    item = ds.method("__getitem__")
    for i in range(n):
        got = item(i)
        expect(isinstance(got, (tuple, list)) and len(got) == 2, f"dataset[{i}] is a pair (x, y)", inputs=where,
               expected="(features, label)", got=describe(got), hint=HINT)
        x, y = want[i]
        expect_tensor(got[0], x, f"dataset[{i}]'s features (every column but the last)", inputs=where, hint=HINT,
                      mistakes={FEATURES_WITH_LABEL: lambda: torch.cat([x, y]),
                                HEADER: lambda: want[i + 1][0]})
        expect_like_label(got[1], y, f"dataset[{i}]'s label (the last column, shape (1,))", where,
                          header=lambda: want[i + 1][1])


def expect_like_label(got, y, checked: str, where: str, header=None) -> None:
    if isinstance(got, torch.Tensor) and got.dim() == 0:
        raise CheckFailed(checked, where, f"expected shape {tuple(y.shape)}, got ()", HINT, LABEL_AXIS)
    expect_tensor(got, y, checked, inputs=where, hint=HINT, mistakes={HEADER: header} if header else None)


@pytest.mark.points(2)
def test_are_len_and_every_item_right(student, ref):
    """For a file of 13 rows of 4 features and a 0/1 label, is len 13 and is every item (x float32 (4,), y (1,))?"""
    name, text = "samples.csv", csv_text(13, 4)
    ds, want = both(student, ref, name, text)
    check_items(ds, want, f"a CSV file {name!r} of 13 rows: 4 features, then a 0/1 label (first row: "
                f"{text.splitlines()[0]})", 5)


@pytest.mark.points(2)
def test_does_it_read_one_row_and_one_feature(student, ref):
    """Does it read a file of one feature column, and a file of a single row (np.loadtxt's ndmin=2)?"""
    name, text = "one_feature.csv", csv_text(6, 1)
    ds, want = both(student, ref, name, text)
    check_items(ds, want, f"a CSV file {name!r} of 6 rows: 1 feature, then a 0/1 label", 2)
    name, text = "one_row.csv", csv_text(1, 3)
    where = f"a CSV file {name!r} of a single row: {text.strip()}"
    try:
        ds, want = both(student, ref, name, text)
        check_items(ds, want, where, 4)
    except StudentCodeError as exc:
        if exc.type == "NotImplementedError":
            raise
        raise CheckFailed("a file of one row is read as one sample", where, f"it raised {exc.type}: {exc.text[:200]}",
                          "np.loadtxt(..., ndmin=2) keeps a one-row file two-dimensional",
                          "a one-row file is read as a 1-D array (np.loadtxt without ndmin=2)") from None


@pytest.mark.points(1)
def test_does_a_dataloader_batch_it(student, ref):
    """Does DataLoader(dataset, batch_size=4) give batches of features (4, 3) and labels (4, 1)?"""
    name, text = "batched.csv", csv_text(10, 3)
    ds, local = both(student, ref, name, text)
    where = f"DataLoader(CSVDataset({name!r}), batch_size=4) over 10 rows of 3 features and a label"
    loader = student.construct("torch.utils.data.DataLoader", ds, batch_size=4)
    batches, _ = loader.iterate(5, label="iterating DataLoader(CSVDataset(...))")
    want = list(torch.utils.data.DataLoader(local, batch_size=4))
    expect(isinstance(batches, list) and len(batches) == len(want), "the loader gives ceil(10 / 4) = 3 batches",
           inputs=where, expected="3 batches", got=describe(batches), hint=HINT)
    for got, (x, y) in zip(batches, want):
        expect(isinstance(got, (tuple, list)) and len(got) == 2, "each batch is (features, labels)", inputs=where,
               expected="a pair", got=describe(got), hint=HINT)
        expect_tensor(got[0], x, "a batch's features", inputs=where, hint=HINT)
        expect_tensor(got[1], y, "a batch's labels, shaped like the model's output (batch, 1)", inputs=where,
                      hint=HINT, mistakes={LABEL_AXIS: y.reshape(-1)})

"""epoch_loop(dataset, batch_size, epochs, shuffle=True) -> {"epochs", "iterations_per_epoch", "iterations", "labels"}.

The notes' terms: an epoch uses every sample once, an iteration is one batch, an epoch has len / batch-size
iterations rounded up (the last batch smaller), shuffle draws a new order every epoch. The dataset is a
TensorDataset built in the worker whose label of row i is i, so the labels seen say which rows came in which order.
"""
import math

import pytest
import torch

from autograder.compare import describe, expect, read_number

HINT = ("loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle); for epoch in range(epochs): for i, "
        "(inputs, labels) in enumerate(loader, 0): keep labels and count one iteration; iterations_per_epoch is "
        "len(loader) (len(dataset) / batch_size rounded up)")
DROP_LAST = "the last, smaller batch is dropped (drop_last=True)"


def run(student, n, batch_size, epochs, shuffle):
    X = torch.randn(n, 2)
    y = torch.arange(n, dtype=torch.float32)[:, None]
    dataset = student.construct("torch.utils.data.TensorDataset", X, y)
    where = (f"a TensorDataset of {n} samples (the label of sample i is i), batch_size={batch_size}, "
             f"epochs={epochs}, shuffle={shuffle}")
    got = student.epoch_loop(dataset, batch_size, epochs, shuffle)
    keys = ("epochs", "iterations_per_epoch", "iterations", "labels")
    expect(isinstance(got, dict) and all(k in got for k in keys), "epoch_loop returns a dict with the four keys",
           inputs=where, expected=", ".join(repr(k) for k in keys), got=describe(got), hint=HINT)
    seen = got["labels"]
    ok = isinstance(seen, list) and all(isinstance(e, list) and all(isinstance(b, torch.Tensor) for b in e)
                                        for e in seen)
    expect(ok, "'labels' holds, per epoch, a list of each iteration's label tensor", inputs=where,
           expected="a list of lists of tensors", got=describe(seen), hint=HINT)
    orders = [[[int(v) for v in b.reshape(-1).tolist()] for b in epoch] for epoch in seen]
    return got, orders, where


def check_counts(got, orders, n, batch_size, epochs, where):
    per_epoch = math.ceil(n / batch_size)
    done = read_number(got["epochs"], "'epochs' is an int", inputs=where, integer=True)
    expect(done == epochs and len(orders) == epochs, "the loop runs every epoch", inputs=where,
           expected=f"{epochs} epochs", got=f"'epochs' = {done:g}, labels of {len(orders)} epochs",
           mistake="one epoch too few (range(1, epochs))" if done == epochs - 1 or len(orders) == epochs - 1 else None,
           hint=HINT)
    ipe = got["iterations_per_epoch"]
    mistake = (DROP_LAST + ", or len(dataset) // batch_size, which misses it" if ipe == n // batch_size
               else "len(dataset) / batch_size, not rounded up to whole iterations" if ipe == n / batch_size else None)
    expect(isinstance(ipe, int) and not isinstance(ipe, bool) and ipe == per_epoch,
           "'iterations_per_epoch' is len(dataset) / batch_size rounded up", inputs=where,
           expected=str(per_epoch), got=describe(ipe), mistake=mistake, hint=HINT)
    total = got["iterations"]
    mistake = ("iterations counts one epoch only (reset every epoch)" if total == per_epoch and epochs > 1
               else "iterations counts samples, not batches" if total == n * epochs
               else DROP_LAST if total == (n // batch_size) * epochs else None)
    expect(isinstance(total, int) and not isinstance(total, bool) and total == per_epoch * epochs,
           "'iterations' counts every iteration of every epoch", inputs=where, expected=str(per_epoch * epochs),
           got=describe(total), mistake=mistake, hint=HINT)
    sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    for e, epoch in enumerate(orders):
        got_sizes = [len(b) for b in epoch]
        expect(got_sizes == sizes, f"epoch {e + 1}'s batches have batch_size samples, the last one the rest",
               inputs=where, expected=str(sizes), got=str(got_sizes),
               mistake=DROP_LAST if got_sizes == sizes[:n // batch_size] else None, hint=HINT)
        flat = sorted(v for b in epoch for v in b)
        expect(flat == list(range(n)), f"epoch {e + 1} uses every sample exactly once", inputs=where,
               expected=f"the labels 0..{n - 1} once each", got=str(flat[:30]), hint=HINT)


@pytest.mark.points(2)
def test_without_shuffle(student):
    """With shuffle=False, 23 samples in batches of 5 for 3 epochs: 3 epochs, 5 iterations each, 15, in order?"""
    got, orders, where = run(student, 23, 5, 3, False)
    check_counts(got, orders, 23, 5, 3, where)
    for e, epoch in enumerate(orders):
        expect([v for b in epoch for v in b] == list(range(23)), f"epoch {e + 1} sees the samples in order",
               inputs=where, expected="0, 1, ..., 22", got=str([v for b in epoch for v in b]),
               mistake="the loader shuffles although shuffle=False was asked", hint=HINT)


@pytest.mark.points(2)
def test_with_shuffle(student):
    """With shuffle=True, is each epoch a new random order of every sample?"""
    got, orders, where = run(student, 23, 4, 3, True)
    check_counts(got, orders, 23, 4, 3, where)
    flat = [[v for b in epoch for v in b] for epoch in orders]
    expect(any(order != list(range(23)) for order in flat), "shuffle=True draws a random order", inputs=where,
           expected="epochs in random orders", got="every epoch in the samples' order",
           mistake="shuffle is not passed on to the DataLoader", hint=HINT)
    expect(len({tuple(o) for o in flat}) == len(flat), "each epoch has a new order", inputs=where,
           expected="3 different orders", got=str(flat),
           mistake="the samples are shuffled once, not every epoch", hint=HINT)


@pytest.mark.points(1)
@pytest.mark.parametrize("n, batch_size, epochs", [(7, 7, 2), (7, 10, 1), (6, 1, 2)])
def test_edge_batch_sizes(student, n, batch_size, epochs):
    """Is the count right for a batch as large as the data set, a larger one, and batches of one?"""
    got, orders, where = run(student, n, batch_size, epochs, False)
    check_counts(got, orders, n, batch_size, epochs, where)

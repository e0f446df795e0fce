"""data_iter(batch_size, features, labels): one pass of minibatches in a fresh random order."""
import itertools
from collections import Counter

import pytest
import torch

from autograder.compare import expect, expect_pair, inputs


def numbered(n, device, dtype=torch.float32, label_shape="column"):
    """Features whose first column is the example's index, and labels 10 * index: easy to trace."""
    idx = torch.arange(n, dtype=dtype, device=device)
    features = torch.stack([idx, 2 * idx + 0.5, -idx], dim=1)
    labels = 10 * idx
    return features, labels.reshape(n, 1) if label_shape == "column" else labels


def one_pass(student, batch_size, features, labels):
    where = inputs(batch_size=batch_size, features=features, labels=labels)
    items, exhausted = student.data_iter.collect(batch_size, features, labels, limit=10 * len(features) + 10)
    expect(exhausted, "one call yields a finite number of batches", inputs=where, expected="the generator to stop",
           got=f"more than {len(items)} batches", hint="loop once over range(0, num_examples, batch_size)")
    return [expect_pair(item, "each item is a pair (X_batch, y_batch)", inputs=where) for item in items], where


def order_of(batches):
    return [int(i) for X, _ in batches for i in X[:, 0].tolist()]


@pytest.mark.points(6)
def test_one_pass_covers_every_example_once(student, device):
    """Does one pass yield every example exactly once, in batches of batch_size with the remainder last?"""
    for n, batch_size, label_shape in [(23, 5, "column"), (10, 10, "flat"), (7, 10, "column"), (1, 3, "flat")]:
        features, labels = numbered(n, device, label_shape=label_shape)
        batches, where = one_pass(student, batch_size, features, labels)
        sizes = [len(X) for X, _ in batches]
        want = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
        mistake = "the last, smaller batch is dropped" if sizes == want[:-1] and n % batch_size else None
        if len(sizes) == len(want) and sizes != want and all(s == w - 1 for s, w in zip(sizes, want)):
            mistake = "each batch is one example short: an off-by-one in the slice's end (indices[i:i + batch_size])"
        expect(sizes == want, "batch sizes: batch_size each, the remainder last", inputs=where,
               expected=str(want), got=str(sizes), mistake=mistake,
               hint="for i in range(0, num_examples, batch_size), take indices[i: i + batch_size]")
        seen = sorted(order_of(batches))
        expect(seen == list(range(n)), "every example appears exactly once per pass", inputs=where,
               expected=f"each of the {n} examples once", got=f"{len(seen)} examples, {len(set(seen))} distinct",
               mistake="examples drawn with replacement" if len(set(seen)) < len(seen) else None,
               hint="shuffle a list of all indices once per call, then walk through it")
        for X, y in batches:
            expect(tuple(y.shape) == (len(X), *labels.shape[1:]), "a label batch keeps the labels' shape",
                   inputs=where, expected=f"shape {(len(X), *labels.shape[1:])}", got=f"shape {tuple(y.shape)}")
            together = torch.equal(10 * X[:, 0], y.reshape(-1))
            expect(together, "each example's features and label stay together", inputs=where,
                   expected="labels[i] with features[i]", got="labels from other examples",
                   mistake="features and labels shuffled with different orders",
                   hint="index features and labels with the same batch of indices")


@pytest.mark.points(5)
def test_order_is_random_and_fresh_on_every_call(student, device):
    """Is the order random, and new on every call (every ordering possible)?"""
    features, labels = numbered(100, device)
    first, where = one_pass(student, 10, features, labels)
    second, _ = one_pass(student, 10, features, labels)
    expect(order_of(first) != list(range(100)), "the examples are shuffled", inputs=where,
           expected="a random order", got="the original order", mistake="no shuffling",
           hint="random.shuffle(indices) or torch.randperm(num_examples)")
    expect(order_of(first) != order_of(second), "each call shuffles anew", inputs=where,
           expected="two calls in different orders", got="the same order twice",
           mistake="the order is shuffled once, outside data_iter", hint="shuffle inside data_iter, on every call")
    # All 24 orders of 4 examples should appear in 480 calls (a missing one has probability ~3e-8).
    # One request for the 480 calls: the same calls, without 480 round trips to the worker.
    small_features, small_labels = numbered(4, device)
    passes, _ = student.data_iter.collect_repeated(480, 4, small_features, small_labels, limit=50)
    counts = Counter(tuple(order_of([expect_pair(item, "each item is a pair (X_batch, y_batch)", inputs=where)
                                     for item in items])) for items in passes)
    missing = [p for p in itertools.permutations(range(4)) if p not in counts]
    expect(not missing, "every ordering of the examples can occur", inputs="480 calls with 4 examples, batch_size 4",
           expected="all 24 orders", got=f"{len(counts)} distinct orders", mistake="not a uniform shuffle",
           hint="use random.shuffle or torch.randperm rather than a hand-made rotation")


@pytest.mark.points(4)
@pytest.mark.general_rule
def test_dtypes_devices_and_inputs_untouched(student, device):
    """Do batches keep the inputs' dtype and device, and are the inputs left unmodified?"""
    for dtype, label_dtype in [(torch.float64, torch.float64), (torch.float32, torch.int64)]:
        features, labels = numbered(12, device, dtype=dtype, label_shape="flat")
        labels = labels.to(label_dtype)
        where = inputs(batch_size=5, features=features, labels=labels)
        result = student.data_iter.run((5, features, labels), collect=1000, return_args=True)
        for item in result.value:
            X, y = expect_pair(item, "each item is a pair (X_batch, y_batch)", inputs=where)
            expect(X.dtype == dtype and y.dtype == label_dtype, "batches keep the inputs' dtypes", inputs=where,
                   expected=f"{dtype} and {label_dtype}", got=f"{X.dtype} and {y.dtype}")
            expect(str(X.device) == str(device) and str(y.device) == str(device), "batches stay on the inputs' device",
                   inputs=where, expected=str(device), got=f"{X.device} and {y.device}",
                   hint="index with a tensor on features.device")
        after = result.args_after
        expect(torch.equal(after[1], features) and torch.equal(after[2], labels), "the inputs are left unmodified",
               inputs=where, expected="features and labels unchanged", got="they were reordered in place",
               hint="shuffle a list of indices, not the data")

"""evaluate_accuracy(net, data_iter) -> fraction correct over the whole iterator, a float in [0, 1].

An nn.Module is put in eval mode, and no autograd graph is built.
"""
import pytest
import torch

from autograder.compare import NUMBER_AS_TENSOR_MISTAKE, describe, expect

D, Q = 6, 4  # inputs (1 x 2 x 3 images) and classes
HINT = ("sum accuracy(net(X), y) and y.numel() over all batches, then divide once; "
        "call net.eval() for an nn.Module and run the loop inside `with torch.no_grad():`")


def dataset(n, batch_size, device):
    """Images, the classifier's weights, and labels that make the batches' accuracies differ.

    Half of every full batch is right and the whole short last batch is right, so the fraction over
    all examples differs from the mean of the batches' fractions.
    """
    X = torch.rand(n, 1, 2, 3, dtype=torch.float64, device=device)
    W = torch.randn(Q, D, dtype=torch.float64, device=device)
    b = torch.randn(Q, dtype=torch.float64, device=device)
    predicted = (X.reshape(n, D) @ W.T + b).argmax(dim=1)
    index = torch.arange(n, device=device)
    short_last = n > batch_size and n % batch_size
    right = (index % 2 == 0) | ((index >= n - n % batch_size) if short_last else False)
    return X, torch.where(right, predicted, (predicted + 1) % Q), W, b


def where_text(n, batch_size, net="an nn.Module (a linear classifier)"):
    if n % batch_size == 0:
        return f"net = {net}, data_iter = {n} examples in {n // batch_size} batches of {batch_size}"
    return f"net = {net}, data_iter = {n} examples in batches of {batch_size} (the last holds {n % batch_size})"


def module_net(student, W, b, device):
    """A linear classifier (nn.Module) with weights W, b, in the worker; float64 on ``device``."""
    net = student.construct("toolbox.linear_classifier", D, Q).call("to", device=device, dtype=torch.float64)
    net.call("load_state_dict", {"1.weight": W, "1.bias": b})
    return net


def fraction(got, where):
    """The student's fraction as a Python number (a one-element tensor is read; the type is checked elsewhere)."""
    if isinstance(got, torch.Tensor) and got.numel() == 1 and not got.dtype.is_complex:
        return float(got.reshape(-1)[0])
    expect(isinstance(got, (int, float)) and not isinstance(got, bool), "evaluate_accuracy returns a number",
           inputs=where, expected="a float in [0, 1]", got=describe(got), hint=HINT)
    return float(got)


def expected_and_mistakes(X, y, W, b, batch_size):
    correct = (X.reshape(len(X), D) @ W.T + b).argmax(dim=1) == y
    per_batch = [c.double().mean().item() for c in correct.split(batch_size)]
    want = correct.double().mean().item()
    return want, {
        "the batches' accuracies were averaged, so the short last batch counts as much as a full one; "
        "divide the total number correct by the total number of examples": sum(per_batch) / len(per_batch),
        "the number correct was returned, not the fraction": float(correct.sum()),
        "only the last batch was counted": per_batch[-1],
    }


def own_fraction(student, X, y, W, b, batch_size, want):
    """The fraction the student's own accuracy() gives, batch by batch: evaluate_accuracy calls it, so a wrong
    accuracy (charged to that part) is not charged here again. The reference's fraction where it raises."""
    scores = X.reshape(len(X), D) @ W.T + b
    try:
        counts = [student.accuracy(s, t) for s, t in zip(scores.split(batch_size), y.split(batch_size))]
        return sum(float(c) for c in counts) / len(X)
    except Exception:
        return want


def graded_alone(student, got, want, X, y, W, b, batch_size):
    """``want``, or what the student's own accuracy gives where that is wrong and ``got`` is exactly it."""
    if student is None or abs(got - want) < 1e-6:
        return want
    own = own_fraction(student, X, y, W, b, batch_size, want)
    return own if abs(own - want) > 1e-6 and abs(got - own) < 1e-6 else want


def check_fraction(got, X, y, W, b, batch_size, where, student=None):
    got = fraction(got, where)
    want, mistakes = expected_and_mistakes(X, y, W, b, batch_size)
    want = graded_alone(student, got, want, X, y, W, b, batch_size)
    # Fractions of at most 50 examples lie 0.02 apart; 1e-6 leaves room for a float32 division.
    named = [name for name, value in mistakes.items() if abs(value - got) < 1e-6 and abs(value - want) > 1e-6]
    expect(abs(got - want) < 1e-6, "evaluate_accuracy is the fraction correct over all examples", inputs=where,
           expected=f"{want:.10g}", got=f"{got:.10g}", mistake=named[0] if named else None, hint=HINT)


@pytest.mark.points(6)
def test_fraction_over_all_examples(student, device):
    """Is the result the fraction correct over every example, a short last batch weighted by its size?"""
    for n, batch_size in [(50, 16), (48, 16), (7, 10)]:
        X, y, W, b = dataset(n, batch_size, device)
        net = module_net(student, W, b, device)
        batches = student.construct("toolbox.Batches", X, y, batch_size)
        check_fraction(student.evaluate_accuracy(net, batches), X, y, W, b, batch_size, where_text(n, batch_size),
                       student)


MODE_SENSITIVE = "toolbox.ModeSensitive"
# How the network was run -> how many classes ModeSensitive rolls its scores by (see the toolbox).
RUN_WRONG = {1: "net.eval() was not called, so dropout and batch norm would still behave as in training",
             2: "the loop is not inside `with torch.no_grad():`, so every batch builds a graph for nothing",
             3: "neither net.eval() nor `with torch.no_grad():` was used"}


def rolled_labels(X, W, b):
    """Labels at predicted + k (mod Q), with k = 0, 1, 2, 3 on 20, 14, 9 and 5 of 48 examples.

    A loop that runs the network in the wrong way sees scores rolled by 1, 2 or 3 classes and so
    reports 14, 9 or 5 of 48 correct instead of 20: the fraction itself tells how it ran the net.
    (Equal batches here, so that averaging over batches, graded above, does not matter.)
    """
    predicted = (X.reshape(len(X), D) @ W.T + b).argmax(dim=1)
    k = torch.tensor([0] * 20 + [1] * 14 + [2] * 9 + [3] * 5, device=X.device)
    k = k[torch.randperm(len(k), device=X.device)]
    return (predicted + k) % Q, k


@pytest.mark.points(5)
def test_eval_mode_and_no_graph(student, device):
    """Is an nn.Module put in eval mode, and run once per batch without building an autograd graph?"""
    n, batch_size = 48, 16
    X, _, W, b = dataset(n, batch_size, device)
    y, k = rolled_labels(X, W, b)
    # A new module starts in training mode; this one scores right only in eval mode without autograd.
    probe = student.construct(MODE_SENSITIVE, module_net(student, W, b, device), False)
    where = where_text(n, batch_size, "an nn.Module in training mode")
    got = fraction(student.evaluate_accuracy(probe, student.construct("toolbox.Batches", X, y, batch_size)), where)
    calls = probe.attr("calls")
    ok = isinstance(calls, list) and all(isinstance(c, dict) and {"training", "grad_enabled", "batch"} <= set(c)
                                         for c in calls)
    expect(ok, "the network's record of its calls is intact", inputs=where, expected="a list of calls",
           got=describe(calls), hint="do not change the network's attributes; only call it")
    sizes = [c["batch"] for c in calls]
    want = [batch_size] * (n // batch_size)
    expect(sizes == want, "the network is called once per batch, on every example", inputs=where,
           expected=f"calls on batches of {want}", got=f"calls on batches of {sizes}", hint=HINT)
    expect(not any(c["training"] for c in calls), "the network runs in eval mode", inputs=where,
           expected="training = False during every call", got="training = True", mistake=RUN_WRONG[1],
           hint="if isinstance(net, torch.nn.Module): net.eval()")
    expect(not any(c["grad_enabled"] for c in calls), "no autograd graph is built while evaluating", inputs=where,
           expected="autograd off (torch.no_grad()) during every call", got="autograd on", mistake=RUN_WRONG[2],
           hint="wrap the loop in `with torch.no_grad():`")
    # The record above lives with the student's code; the fraction does not lie about how the net ran.
    # (A count instead of a fraction is graded above; here only how the network ran matters.)
    counts = {shift: float((k == shift).sum()) for shift in range(4)}
    counts[0] = graded_alone(student, got, counts[0] / n, X, y, W, b, batch_size) * n
    named = [RUN_WRONG[s] for s in (1, 2, 3) if min(abs(counts[s] / n - got), abs(counts[s] - got)) < 1e-6]
    expect(min(abs(counts[0] / n - got), abs(counts[0] - got)) < 1e-6,
           "the accuracy is that of the network in eval mode without autograd",
           inputs=where, expected=f"{counts[0] / n:.10g}", got=f"{got:.10g}", mistake=named[0] if named else None,
           hint=HINT)


@pytest.mark.points(4)
def test_plain_function_as_net(student, device):
    """With a plain function as the network (d2l's from-scratch net), is the fraction right, as a Python float?"""
    n, batch_size = 48, 16  # equal batches: averaging over batches is graded above
    X, y, W, b = dataset(n, batch_size, device)
    params = [student.put(W.T.contiguous(), requires_grad=True), student.put(b, requires_grad=True)]
    net = student.construct("toolbox.hw2_softmax_regression.CallableNet", *params)
    where = where_text(n, batch_size, "a plain function of X (not an nn.Module), with parameters that require grad")
    got = student.evaluate_accuracy(net, student.construct("toolbox.Batches", X, y, batch_size))
    check_fraction(got, X, y, W, b, batch_size, where, student)
    expect(type(got) is float, "evaluate_accuracy returns a Python float", inputs=where, expected="a float",
           got=describe(got),
           mistake=NUMBER_AS_TENSOR_MISTAKE if isinstance(got, torch.Tensor) else None,
           hint="divide two Python numbers: accumulate float(accuracy(...)) and y.numel()")

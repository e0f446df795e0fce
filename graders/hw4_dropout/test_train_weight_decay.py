"""train_weight_decay(lambd, train_features, train_labels, num_epochs=100, lr=0.003, batch_size=5) -> (w, b):
minibatch SGD on squared_loss + lambd * l2_penalty(w), the bias not decayed (d2l 4.5's 20 x 200 problem)."""
import math

import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_like, expect_pair, inputs

TRAIN_SECONDS = 60  # generous: d2l's 400 steps take well under a second


def train(student, lambd, features, labels, device_probe=True, **kwargs):
    """(w, b) from the student, checked for shapes, dtype and device before any arithmetic on them.
    ``device_probe=False`` for d2l's long runs (hundreds of steps): their repeat on the meta device never ends within
    its allowance; the short runs of the other tests are probed."""
    where = f"lambd = {lambd}, " + inputs(train_features=features, train_labels=labels, **kwargs)
    fn = student.function("train_weight_decay", timeout=TRAIN_SECONDS)
    w, b = expect_pair((fn if device_probe else fn.without_device_probe())(lambd, features, labels, **kwargs),
                       "train_weight_decay returns (w, b)", inputs=where, names="(w, b)")
    d = features.shape[1]
    if isinstance(w, torch.Tensor) and tuple(w.shape) == (d,):
        expect(False, "w has shape (num_inputs, 1)", inputs=where, expected=f"shape ({d}, 1)", got=f"shape ({d},)",
               mistake="w is a vector of shape (num_inputs,) instead of a column of shape (num_inputs, 1)",
               hint="w = torch.normal(0, 1, size=(num_inputs, 1), ...): linreg's X @ w is then a column like y")
    expect_like(w, "w has shape (num_inputs, 1)", shape=(d, 1), dtype=features.dtype, device=features.device,
                inputs=where, hint="w = torch.normal(0, 1, size=(num_inputs, 1), ...) on the features' device")
    expect_like(b, "b has shape (1,)", shape=(1,), dtype=features.dtype, device=features.device, inputs=where,
                hint="b = torch.zeros(1, ...) on the features' device")
    return w.detach(), b.detach(), where


def mean_loss(w, b, X, y):
    return float(((X @ w + b - y.reshape(-1, 1)) ** 2 / 2).mean())


@pytest.mark.points(3)
def test_returns_w_and_b(student, ref, device, dtype):
    """Does it return w of shape (num_inputs, 1) and b of shape (1,), in the features' dtype and device?"""
    (features, labels), _ = ref.weight_decay_data(dtype=dtype, device=device)
    train(student, 3, features, labels, num_epochs=2)
    train(student, 0, features[:10, :7], labels[:10].reshape(-1), num_epochs=1, batch_size=4)
    # The general rules at the edges (the data untouched; w and b in the features' dtype and device): no epoch,
    # one batch of the whole set, lr = 0 with labels of shape (n,).
    X, y = features[:6, :3].clone(), labels[:6].clone()
    edges = [("num_epochs = 0", (3, X, y, 0, 0.003, 5)), ("batch_size = n", (3, X, y, 2, 0.003, 6)),
             ("lr = 0, labels of shape (n,)", (0, X, y.reshape(-1), 1, 0.0, 4))]
    expect_general_rules(student.function("train_weight_decay", timeout=TRAIN_SECONDS).run, ref.train_weight_decay,
                         edges, ["lambd", "train_features", "train_labels", "num_epochs", "lr", "batch_size"],
                         "train_weight_decay")


@pytest.mark.points(5)
def test_fits_the_training_data_without_decay(student, ref, device):
    """With lambd = 0 and d2l's defaults (100 epochs, lr 0.003, batch 5), is the training loss nearly zero?"""
    (features, labels), _ = ref.weight_decay_data(device=device)
    w, b, where = train(student, 0, features, labels, device_probe=False)
    loss = mean_loss(w, b, features, labels)
    expect(loss < 1e-3, "20 examples in 200 dimensions are fitted: the training loss is nearly zero", inputs=where,
           expected="a mean squared loss below 0.001", got=f"{loss:.4g}",
           hint="each step: l = squared_loss(linreg(X, w, b), y) + lambd * l2_penalty(w); l.sum().backward(); "
                "sgd([w, b], lr, batch_size); with lambd = 0 this is plain linear regression")


@pytest.mark.points(7)
def test_weight_norm_shrinks_as_lambd_grows(student, ref, device):
    """On d2l's data, does ||w|| fall from lambd = 0 to 3 to 10, and does lambd = 3 cure the overfitting?"""
    (features, labels), (test_features, test_labels) = ref.weight_decay_data(device=device)
    norms, test_losses = {}, {}
    for lambd in (0, 3, 10):
        w, b, _ = train(student, lambd, features, labels, device_probe=False)
        norms[lambd] = float(torch.linalg.vector_norm(w))
        test_losses[lambd] = mean_loss(w, b, test_features, test_labels)
    where = "d2l 4.5's data: 20 training examples, 200 inputs, true w = 0.01, b = 0.05; defaults otherwise"
    got = ", ".join(f"{norms[k]:.4g} (lambd = {k})" for k in norms)
    grows = not math.isfinite(norms[10]) or norms[10] > 2 * norms[0]
    expect(norms[3] < 0.9 * norms[0] and norms[10] < 0.9 * norms[3], "the norm of w falls as lambd grows",
           inputs=where, expected="||w|| clearly smaller for each larger lambd", got=got,
           mistake="the penalty is subtracted (the weights grow with lambd)" if grows else None,
           hint="add lambd * l2_penalty(w) to the loss; its gradient lambd * w pulls w towards 0")
    expect(test_losses[3] < 1.0, "with lambd = 3 the test loss is small (weight decay cures the overfitting)",
           inputs=where, expected="a mean squared test loss below 1", got=f"{test_losses[3]:.4g}",
           hint="with lambd = 3 the weights should shrink to about 0.35 in norm after 100 epochs")


@pytest.mark.points(6)
def test_each_step_multiplies_w_by_1_minus_lr_lambd(student, device):
    """With all-zero features only the penalty moves w: after k steps is w scaled by (1 - lr * lambd) ** k?"""
    n, d, batch_size, lr, lambd, epochs = 20, 2000, 4, 0.02, 2.0, 10
    features = torch.zeros(n, d, dtype=torch.float64, device=device)
    labels = torch.full((n, 1), 2.0, dtype=torch.float64, device=device)
    w0, _, _ = train(student, lambd, features, labels, num_epochs=0, lr=lr, batch_size=batch_size)
    wk, _, where = train(student, lambd, features, labels, num_epochs=epochs, lr=lr, batch_size=batch_size)
    start, end = float(torch.linalg.vector_norm(w0)), float(torch.linalg.vector_norm(wk))
    if start == 0.0:  # w starts at zero (allowed): there is nothing to decay, and it must stay zero
        expect(end == 0.0, "from w = 0 with all-zero features w stays 0", inputs=where, expected="0",
               got=f"{end:.4g}", hint="with all-zero features only lambd * w moves w, and it is 0 here")
        return
    steps = epochs * n // batch_size
    factors = {
        "": (1 - lr * lambd) ** steps,
        "lambd is ignored (no decay at all)": 1.0,
        "the penalty is subtracted instead of added": (1 + lr * lambd) ** steps,
        "the penalty's gradient is divided by batch_size: it was added once to the summed loss, or the loss was "
        "averaged before sgd divided by batch_size again; add lambd * l2_penalty(w) to every example's loss, then "
        "sum, as d2l does": (1 - lr * lambd / batch_size) ** steps,
        "the decay is doubled (l2_penalty without the 1/2?)": (1 - 2 * lr * lambd) ** steps,
        "the lr argument is ignored (0.003 used)": (1 - 0.003 * lambd) ** steps,
    }
    ratio = end / start
    # Two independent draws of a 2000-dimensional w have norms within a few percent of each other.
    close = {name: abs(math.log(ratio / f)) < 0.15 for name, f in factors.items()}
    mistake = next((name for name, hit in close.items() if name and hit), None)
    expect(close[""], f"each of the {steps} steps multiplies w by 1 - lr * lambd", inputs=where,
           expected=f"||w|| shrunk by a factor {factors['']:.4f}", got=f"a factor {ratio:.4f}", mistake=mistake,
           hint="the gradient of lambd * l2_penalty(w) is lambd * w, so sgd's step removes lr * lambd * w")


@pytest.mark.points(4)
def test_bias_is_not_decayed(student, device):
    """With a large lambd, is the bias still fitted (true b = 5, w irrelevant)?"""
    n, d, lambd = 40, 5, 10.0
    features = torch.randn(n, d, device=device)
    labels = 5.0 + 0.01 * torch.randn(n, 1, device=device)
    w, b, where = train(student, lambd, features, labels, device_probe=False, num_epochs=30, lr=0.03)
    got = float(b[0])
    decayed = float(labels.mean()) / (1 + lambd)
    expect(abs(got - 5.0) < 0.1, "the bias is fitted, untouched by weight decay", inputs=where + " (y = 5 + noise)",
           expected="b close to 5", got=f"b = {got:.4f}",
           mistake="the bias is decayed too" if abs(got - decayed) < 0.1 else None,
           hint="penalise only w (lambd * l2_penalty(w)), never b; and train with the lr and num_epochs passed in")

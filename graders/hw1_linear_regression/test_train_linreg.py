"""train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10) -> (w, b), trained from scratch."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_like, expect_pair, inputs, mean_bound, std_bound

TRAIN_SECONDS = 120  # generous: d2l's 300 steps take well under a second


def train(student, *args, device_probe=True, **kwargs):
    where = inputs(features=args[0], labels=args[1], **kwargs)
    fn = student.function("train_linreg", timeout=TRAIN_SECONDS)
    w, b = expect_pair((fn if device_probe else fn.without_device_probe())(*args, **kwargs),
                       "train_linreg returns (w, b)", inputs=where, names="(w, b)")
    return w, b, where


@pytest.mark.points(8)
def test_recovers_true_parameters(student, ref, device):
    """Does training on synthetic data recover the true w and b?"""
    cases = [  # (true w, n, dtype, labels flat?, keyword arguments)
        ([2.0, -3.4], 1000, torch.float32, False, {}),
        ([1.0, -2.0, 0.5, 3.0, -1.5], 500, torch.float64, True, {"num_epochs": 5, "batch_size": 7}),
    ]
    for true_w, n, dtype, flat, kwargs in cases:
        true_w = torch.tensor(true_w, dtype=dtype, device=device)
        features, labels = ref.synthetic_data(true_w, 4.2, n)
        labels = labels.reshape(-1) if flat else labels
        # Hundreds of steps: their repeat on meta never ends within its allowance (the short runs of the other tests
        # are probed).
        w, b, where = train(student, features, labels, device_probe=False, **kwargs)
        d = len(true_w)
        expect_like(w, "w has shape (d, 1)", shape=(d, 1), dtype=dtype, device=device, inputs=where)
        expect_like(b, "b has shape (1,)", shape=(1,), dtype=dtype, device=device, inputs=where)
        w_err = float((w.detach().reshape(-1) - true_w).abs().max())
        b_err = abs(float(b.detach().reshape(-1)[0]) - 4.2)
        expect(w_err < 0.02 and b_err < 0.02, "the trained parameters are close to the true ones", inputs=where,
               expected="errors below 0.02", got=f"largest error in w {w_err:.4f}, in b {b_err:.4f}",
               hint="check each step: squared_loss(linreg(X, w, b), y).sum().backward(), then sgd([w, b], lr, "
                    "batch_size); and that w and b require grad")


@pytest.mark.points(4)
def test_initialisation(student, device):
    """With num_epochs=0, are w ~ N(0, 0.01^2) of shape (d, 1) and b = 0 of shape (1,) returned untrained?"""
    d = 4000
    features = torch.randn(20, d, dtype=torch.float64, device=device)
    labels = torch.randn(20, 1, dtype=torch.float64, device=device)
    w, b, where = train(student, features, labels, num_epochs=0)
    expect_like(w, "w has shape (d, 1) and the features' dtype", shape=(d, 1), dtype=torch.float64, device=device,
                inputs=where)
    expect_like(b, "b has shape (1,) and the features' dtype", shape=(1,), dtype=torch.float64, device=device,
                inputs=where)
    mean, std = float(w.detach().mean()), float(w.detach().std())
    expect(abs(mean) < mean_bound(0.01, d) and abs(std - 0.01) < std_bound(0.01, d), "w starts from N(0, 0.01^2)",
           inputs=where, expected="mean 0 and standard deviation 0.01", got=f"mean {mean:.5f}, std {std:.5f}",
           mistake="w starts at zero" if std == 0 else None, hint="torch.normal(0, 0.01, size=(d, 1), ...)")
    expect(float(b.detach().abs().sum()) == 0.0, "b starts at zero", inputs=where, expected="b = 0",
           got=f"b = {b.detach().tolist()}", hint="torch.zeros(1, ...)")


@pytest.mark.points(3)
def test_uses_lr_and_batch_size(student, ref, device):
    """Does one full-batch epoch take exactly one step of size lr, b moving to about lr * mean(y)?"""
    n, lr = 400, 0.03
    features = torch.randn(n, 3, device=device)
    labels = torch.full((n, 1), 5.0, device=device) + 0.1 * torch.randn(n, 1, device=device)
    w, b, where = train(student, features, labels, lr=lr, num_epochs=1, batch_size=n)
    expected_b = lr * float(labels.mean())  # from w ~ 0, b = 0: one step b -= lr * sum(y_hat - y) / n
    got_b = float(b.detach().reshape(-1)[0])
    mistake = None
    if abs(got_b - expected_b * n) < 0.05 * expected_b * n:
        mistake = "the step is not divided by the batch size"
    elif abs(got_b - expected_b / n) < 0.05 * expected_b / n:
        mistake = ("the step is divided by the batch size twice: backward on the mean loss, and sgd divides by "
                   "batch_size again (call l.sum().backward())")
    expect(abs(got_b - expected_b) < 0.01, "one full-batch step moves b by lr * mean(y - y_hat)", inputs=where,
           expected=f"b close to {expected_b:.4f}", got=f"b = {got_b:.4f}", mistake=mistake,
           hint="pass lr and batch_size on to data_iter and sgd")
    w0, b0, where0 = train(student, features, labels, lr=0.0, num_epochs=2)
    expect(float(b0.detach().abs().sum()) == 0.0, "with lr = 0 the parameters do not move", inputs=where0,
           expected="b still 0", got=f"b = {b0.detach().tolist()}", hint="use the lr argument, not a constant",
           mistake="the lr argument is not used: the parameters move with lr = 0 (a learning rate of its own)")
    # The general rules at the edges (features and labels untouched; w and b in their dtype and device): labels of
    # shape (n,) in float64, a batch_size larger than n.
    features64 = torch.randn(12, 2, dtype=torch.float64, device=device)
    edges = [("labels of shape (n,), float64", (features64, features64 @ torch.ones(2, dtype=torch.float64,
                                                                                   device=device), 0.03, 1, 5)),
             ("batch_size > n", (features[:4].clone(), labels[:4].clone(), 0.03, 1, 10))]
    expect_general_rules(student.function("train_linreg", timeout=TRAIN_SECONDS).run, ref.train_linreg, edges,
                         ["features", "labels", "lr", "num_epochs", "batch_size"], "train_linreg")

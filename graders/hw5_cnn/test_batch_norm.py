"""batch_norm(X, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5) -> Y, as F.batch_norm."""
import pytest
import torch
import torch.nn.functional as F

from autograder.compare import expect, expect_general_rules, expect_tensor, inputs
from hw5_cnn.checks import expect_grads

HINT = ("statistics over dim 0 for X (N, C) and over dims (0, 2, 3) for X (N, C, H, W); normalise with the biased "
        "variance ((X - mean) ** 2).mean(...); reshape mean, var, weight and bias to (1, C) or (1, C, 1, 1)")
STATS_HINT = ("in training, under torch.no_grad(): running_mean.mul_(1 - momentum).add_(momentum * mean) and "
              "running_var.mul_(1 - momentum).add_(momentum * var * m / (m - 1)), m values per channel")


def stats_dims(X):
    return (0,) if X.dim() == 2 else (0, 2, 3)


def shaped(v, X):
    return v.reshape((1, -1) if X.dim() == 2 else (1, -1, 1, 1))


def manual(X, mean, var, w, b, eps=1e-5, outside=False):
    scale = torch.sqrt(shaped(var, X)) + eps if outside else torch.sqrt(shaped(var, X) + eps)
    return shaped(w, X) * (X - shaped(mean, X)) / scale + shaped(b, X)


def train_mistakes(X, w, b):
    dims = stats_dims(X)
    mean, var = X.mean(dim=dims), X.var(dim=dims, unbiased=False)
    found = {"the unbiased variance (divided by m - 1) normalises; PyTorch normalises with the biased one":
             lambda: manual(X, mean, X.var(dim=dims, unbiased=True), w, b),
             "eps is added outside the square root": lambda: manual(X, mean, var, w, b, outside=True),
             "weight and bias (gamma and beta) are not applied": lambda: manual(X, mean, var, torch.ones_like(w),
                                                                                torch.zeros_like(b))}
    if X.dim() == 4:
        found["the statistics are taken per position (over dim 0 only), not per channel over (0, 2, 3)"] = \
            lambda: (X - X.mean(0)) / torch.sqrt(X.var(0, unbiased=False) + 1e-5) * shaped(w, X) + shaped(b, X)
    return found


def params(C, dtype, device):
    return (torch.randn(C, dtype=dtype, device=device), torch.rand(C, dtype=dtype, device=device) + 0.5,
            torch.rand(C, dtype=dtype, device=device) + 0.5, torch.randn(C, dtype=dtype, device=device))


@pytest.mark.points(3)
def test_training_mode_values(student, ref, device, dtype):
    """In training mode, is Y = weight * (X - mean) / sqrt(biased var + eps) + bias, for (N, C) and (N, C, H, W)?"""
    for shape in [(8, 5), (16, 3), (4, 3, 5, 6), (2, 4, 3, 3)]:
        X = torch.randn(shape, dtype=dtype, device=device) * 3 + 2
        rm, rv, w, b = params(shape[1], dtype, device)
        where = inputs(X=X) + ", training=True"
        Y = student.batch_norm(X, rm, rv, w, b, True)
        expect_tensor(Y, ref.batch_norm(X, rm.clone(), rv.clone(), w, b, True), "batch_norm in training mode "
                      "equals F.batch_norm", inputs=where, mistakes=train_mistakes(X, w, b), hint=HINT)


@pytest.mark.points(3)
def test_running_statistics_over_steps(student, ref, device, dtype):
    """Over four training steps, are the running statistics updated in place as PyTorch does (momentum, unbiased)?"""
    for shape, momentum in [((6, 4), 0.1), ((3, 2, 4, 5), 0.1), ((5, 3), 0.3)]:
        C = shape[1]
        rm, rv = torch.zeros(C, dtype=dtype, device=device), torch.ones(C, dtype=dtype, device=device)
        w, b = torch.ones(C, dtype=dtype, device=device), torch.zeros(C, dtype=dtype, device=device)
        want_m, want_v = rm.clone(), rv.clone()
        for step in range(4):
            X = torch.randn(shape, dtype=dtype, device=device) * (step + 1) + step
            where = inputs(X=X) + f", training=True, momentum={momentum}, step {step + 1} of 4"
            dims, m = stats_dims(X), X.numel() // C
            mean, var = X.mean(dim=dims), X.var(dim=dims, unbiased=True)
            result = student.batch_norm.run((X, rm, rv, w, b, True), {"momentum": momentum}, return_args=True)
            after = result.args_after
            got_m, got_v = after[1], after[2]
            wrong = {
                "momentum weighs the old statistic (d2l's convention); PyTorch's momentum weighs the new one":
                    (momentum * want_m + (1 - momentum) * mean, momentum * want_v + (1 - momentum) * var),
                "running_var is updated with the biased variance; PyTorch uses the unbiased one (m / (m - 1))":
                    (None, (1 - momentum) * want_v + momentum * var * (m - 1) / m),
                "the running statistics are not updated in place (rebinding the name does not change the caller's "
                "tensor)": (rm, rv)}
            ref.batch_norm(X, want_m, want_v, w, b, True, momentum)
            for name, got, want, k in [("running_mean", got_m, want_m, 0), ("running_var", got_v, want_v, 1)]:
                mistake = next((n for n, pair in wrong.items() if pair[k] is not None and isinstance(got, torch.Tensor)
                                and got.shape == want.shape and torch.allclose(got, pair[k].to(got)) and not
                                torch.allclose(pair[k], want)), None)
                expect_tensor(got, want, f"{name} after the step, updated in place", inputs=where, hint=STATS_HINT,
                              mistakes={mistake: got} if mistake else None)
            rm, rv = want_m.clone(), want_v.clone()


@pytest.mark.points(2)
def test_eval_mode_uses_running_statistics(student, ref, device, dtype):
    """In eval mode, is Y computed from the running statistics (a batch of one too), leaving them unchanged?"""
    for shape in [(1, 4), (7, 4), (1, 3, 2, 5), (4, 3, 3, 3)]:
        X = torch.randn(shape, dtype=dtype, device=device) * 2 + 1
        rm, rv, w, b = params(shape[1], dtype, device)
        where = inputs(X=X, running_mean=rm, running_var=rv) + ", training=False"
        result = student.batch_norm.run((X, rm, rv, w, b, False), return_args=True)
        dims = stats_dims(X)
        batch = {"the batch statistics are used in eval mode too": lambda: manual(X, X.mean(dim=dims), X.var(
            dim=dims, unbiased=False), w, b)}
        expect_tensor(result.value, ref.batch_norm(X, rm.clone(), rv.clone(), w, b, False),
                      "batch_norm in eval mode equals F.batch_norm", inputs=where,
                      mistakes={**batch, "the variance is used without the square root":
                                lambda: shaped(w, X) * (X - shaped(rm, X)) / (shaped(rv, X) + 1e-5) + shaped(b, X)},
                      hint="when not training: normalise with running_mean and running_var")
        for k, name, before in [(1, "running_mean", rm), (2, "running_var", rv)]:
            expect_tensor(result.args_after[k], before, f"{name} is unchanged in eval mode", inputs=where,
                          hint="update the running statistics only when training is True")
    # The general rules at the edges, in eval mode where every input stays as it is: one example of (N, C), one
    # channel of (N, C, H, W), a zero running variance (eps alone under the square root).
    rm, rv, w, b = params(1, dtype, device)

    def t(*shape):
        return torch.randn(*shape, dtype=dtype, device=device)
    edges = [("one example, training=False", (t(1, 3), *params(3, dtype, device), False)),
             ("one channel, training=False", (t(2, 1, 2, 2), rm, rv, w, b, False)),
             ("running_var = 0, training=False", (t(3, 1), rm, torch.zeros_like(rv), w, b, False))]
    expect_general_rules(student.batch_norm.run, ref.batch_norm, edges,
                         ["X", "running_mean", "running_var", "weight", "bias", "training"], "batch_norm")


@pytest.mark.points(2)
def test_gradients(student, ref, device):
    """In training mode, does backpropagation give F.batch_norm's gradients for X, weight and bias (float64)?"""
    for shape in [(6, 3), (3, 2, 3, 4)]:
        X = torch.randn(shape, dtype=torch.float64, device=device)
        rm, rv, w, b = params(shape[1], torch.float64, device)
        g = torch.randn(shape, dtype=torch.float64, device=device)
        result = student.batch_norm.run((X, rm.clone(), rv.clone(), w, b, True), wrt=[0, 3, 4], grad_output=g)
        expect_grads(result, lambda X_, rm_, rv_, w_, b_, t: F.batch_norm(X_, rm_.clone(), rv_.clone(), w_, b_, t),
                     (X, rm, rv, w, b, True), {}, [0, 3, 4], ["X", "weight", "bias"], g, "batch_norm",
                     inputs(X=X) + ", training=True", scale=10)


@pytest.mark.points(1)
def test_near_constant_features(student, ref, device):
    """With features that barely vary (variance ~1e-12), does eps inside the square root keep Y finite and right?"""
    X = torch.randn(8, 3, dtype=torch.float64, device=device)
    X[:, 1] = 5.0 + 1e-6 * torch.randn(8, dtype=torch.float64, device=device)
    X[:, 2] = -2.0
    rm, rv, w, b = params(3, torch.float64, device)
    where = inputs(X=X) + " (column 1 nearly constant, column 2 constant), training=True"
    got = student.batch_norm(X, rm, rv, w, b, True)
    expect_tensor(got, ref.batch_norm(X, rm.clone(), rv.clone(), w, b, True), "batch_norm of near-constant features",
                  inputs=where, mistakes={"eps is added outside the square root": lambda: manual(
                      X, X.mean(0), X.var(0, unbiased=False), w, b, outside=True)},
                  hint="divide by torch.sqrt(var + eps): eps inside the root keeps a constant feature finite")


@pytest.mark.points(1)
def test_input_unmodified(student, device):
    """Is X left unmodified (only the running statistics change)?"""
    X = torch.randn(4, 3, 2, 2, device=device)
    rm, rv, w, b = params(3, torch.float32, device)
    result = student.batch_norm.run((X, rm, rv, w, b, True), return_args=True)
    expect(isinstance(result.args_after[0], torch.Tensor) and torch.equal(result.args_after[0].cpu(), X.cpu()),
           "batch_norm leaves X unmodified", inputs=inputs(X=X), expected="X unchanged", got="X modified in place",
           hint="compute X_hat = (X - mean) / ... as a new tensor; never X -= mean")

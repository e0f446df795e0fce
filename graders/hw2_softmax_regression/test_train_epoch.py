"""train_epoch(net, train_iter, loss, updater) -> (mean loss per example, fraction correct) over one pass.

``updater`` is a torch.optim.Optimizer (the batch loss is averaged before backward) or a callable
``updater(batch_size)`` (the batch loss is summed), as d2l's train_epoch_ch3. The data come in a
fixed order and the weights start known, so the grader replays the epoch with the reference in its
own process and compares the parameters and the returned pair exactly.
"""
import pytest
import torch

from autograder.compare import describe, expect, expect_pair, expect_tensor
from gradeworker import toolbox
from gradeworker.toolbox import ModeSensitive
from gradeworker.toolbox import hw2_softmax_regression as from_scratch

D, Q, N, BATCH = 6, 4, 50, 16  # 1 x 2 x 3 images, 4 classes, 50 examples in batches of 16, 16, 16 and 2
SIZES = [16, 16, 16, 2]
SECONDS = 60
MODE_SENSITIVE = "toolbox.ModeSensitive"
HINT = ("for each batch: y_hat = net(X); l = loss(y_hat, y); with an optimizer: zero_grad(), l.mean().backward(), "
        "step(); otherwise l.sum().backward(), updater(X.shape[0]); add float(l.detach().sum()), accuracy(y_hat, y) "
        "and y.numel() to running totals, and divide once at the end")


def data(device):
    X = torch.rand(N, 1, 2, 3, dtype=torch.float64, device=device)
    y = torch.randint(0, Q, (N,), device=device)
    W = 0.3 * torch.randn(Q, D, dtype=torch.float64, device=device)
    b = 0.1 * torch.randn(Q, dtype=torch.float64, device=device)
    return X, y, W, b


def where_text(net, updater):
    return (f"net = {net}, train_iter = {N} examples in batches of {BATCH} (the last holds {N % BATCH}), "
            f"loss = nn.CrossEntropyLoss(reduction='none'), updater = {updater}")


# ----- the reference epoch in this process, and the usual wrong ones -----------------------------------------
class Record(list):
    """Each batch's (loss sum, correct, size) of the reference run, and its (y_hat, y) in ``outputs``."""

    outputs: list


class RecordingLoss:
    """nn.CrossEntropyLoss(reduction='none') noting each batch's (loss sum, correct, size) for the reference run."""

    def __init__(self):
        self.loss, self.record = torch.nn.CrossEntropyLoss(reduction="none"), Record()
        self.record.outputs = []

    def __call__(self, y_hat, y):
        losses = self.loss(y_hat, y)
        self.record.append((float(losses.detach().sum()), float((y_hat.argmax(dim=1) == y).sum()), len(y)))
        self.record.outputs.append((y_hat.detach().clone(), y.clone()))
        return losses


def reference_epoch(ref, net, X, y, updater):
    """ref.train_epoch on the grader's copy: its returned pair and each batch's record."""
    loss = RecordingLoss()
    return ref.train_epoch(net, toolbox.Batches(X, y, BATCH), loss, updater), loss.record


def replay(net, X, y, loss, updater, *, reduce=None, zero_grad=True):
    """One epoch done wrong on purpose: ``reduce`` and ``zero_grad`` make the mistakes the messages name."""
    optimizer = isinstance(updater, torch.optim.Optimizer)
    reduce = reduce or ("mean" if optimizer else "sum")
    if isinstance(net, torch.nn.Module):
        net.train()
    for Xb, yb in toolbox.Batches(X, y, BATCH):
        y_hat = net(Xb)
        losses = loss(y_hat, yb)
        total = losses.mean() if reduce == "mean" else losses.sum()
        if optimizer:
            if zero_grad:
                updater.zero_grad()
            total.backward()
            updater.step()
        else:
            total.backward()
            updater(Xb.shape[0])


def returned_mistakes(record):
    """What the common wrong summaries of a right epoch return, from each batch's (loss sum, correct, size)."""
    sums, correct, sizes = zip(*record)
    batches = len(record)
    return {
        "loss": {
            "the loss of the last batch only was returned": sums[-1] / sizes[-1],
            "the batches' mean losses were averaged, so the short last batch counts as much as a full one": sum(
                s / k for s, k in zip(sums, sizes)) / batches,
            "the summed loss was not divided by the number of examples": sum(sums),
            "the summed loss was divided by the number of batches, not of examples": sum(sums) / batches,
        },
        "accuracy": {
            "the number correct was returned, not the fraction": sum(correct),
            "the batches' accuracies were averaged, so the short last batch counts as much as a full one": sum(
                c / k for c, k in zip(correct, sizes)) / batches,
            "the accuracy of the last batch only was returned": correct[-1] / sizes[-1],
        },
    }


# ----- reading the student's results ----------------------------------------------------------------------
def number(value, what, where):
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.dtype.is_complex:
        return float(value.reshape(-1)[0])
    expect(isinstance(value, (int, float)) and not isinstance(value, bool), f"the {what} is a number",
           inputs=where, expected="a Python float", got=describe(value), hint="return float(...) values")
    return float(value)


def own_accuracy(student, record):
    """The fraction correct the student's own accuracy() gives on the reference epoch's batches: train_epoch
    calls it, so a wrong accuracy (charged to that part) is not charged to train_epoch again."""
    counts = [student.accuracy(y_hat, y) for y_hat, y in record.outputs]
    return sum(float(c) for c in counts) / sum(size for _, _, size in record)


def check_returned(result, want, record, where, epoch="", student=None):
    loss, acc = expect_pair(result, "train_epoch returns (mean loss, fraction correct)", inputs=where,
                            names="(loss, accuracy)")
    loss, acc = number(loss, "mean loss", where), number(acc, "fraction correct", where)
    known = returned_mistakes(record)
    want_loss, want_acc = want
    if student is not None and abs(acc - want_acc) > 1e-6:
        try:
            own = own_accuracy(student, record)
        except Exception:  # the student's accuracy raises or returns no number: the reference's fraction it is
            own = want_acc
        if abs(own - want_acc) > 1e-6 and abs(acc - own) <= 1e-6:
            want_acc = own
    # The loss is float64 throughout; a fraction of 50 examples may come from a float32 division.
    for what, got, want, tol in (("loss", loss, want_loss, 1e-9), ("accuracy", acc, want_acc, 1e-6)):
        named = [name for name, value in known[what].items()
                 if abs(value - got) <= tol * max(1.0, abs(value)) and abs(value - want) > tol * max(1.0, abs(want))]
        label = "mean loss per example" if what == "loss" else "fraction of examples predicted correctly"
        expect(abs(got - want) <= tol * max(1.0, abs(want)), f"train_epoch returns the {label}{epoch}",
               inputs=where, expected=f"{want:.10g}", got=f"{got:.10g}", mistake=named[0] if named else None,
               hint=HINT)


def check_parameters(got, want, mistakes, where, epoch=""):
    for name, value in want.items():
        expect(isinstance(got, dict) and isinstance(got.get(name), torch.Tensor), "the network keeps its parameters",
               inputs=where, expected=f"a parameter {name}", got="none", hint="train the network you are given")
        expect_tensor(got[name], value, f"{name} after the epoch{epoch}, as the reference trains it", inputs=where,
                      mistakes={mistake: (lambda m=m: m()[name]) for mistake, m in mistakes.items()}, hint=HINT)


# ----- an nn.Module with an optimizer ---------------------------------------------------------------------
def build_optimizer(student, params, **options):
    """torch.optim.SGD in the worker, with a training call's time limit: a first optimizer may import a lot."""
    return student.construct("torch.optim.SGD", params, timeout=SECONDS, **options)


def module_setup(student, X, y, W, b, device, lr, momentum=0.0, probe=False):
    """The same network, loss and optimizer in the worker (for the student) and here (for the replay)."""
    state = {"1.weight": W, "1.bias": b}
    remote = student.construct("toolbox.linear_classifier", D, Q).call("to", device=device, dtype=torch.float64)
    remote.call("load_state_dict", state)
    local = toolbox.linear_classifier(D, Q).to(device=device, dtype=torch.float64)
    local.load_state_dict(state)
    if probe:  # trains right only in training mode with autograd on, whatever happens to its record
        remote, local = student.construct(MODE_SENSITIVE, remote, True), ModeSensitive(local, True)
    opt = build_optimizer(student, remote.method("parameters").handle(), lr=lr, momentum=momentum)
    local_opt = torch.optim.SGD(local.parameters(), lr=lr, momentum=momentum)
    loss = student.construct("torch.nn.CrossEntropyLoss", reduction="none")
    return remote, opt, loss, local, local_opt


def module_variants(X, y, W, b, device, lr, momentum=0.0, prefix=""):
    """The parameters a mistaken first epoch leaves, by mistake (each computed only when a check fails)."""
    def variant(reduce=None, zero_grad=True):
        def run():
            net = toolbox.linear_classifier(D, Q).to(device=device, dtype=torch.float64)
            net.load_state_dict({"1.weight": W, "1.bias": b})
            opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
            replay(net, X, y, torch.nn.CrossEntropyLoss(reduction="none"), opt, reduce=reduce, zero_grad=zero_grad)
            return {prefix + name: value for name, value in net.state_dict().items()}
        return run
    return {
        "with an optimizer the batch loss must be averaged (l.mean().backward()), not summed": variant(reduce="sum"),
        "the gradients were never zeroed, so each step added up all earlier batches' gradients":
            variant(zero_grad=False),
    }


@pytest.mark.points(9)
def test_with_an_optimizer(student, ref, device):
    """With an nn.Module and torch.optim.SGD, do the parameters and the returned pair match the reference epoch?"""
    X, y, W, b = data(device)
    lr = 0.5
    net, opt, loss, local, local_opt = module_setup(student, X, y, W, b, device, lr)
    where = where_text("a linear classifier (nn.Module)", f"torch.optim.SGD(lr={lr})")
    result = student.function("train_epoch", timeout=SECONDS)(net, student.construct("toolbox.Batches", X, y, BATCH),
                                                               loss, opt)
    want, record = reference_epoch(ref, local, X, y, local_opt)
    check_parameters(net.call("state_dict"), local.state_dict(), module_variants(X, y, W, b, device, lr), where)
    check_returned(result, want, record, where, student=student)


# ----- a plain function with a callable updater -------------------------------------------------------------
@pytest.mark.points(8)
def test_with_a_callable_updater(student, ref, device):
    """With d2l's from-scratch net and updater(batch_size), do the parameters and the returned pair match?"""
    X, y, W, b = data(device)
    lr = 0.5
    W0, b0 = W.T.contiguous(), b.clone()  # CallableNet computes X @ W + b with W of shape (D, Q)
    params = [student.put(W0, requires_grad=True), student.put(b0, requires_grad=True)]
    net = student.construct("toolbox.hw2_softmax_regression.CallableNet", *params)
    updater = student.construct("toolbox.hw2_softmax_regression.SGDUpdater", params, lr)
    loss = student.construct("torch.nn.CrossEntropyLoss", reduction="none")
    where = where_text("a plain function of X with parameters W, b", f"a function updater(batch_size) (sgd, lr={lr})")
    result = student.function("train_epoch", timeout=SECONDS)(net, student.construct("toolbox.Batches", X, y, BATCH),
                                                               loss, updater)

    local = [W0.clone().requires_grad_(), b0.clone().requires_grad_()]
    want, record = reference_epoch(ref, from_scratch.CallableNet(*local), X, y, from_scratch.SGDUpdater(local, lr))

    def summed_mistake():
        wrong = [W0.clone().requires_grad_(), b0.clone().requires_grad_()]
        replay(from_scratch.CallableNet(*wrong), X, y, torch.nn.CrossEntropyLoss(reduction="none"),
               from_scratch.SGDUpdater(wrong, lr), reduce="mean")
        return {"W": wrong[0].detach(), "b": wrong[1].detach()}

    sizes = updater.attr("batch_sizes")
    expect(sizes == SIZES, "updater(batch_size) is called once per batch with that batch's size", inputs=where,
           expected=f"calls with {SIZES}", got=f"calls with {sizes}",
           mistake="a fixed batch size was passed for the short last batch too; pass X.shape[0]"
           if isinstance(sizes, list) and sizes[:3] == SIZES[:3] else None, hint=HINT)
    got = {"W": params[0].get(), "b": params[1].get()}
    mistakes = {"with a callable updater the batch loss must be summed (l.sum().backward()): the updater divides "
                "by the batch size itself": summed_mistake}
    check_parameters(got, {"W": local[0].detach(), "b": local[1].detach()}, mistakes, where)
    check_returned(result, want, record, where, student=student)


# ----- several epochs: training mode, autograd on, optimizer state kept ------------------------------------
@pytest.mark.points(8)
def test_several_epochs_in_training_mode(student, ref, device):
    """Over three epochs with momentum, is the module trained in training mode and does each epoch match?"""
    X, y, W, b = data(device)
    lr, momentum = 0.2, 0.9
    probe, opt, loss, local, local_opt = module_setup(student, X, y, W, b, device, lr, momentum, probe=True)
    probe.call("eval")  # as evaluate_accuracy would leave it: train_epoch must switch it back
    local.eval()
    where = where_text("an nn.Module left in eval mode", f"torch.optim.SGD(lr={lr}, momentum={momentum})")
    for epoch in range(1, 4):
        result = student.function("train_epoch", timeout=SECONDS)(
            probe, student.construct("toolbox.Batches", X, y, BATCH), loss, opt)
        calls = probe.attr("calls")
        ok = isinstance(calls, list) and all(isinstance(c, dict) and {"training", "grad_enabled", "batch"} <= set(c)
                                             for c in calls)
        expect(ok, "the network's record of its calls is intact", inputs=where, expected="a list of calls",
               got=describe(calls), hint="do not change the network's attributes; only call it")
        sizes = [c["batch"] for c in calls]
        expect(sizes == SIZES * epoch, f"the network is called once per batch (epoch {epoch})", inputs=where,
               expected=f"calls on batches of {SIZES} each epoch", got=f"calls on batches of {sizes}", hint=HINT)
        expect(all(c["training"] for c in calls), "the network trains in training mode", inputs=where,
               expected="training = True during every call", got="training = False",
               mistake="net.train() was not called, so a module left in eval mode trains with dropout and batch "
                       "norm switched to evaluation", hint="if isinstance(net, torch.nn.Module): net.train()")
        expect(all(c["grad_enabled"] for c in calls), "autograd is on while training", inputs=where,
               expected="autograd on during every call", got="autograd off", hint=HINT)
        want, record = reference_epoch(ref, local, X, y, local_opt)
        mistakes = module_variants(X, y, W, b, device, lr, momentum, prefix="inner.") if epoch == 1 else {}
        check_parameters(probe.call("state_dict"), local.state_dict(), mistakes, where, f" (epoch {epoch} of 3)")
        check_returned(result, want, record, where, f" (epoch {epoch} of 3)", student=student)

"""Rebuild hw2's example submissions from the released notebook:
python tests/submissions/hw2_softmax_regression/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/
from helpers import add_cell, fill, solution_cells, write_examples, wrong_answers  # noqa: E402
from payloads import hostile_notebook  # noqa: E402

ID = "hw2_softmax_regression"
SOLVED = solution_cells(ID)

# Correct, but written differently from both the notebook's solution and the reference: softmax
# shifts each row by its own largest logit with amax and normalises with a reciprocal, the loss adds the
# maximum back outside the log (less precise in float32 at 1e4, within the graders' tolerance), the loops
# keep their own sums.
ALTERNATIVE = {
    "softmax": '''
def softmax(X):
    """A shift per row leaves that row's softmax unchanged; its own largest logit keeps exp <= 1."""
    E = (X - X.amax(dim=-1, keepdim=True)).exp()
    return E * E.sum(dim=-1, keepdim=True).reciprocal()
''',
    "cross_entropy": '''
def cross_entropy(y_hat, y):
    return -y_hat.gather(1, y.unsqueeze(1)).squeeze(1).log()
''',
    "cross_entropy_from_logits": '''
def cross_entropy_from_logits(logits, y):
    m = logits.amax(dim=1)
    lse = m + (logits - m[:, None]).exp().sum(dim=1).log()
    return lse - logits.gather(1, y[:, None])[:, 0]
''',
    "softmax_regression": '''
def softmax_regression(X, W, b):
    return softmax(torch.addmm(b, X.reshape(len(X), -1), W))
''',
    "accuracy": '''
def accuracy(y_hat, y):
    predicted = y_hat if y_hat.dim() == 1 else y_hat.max(dim=1).indices
    return float(torch.eq(predicted, y.view(-1)).sum().item())
''',
    "evaluate_accuracy": '''
@torch.no_grad()
def evaluate_accuracy(net, data_iter):
    if isinstance(net, nn.Module):
        net.train(False)
    right, seen = 0, 0
    for X, y in data_iter:
        right += int((net(X).argmax(dim=1) == y.view(-1)).sum())
        seen += len(y)
    return right / seen
''',
    "train_epoch": '''
def train_epoch(net, train_iter, loss, updater):
    uses_optimizer = isinstance(updater, torch.optim.Optimizer)
    if isinstance(net, nn.Module):
        net.train(True)
    total_loss, right, seen = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        (l.mean() if uses_optimizer else l.sum()).backward()
        if uses_optimizer:
            updater.step()
            updater.zero_grad(set_to_none=True)
        else:
            updater(len(X))
        total_loss += l.sum().item()
        right += int((y_hat.argmax(dim=1) == y).sum())
        seen += len(y)
    return total_loss / seen, right / seen
''',
}

# Known mistakes: d2l's first softmax (no max shift), d2l's accuracy without reshaping y, averaging the
# batches' accuracies, and summing the loss before an optimizer's step.
WRONG_KNOWN = wrong_answers(ID, [
    "no max shift (d2l's first version): exp(1e4) overflows",
    "y of shape (n, 1) not reshaped (d2l's comparison without the reshape)",
    "the mean of the batches' accuracies",
    'the loss summed before backward with an optimizer',
])

# Forbidden calls under names a student might hope the monitor misses: an unbound Tensor method
# reached by getattr, and F.cross_entropy kept in a global before the function runs.
CHEAT_FORBIDDEN_ALIAS = {
    "softmax": '''
_SOFT = getattr(torch.Tensor, "soft" + "max")


def softmax(X):
    return _SOFT(X, 1)
''',
    "cross_entropy_from_logits": '''
from torch.nn import functional as _functional

_loss = _functional.cross_entropy


def cross_entropy_from_logits(logits, y):
    return _loss(logits, y, reduction="none")
''',
}

# Switching the profiler off to hide a forbidden call.
CHEAT_DISABLE_MONITOR = {
    "softmax": '''
def softmax(X):
    import sys, threading
    sys.setprofile(None)
    threading.setprofile(None)
    return torch.softmax(X, dim=1)
''',
}

# An evaluation loop that skips eval mode and no_grad, then rewrites the grader's record of the calls
# (and the module's flag) so that it looks as if it had done both.
CHEAT_FORGE_RECORD = {
    "evaluate_accuracy": '''
def evaluate_accuracy(net, data_iter):
    correct, total, sizes = 0.0, 0, []
    for X, y in data_iter:
        correct += accuracy(net(X), y)
        total += y.numel()
        sizes.append(len(X))
    if hasattr(net, "calls"):  # the grader's probe: make its record say eval mode and no autograd
        net.calls[:] = [{"training": False, "grad_enabled": False, "batch": n} for n in sizes]
    if isinstance(net, torch.nn.Module):
        net.training = False
    return correct / total
''',
}


# The library's softmax by every route the issue found (a C function called from C raises no profile
# event; a thread, TorchScript and a raw operator call go around Python entirely), and under names
# the first forbidden list left out. Each must lose the softmax part with a message naming the operator.
# (torch.jit.trace is hw1's example: a traced softmax hangs in the worker's forked copies, monitor or not.)
CHEAT_ROUTES = {
    "partial": '''
import functools
_soft = functools.partial(torch.softmax, dim=1)


def softmax(X):
    return _soft(X)
''',
    "methodcaller": '''
import operator
_rows = operator.methodcaller("softmax", 1)


def softmax(X):
    return _rows(X)
''',
    "map": '''
def softmax(X):
    (P,) = map(torch.softmax, [X], [1])
    return P
''',
    "thread": '''
import queue
import threading


def _start_helper():
    """A thread that computes the library's softmax of whatever it is asked."""
    asked, answers = queue.Queue(), queue.Queue()

    def serve():
        while True:
            answers.put(torch.softmax(asked.get(), dim=1))
    helper = threading.Thread(target=serve, daemon=True)
    helper.start()
    return helper, asked, answers


_helper = _start_helper()  # started while the notebook loads, before any monitored call


def softmax(X):
    global _helper
    if not _helper[0].is_alive():  # a forked copy of the worker keeps no threads: start another
        _helper = _start_helper()
    _helper[1].put(X)
    return _helper[2].get()
''',
    "compilation_unit": '''
_unit = torch.jit.CompilationUnit("def rows(X):\\n    return torch.softmax(X, 1)\\n")


def softmax(X):
    return _unit.rows(X)
''',
    "aten_op": '''
def softmax(X):
    return torch.ops.aten._softmax.default._op(X, 1, False)
''',
    "fork": '''
import io
import os


def softmax(X):
    """The library's softmax in a forked child, sent back through a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        buffer = io.BytesIO()
        torch.save(torch.softmax(X.detach().cpu(), dim=1), buffer)
        os.write(write_end, buffer.getvalue())
        os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 1 << 16):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    P = torch.load(io.BytesIO(b"".join(chunks)))
    return P.to(X.device) if not X.requires_grad else X + (P.to(X.device) - X).detach()
''',
    "scaled_dot_product_attention": '''
import torch.nn.functional as F


def softmax(X):
    """Attention is softmax(Q K^T * scale) V: one query per row, identity keys and values."""
    n, q = X.shape
    eye = torch.eye(q, dtype=X.dtype, device=X.device).expand(n, q, q)
    return F.scaled_dot_product_attention(X[:, None, :], eye, eye, scale=1.0)[:, 0, :]
''',
    "sparse_softmax": '''
def softmax(X):
    return torch.sparse.softmax(X.to_sparse(), dim=1).to_dense()
''',
    "sys_modules": '''
import sys

_monitor = sys.modules["grade" + "worker.monitor"]
_monitor.CallMonitor.__enter__ = lambda self: self  # switch the monitor off, the scan sees no module name
_monitor.CallMonitor.__exit__ = lambda self, *exc: None


def softmax(X):
    return torch.softmax(X, dim=1)
''',
}


def examples() -> dict[str, dict]:
    # A student cell that replaces torch.softmax by their own, hoping the grader's reference uses it.
    nb = fill(ID, {**SOLVED, "softmax": "def softmax(X):\n    return torch.ones_like(X) / X.shape[1]\n"})
    monkeypatch = add_cell(nb, "import torch\ntorch.softmax = lambda X, dim=None, **kw: torch.ones_like(X) / "
                               "X.shape[dim]\ntorch.nn.functional.softmax = torch.softmax", after_grade_id="softmax")
    half = ("softmax", "cross_entropy", "softmax_regression", "accuracy")
    return {
        "correct_solution": fill(ID, SOLVED),
        "correct_alternative": fill(ID, ALTERNATIVE),
        "half_done": fill(ID, {k: SOLVED[k] for k in half}),
        "wrong_known_mistakes": fill(ID, {**SOLVED, **WRONG_KNOWN}),
        # One mistake costs one part: train_epoch calls this accuracy right and keeps its points.
        "wrong_accuracy_only": fill(ID, {**SOLVED, **wrong_answers(ID, ["returns the fraction, not the count"])}),
        "cheat_forbidden_alias": fill(ID, {**SOLVED, **CHEAT_FORBIDDEN_ALIAS}),
        "cheat_disable_monitor": fill(ID, {**SOLVED, **CHEAT_DISABLE_MONITOR}),
        "cheat_forge_probe_record": fill(ID, {**SOLVED, **CHEAT_FORGE_RECORD}),
        "cheat_monkeypatch_softmax": monkeypatch,
        **{f"cheat_{route}": fill(ID, {**SOLVED, "softmax": source}) for route, source in CHEAT_ROUTES.items()},
        # Aimed at the TA rather than the grader: HTML, JavaScript, CSS and terminal escapes in markdown, raw
        # cells, attachments, outputs, exception messages and code (tests/payloads.py; test_safe_outputs.py)
        "attack_payloads": hostile_notebook(ID, "softmax", "cross_entropy", "def cross_entropy(y_hat, y):"),
    }


if __name__ == "__main__":
    write_examples(ID, examples())

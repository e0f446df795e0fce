"""Rebuild hw2's example submissions from the released notebook:
python tests/submissions/hw2_softmax_regression/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/
from helpers import add_cell, fill, solution_cells, write_examples, wrong_answers  # noqa: E402

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
        "cheat_forbidden_alias": fill(ID, {**SOLVED, **CHEAT_FORBIDDEN_ALIAS}),
        "cheat_disable_monitor": fill(ID, {**SOLVED, **CHEAT_DISABLE_MONITOR}),
        "cheat_forge_probe_record": fill(ID, {**SOLVED, **CHEAT_FORGE_RECORD}),
        "cheat_monkeypatch_softmax": monkeypatch,
    }


if __name__ == "__main__":
    write_examples(ID, examples())

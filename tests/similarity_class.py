"""A generated hw2 class for the similarity report: 30 students who each write their own solution, two who copy.

Each honest student's function is put together from choices a student makes independently (shift or not,
``gather`` or indexing, how a loop keeps its sums, where ``zero_grad`` goes, ``with torch.no_grad()`` or the
decorator, ...), drawn with that student's own seed, from the course's solution, the catalogue's correct
alternative (tests/submissions/hw2_softmax_regression/make_submissions.py) and independent rewrites; about a
third of them write some functions straight from the d2l book (docs/textbook/hw2_softmax_regression.py), as
a student who follows the textbook does. Most add a cell or two of their own to try things out.

Two pairs copy:
- ``COPY_RENAMED``: the second takes the first's notebook and renames every variable, rewords the comments.
- ``COPY_PASTED``: the second leaves every solution cell as released (stubs) and pastes the first's whole
  solution into one new, unmarked cell at the end.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from helpers import ROOT, add_cell, fill, write

ID = "hw2_softmax_regression"
STUDENTS = [f"s{i:02d}" for i in range(1, 31)]
COPY_RENAMED = ("s04", "s17")  # (original, copy)
COPY_PASTED = ("s09", "s26")
TEXTBOOK = ROOT / "docs" / "textbook" / f"{ID}.py"


def _book(name: str) -> str:
    """One function (or class) of the textbook's code for hw2, as the book has it."""
    text = TEXTBOOK.read_text(encoding="utf-8")
    start = re.search(rf"^(def|class) {name}\b", text, re.M)
    assert start, name
    end = re.search(r"^(def|class) ", text[start.end():], re.M)
    return text[start.start():start.end() + end.start() if end else len(text)].strip() + "\n"


def _softmax(r: random.Random) -> str:
    shift = r.choice(["", "X = X - X.max(dim=1, keepdim=True).values\n    ", "X = X - X.amax(1, keepdim=True)\n    ",
                      "m, _ = torch.max(X, dim=1, keepdim=True)\n    X = X - m\n    "])
    exp = r.choice(["E = torch.exp(X)", "E = X.exp()", "E = torch.exp(X.double()).to(X.dtype)"])
    out = r.choice(["E / E.sum(dim=1, keepdim=True)", "E / torch.sum(E, 1, keepdim=True)",
                    "E * (1 / E.sum(1, keepdim=True))", "torch.div(E, E.sum(-1, keepdim=True))"])
    return f"def softmax(X):\n    {shift}{exp}\n    return {out}\n"


def _cross_entropy(r: random.Random) -> str:
    body = r.choice(["return -torch.log(y_hat[range(len(y_hat)), y])",
                     "return -y_hat.gather(1, y.unsqueeze(1)).squeeze(1).log()",
                     "picked = y_hat[torch.arange(len(y)), y]\n    return -picked.log()",
                     "return -torch.log(torch.gather(y_hat, 1, y.view(-1, 1))).view(-1)",
                     "rows = torch.arange(y_hat.shape[0])\n    return torch.log(y_hat[rows, y]).neg()"])
    return f"def cross_entropy(y_hat, y):\n    {body}\n"


def _from_logits(r: random.Random) -> str:
    body = r.choice([
        "m = logits.max(dim=1, keepdim=True).values\n    lse = m.squeeze(1) + torch.log(torch.exp(logits - m)"
        ".sum(dim=1))\n    return lse - logits[torch.arange(len(y)), y]",
        "return torch.logsumexp(logits, dim=1) - logits.gather(1, y[:, None]).squeeze(1)",
        "shifted = logits - logits.amax(1, keepdim=True)\n    log_probs = shifted - shifted.exp().sum(1, keepdim=True)"
        ".log()\n    return -log_probs[range(len(y)), y]",
        "z = logits - logits.max(1, keepdim=True)[0]\n    picked = z.gather(1, y.view(-1, 1)).squeeze(1)\n"
        "    return torch.log(torch.sum(torch.exp(z), dim=1)) - picked",
        "m = logits.amax(dim=1)\n    lse = m + (logits - m[:, None]).exp().sum(dim=1).log()\n"
        "    return lse - logits.gather(1, y[:, None])[:, 0]"])
    return f"def cross_entropy_from_logits(logits, y):\n    {body}\n"


def _regression(r: random.Random) -> str:
    body = r.choice(["return softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                     "return softmax(torch.matmul(X.reshape(X.shape[0], -1), W) + b)",
                     "flat = X.view(len(X), -1)\n    return softmax(flat @ W + b)",
                     "return softmax(torch.addmm(b, X.flatten(1), W))",
                     "O = X.reshape((-1, W.shape[0])).mm(W)\n    return softmax(O + b)"])
    return f"def softmax_regression(X, W, b):\n    {body}\n"


def _accuracy(r: random.Random) -> str:
    body = r.choice([
        "if y_hat.dim() > 1 and y_hat.shape[1] > 1:\n        y_hat = y_hat.argmax(dim=1)\n"
        "    return float((y_hat.type(y.dtype) == y.view(-1)).sum())",
        "pred = y_hat.argmax(1) if y_hat.ndim == 2 else y_hat\n    return float((pred == y.reshape(-1)).sum().item())",
        "if len(y_hat.shape) == 2:\n        y_hat = torch.argmax(y_hat, dim=1)\n"
        "    correct = torch.eq(y_hat.to(y.dtype), y.flatten())\n    return float(correct.sum())",
        "labels = y.reshape(-1)\n    guesses = y_hat.max(dim=1).indices if y_hat.dim() == 2 else y_hat\n"
        "    return float(sum(int(g == t) for g, t in zip(guesses.tolist(), labels.tolist())))"])
    return f"def accuracy(y_hat, y):\n    {body}\n"


def _mode(r: random.Random, training: bool) -> str:
    call = r.choice(["net.train()" if training else "net.eval()", f"net.train({training})"])
    guard = r.choice(["isinstance(net, torch.nn.Module)", "isinstance(net, nn.Module)", "hasattr(net, 'train')"])
    return f"if {guard}:\n        {call}\n"


def _evaluate(r: random.Random) -> str:
    count = r.choice(["y.numel()", "len(y)", "y.shape[0]"])
    init, add, result = r.choice([
        ("correct, total = 0.0, 0", f"correct += accuracy(net(X), y)\n{{i}}total += {count}", "correct / total"),
        ("hits = []", f"hits.append((accuracy(net(X), y), {count}))",
         "sum(h for h, _ in hits) / sum(n for _, n in hits)"),
        ("stats = torch.zeros(2)", f"stats += torch.tensor([accuracy(net(X), y), {count}])",
         "float(stats[0] / stats[1])")])
    if r.random() < 0.5:
        return (f"@torch.no_grad()\ndef evaluate_accuracy(net, data_iter):\n    {_mode(r, False)}    {init}\n"
                f"    for X, y in data_iter:\n        {add.format(i='        ')}\n    return {result}\n")
    return (f"def evaluate_accuracy(net, data_iter):\n    {_mode(r, False)}    {init}\n    with torch.no_grad():\n"
            f"        for X, y in data_iter:\n            {add.format(i='            ')}\n    return {result}\n")


def _train(r: random.Random) -> str:
    right = r.choice(["accuracy(y_hat, y)", "float((y_hat.argmax(dim=1) == y).sum())",
                      "(y_hat.argmax(1) == y).sum().item()"])
    init, add, result = r.choice([
        ("loss_sum, right, seen = 0.0, 0.0, 0", f"loss_sum += float(l.sum())\n{{i}}right += {right}\n"
         f"{{i}}seen += y.numel()", "loss_sum / seen, right / seen"),
        ("totals = [0.0, 0.0, 0]", f"totals[0] += l.sum().item()\n{{i}}totals[1] += {right}\n{{i}}totals[2] += len(y)",
         "totals[0] / totals[2], totals[1] / totals[2]"),
        ("history = []", f"history.append((l.detach().sum().item(), {right}, y.shape[0]))",
         "sum(h[0] for h in history) / sum(h[2] for h in history), "
         "sum(h[1] for h in history) / sum(h[2] for h in history)")])
    optimizer = r.choice([
        "updater.zero_grad()\n{i}l.mean().backward()\n{i}updater.step()",
        "l.mean().backward()\n{i}updater.step()\n{i}updater.zero_grad()",
        "updater.zero_grad(set_to_none=True)\n{i}loss_value = l.mean()\n{i}loss_value.backward()\n{i}updater.step()"])
    own = r.choice(["l.sum().backward()\n{i}updater(X.shape[0])", "l.sum().backward()\n{i}updater(len(y))",
                    "total = l.sum()\n{i}total.backward()\n{i}updater(batch_size=X.shape[0])"])
    i = " " * 12
    if r.random() < 0.5:
        branch = (f"if isinstance(updater, torch.optim.Optimizer):\n{i}{optimizer.format(i=i)}\n"
                  f"        else:\n{i}{own.format(i=i)}")
    else:
        branch = (f"if callable(updater) and not isinstance(updater, torch.optim.Optimizer):\n{i}{own.format(i=i)}\n"
                  f"        else:\n{i}{optimizer.format(i=i)}")
    return (f"def train_epoch(net, train_iter, loss, updater):\n    {_mode(r, True)}    {init}\n"
            f"    for X, y in train_iter:\n        y_hat = net(X)\n        l = loss(y_hat, y)\n        {branch}\n"
            f"        {add.format(i='        ')}\n    return {result}\n")


WRITERS = {"softmax": _softmax, "cross_entropy": _cross_entropy, "cross_entropy_from_logits": _from_logits,
           "softmax_regression": _regression, "accuracy": _accuracy, "evaluate_accuracy": _evaluate,
           "train_epoch": _train}
BOOK = {"softmax", "cross_entropy", "softmax_regression", "accuracy", "evaluate_accuracy", "train_epoch"}

TRIALS = ["X = torch.randn({a}, {b})\nprint(softmax(X).sum(dim=1))",
          "print(cross_entropy(torch.tensor([[0.{a}, 0.{b}]]), torch.tensor([1])))",
          "for scale in [1, 10, 100, {a}000]:\n    print(scale, softmax(torch.tensor([[0.0, float(scale)]])))",
          "logits = torch.randn({b}, {a})\nlabels = torch.randint(0, {a}, ({b},))\n"
          "print(cross_entropy_from_logits(logits, labels).mean())"]


def honest_answers(student: str) -> dict[str, str]:
    r = random.Random(f"similarity-class-{student}")
    follows_book = r.random() < 0.35
    answers = {}
    for task, writer in WRITERS.items():
        if follows_book and task in BOOK and r.random() < 0.7:
            answers[task] = _book(task) if task != "evaluate_accuracy" and task != "train_epoch" \
                else _book("Accumulator") + "\n\n" + _book(task)
        else:
            answers[task] = writer(r)
    return answers


def _renamed(source: str) -> str:
    """Every variable renamed and the comments reworded, as a student hiding a copy does."""
    names = {"X": "inputs", "E": "expd", "y_hat": "probs", "y": "labels", "l": "batch_loss", "m": "peak",
             "net": "model", "data_iter": "loader", "train_iter": "batches", "updater": "opt", "W": "weights",
             "b": "bias", "logits": "scores", "correct": "n_right", "total": "n_seen", "hits": "records",
             "stats": "acc", "totals": "sums", "history": "log", "right": "good", "seen": "count"}
    out = re.sub(r"#.*", "# my own notes", source)
    return re.sub(r"\b[A-Za-z_]\w*\b", lambda m: names.get(m.group(), m.group()), out)


def notebooks(folder: Path) -> dict[str, Path]:
    """Write the class's 30 notebooks into ``folder``; returns student -> notebook."""
    out = {}
    for student in STUDENTS:
        r = random.Random(f"similarity-trials-{student}")
        if student == COPY_RENAMED[1]:
            answers = {task: _renamed(source) for task, source in honest_answers(COPY_RENAMED[0]).items()}
            nb = fill(ID, answers)
        elif student == COPY_PASTED[1]:
            nb = fill(ID, {})  # the released stubs left as they are
            add_cell(nb, "\n\n".join(honest_answers(COPY_PASTED[0]).values()))
        else:
            nb = fill(ID, honest_answers(student))
        for trial in r.sample(TRIALS, r.randint(0, 2)):
            add_cell(nb, trial.format(a=r.randint(2, 9), b=r.randint(2, 9)))
        out[student] = write(nb, folder / student / f"{ID}.ipynb")
    return out

"""Rebuild hw1's example submissions from the released notebook:
python tests/submissions/hw1_linear_regression/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/
from helpers import add_cell, fill, solution_cells, write_examples, wrong_answers  # noqa: E402

ID = "hw1_linear_regression"
SOLVED = solution_cells(ID)

# Correct, but written differently from both the notebook's solution and the reference.
ALTERNATIVE = {
    "synthetic_data": '''
def synthetic_data(w, b, num_examples, noise=0.01):
    """X ~ N(0, 1), y = Xw + b + N(0, noise^2)."""
    X = torch.randn(num_examples, w.shape[0], dtype=w.dtype, device=w.device)
    y = (X * w).sum(dim=1, keepdim=True) + b
    return X, y + torch.randn_like(y) * noise
''',
    "data_iter": '''
def data_iter(batch_size, features, labels):
    """Shuffled minibatches with torch.randperm."""
    order = torch.randperm(features.shape[0], device=features.device)
    start = 0
    while start < len(order):
        idx = order[start:start + batch_size]
        yield features[idx], labels[idx]
        start += batch_size
''',
    "linreg": '''
def linreg(X, w, b):
    return X.mm(w).add(b)
''',
    "squared_loss": '''
def squared_loss(y_hat, y):
    diff = y_hat - y.reshape(y_hat.shape)
    return 0.5 * diff * diff
''',
    "sgd": '''
def sgd(params, lr, batch_size):
    for p in params:
        p.data.sub_(lr / batch_size * p.grad)
        p.grad = None  # set_to_none, as torch.optim does by default
''',
    "train_linreg": '''
def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    n, d = features.shape
    w = (torch.randn(d, 1, dtype=features.dtype, device=features.device) * 0.01).requires_grad_()
    b = torch.zeros(1, dtype=features.dtype, device=features.device).requires_grad_()
    for _ in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            loss = squared_loss(linreg(X, w, b), y).sum()
            loss.backward()
            sgd([w, b], lr, batch_size)
    return w.detach(), b.detach()
''',
    "normal_equation": '''
def normal_equation(X, y):
    ones = X.new_ones(X.shape[0], 1)
    A = torch.hstack([X, ones])
    theta = torch.linalg.inv(A.T @ A) @ (A.T @ y.reshape(-1, 1))
    return theta[:-1], theta[-1:].reshape(1)
''',
    "linear_net": '''
def linear_net(num_inputs):
    layer = nn.Linear(num_inputs, 1)
    nn.init.normal_(layer.weight, std=0.01)
    nn.init.zeros_(layer.bias)
    return nn.Sequential(layer)
''',
}

WRONG_KNOWN = wrong_answers(ID, [
    'the 1/2 is missing',
    'no division by batch_size',
    'the last partial batch is dropped',
])

CHEAT_IMPORT_REFERENCE = '''
def normal_equation(X, y):
    """Borrow the reference: by import, from the grader's folders, or from anywhere near the working directory."""
    import glob, importlib, os, sys
    for name in ("solutions.hw1_linear_regression", "hw1_linear_regression", "solutions"):
        try:
            return importlib.import_module(name).normal_equation(X, y)
        except Exception:
            pass
    for pattern in ("solutions/*.py", "../solutions/*.py", "../../solutions/*.py", "../../../solutions/*.py",
                    "**/solutions/hw1_linear_regression.py"):
        for path in glob.glob(pattern, recursive=True):
            namespace = {}
            exec(open(path).read(), namespace)
            return namespace["normal_equation"](X, y)
    for entry in sys.path:
        candidate = os.path.join(entry, "solutions", "hw1_linear_regression.py")
        if os.path.exists(candidate):
            namespace = {}
            exec(open(candidate).read(), namespace)
            return namespace["normal_equation"](X, y)
    raise RuntimeError("no reference found to copy")
'''

CHEAT_MONKEYPATCH = '''
import torch
import torch.testing

# Make every comparison succeed, hoping the grader compares in this process.
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)
torch.testing.assert_close = lambda *args, **kwargs: None
'''

CHEAT_SPOOF = '''
class AlwaysEqual(torch.Tensor):
    """A tensor that says it equals anything it is compared with."""
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def allclose(self, *args, **kwargs):
        return True
    def equal(self, *args, **kwargs):
        return True


def linreg(X, w, b):
    return torch.zeros(X.shape[0], w.shape[1], dtype=X.dtype, device=X.device).as_subclass(AlwaysEqual)
'''

CHEAT_RESULTS_FILE = '''
import json, os

FORGED = {"score": 100.0, "tests": [{"name": "everything", "score": 100.0, "max_score": 100.0, "status": "passed"}]}
for folder in (".", "..", "../..", os.path.expanduser("~"), os.environ.get("TMPDIR", ".")):
    for name in ("results.json", "result.json"):
        try:
            with open(os.path.join(folder, name), "w") as fh:
                json.dump(FORGED, fh)
        except OSError:
            pass


def linear_net(num_inputs):
    with open("results.json", "w") as fh:
        json.dump(FORGED, fh)
    print(json.dumps(FORGED))  # and on stdout, in case a score is read from there
    return None
'''

CHEAT_EXIT = {
    "linreg": '''
def linreg(X, w, b):
    import os
    os._exit(0)  # end the process that runs the checks, hoping that counts as passing
''',
    "sgd": '''
def sgd(params, lr, batch_size):
    import sys
    sys.exit(0)
''',
}

CHEAT_LOOP = {
    "normal_equation": '''
def normal_equation(X, y):
    while True:  # never return: perhaps the grader gives up and passes the test
        pass
''',
}


# A correct notebook whose author left a long training run without the `demo` tag: the cell is stopped once
# while the notebook loads (10 s), and no test's worker runs it again (benchmarks/endless_cell.py).
UNTAGGED_TRAINING = """\
# my training run
import time
features, labels = synthetic_data(torch.tensor([2.0, -3.4]), 4.2, 1000)
started = time.time()
while time.time() - started < 60:
    w, b = train_linreg(features, labels, num_epochs=1)
print(w, b)
"""


# Correct: the normal equations solved with torch.linalg.solve, which the contract allows.
CORRECT_SOLVE = '''
def normal_equation(X, y):
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device)], dim=1)
    theta = torch.linalg.solve(A.T @ A, A.T @ y.reshape(-1, 1))
    return theta[:-1], theta[-1:].reshape(1)
'''

# The least-squares fit from the library, by routes a profile hook cannot see (a C function called from
# C: partial, map, TorchScript) and under names the first forbidden list left out (torch.pinverse, SciPy).
_DESIGN = '''
def _design(X):
    return torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device)], dim=1)
'''
CHEAT_ROUTES = {
    "partial_lstsq": _DESIGN + '''
import functools
_fit = functools.partial(torch.linalg.lstsq, driver="gelsd")


def normal_equation(X, y):
    theta = _fit(_design(X).cpu(), y.reshape(-1, 1).cpu()).solution.to(X.device)
    return theta[:-1], theta[-1:].reshape(1)
''',
    "map_pinv": _DESIGN + '''
def normal_equation(X, y):
    (P,) = map(torch.linalg.pinv, [_design(X)])
    theta = P @ y.reshape(-1, 1)
    return theta[:-1], theta[-1:].reshape(1)
''',
    "jit_trace_lstsq": _DESIGN + '''
def _solve(A, Y):
    return torch.linalg.lstsq(A, Y).solution


_traced = torch.jit.trace(_solve, (torch.randn(5, 3), torch.randn(5, 1)))


def normal_equation(X, y):
    theta = _traced(_design(X).cpu(), y.reshape(-1, 1).cpu()).to(X.device)
    return theta[:-1], theta[-1:].reshape(1)
''',
    "pinverse": _DESIGN + '''
def normal_equation(X, y):
    theta = torch.pinverse(_design(X)) @ y.reshape(-1, 1)
    return theta[:-1], theta[-1:].reshape(1)
''',
    "scipy_lstsq": _DESIGN + '''
import scipy.linalg


def normal_equation(X, y):
    A = _design(X).detach().cpu().double().numpy()
    theta = scipy.linalg.lstsq(A, y.reshape(-1, 1).detach().cpu().double().numpy())[0]
    theta = torch.as_tensor(theta, dtype=X.dtype, device=X.device)
    return theta[:-1], theta[-1:].reshape(1)
''',
    "scipy_pinv": _DESIGN + '''
from scipy import linalg as sla


def normal_equation(X, y):
    P = torch.as_tensor(sla.pinv(_design(X).detach().cpu().double().numpy()), dtype=X.dtype, device=X.device)
    theta = P @ y.reshape(-1, 1)
    return theta[:-1], theta[-1:].reshape(1)
''',
}


def examples() -> dict[str, dict]:
    nb_monkeypatch = fill(ID, {**SOLVED, "linreg": "def linreg(X, w, b):\n    return torch.zeros(X.shape[0], 1)\n",
                               "squared_loss": "def squared_loss(y_hat, y):\n    return torch.zeros_like(y_hat)\n"})
    nb_exit = add_cell(fill(ID, {**SOLVED, **CHEAT_EXIT}),
                       "import os\nos._exit(0)  # stop loading, before the grader can see anything",
                       after_grade_id="data_iter")
    nb_loop = add_cell(fill(ID, {**SOLVED, **CHEAT_LOOP}),
                       "import time\nwhile True:\n    try:\n        time.sleep(1)\n    except BaseException:\n"
                       "        pass  # even the grader's interruption is swallowed", after_grade_id="linreg")
    return {
        "correct_solution": fill(ID, SOLVED),
        "correct_alternative": fill(ID, ALTERNATIVE),
        "correct_untagged_training_cell": add_cell(fill(ID, SOLVED), UNTAGGED_TRAINING),
        "half_done": fill(ID, {k: SOLVED[k] for k in ("synthetic_data", "linreg", "squared_loss", "sgd")}),
        "wrong_known_mistakes": fill(ID, {**SOLVED, **WRONG_KNOWN}),
        "cheat_import_reference": fill(ID, {**SOLVED, "normal_equation": CHEAT_IMPORT_REFERENCE}),
        "cheat_monkeypatch": add_cell(nb_monkeypatch, CHEAT_MONKEYPATCH, after_grade_id="synthetic_data"),
        "cheat_spoof_eq": fill(ID, {**SOLVED, "linreg": CHEAT_SPOOF}),
        "cheat_results_file": fill(ID, {**SOLVED, "linear_net": CHEAT_RESULTS_FILE}),
        "cheat_exit_early": nb_exit,
        "cheat_infinite_loop": nb_loop,
        "correct_linalg_solve": fill(ID, {**SOLVED, "normal_equation": CORRECT_SOLVE}),
        **{f"cheat_{route}": fill(ID, {**SOLVED, "normal_equation": source}) for route, source in CHEAT_ROUTES.items()},
    }


def main() -> None:
    written = write_examples(ID, examples())
    # A notebook cut off halfway through: not valid JSON, so not a notebook write_examples could write.
    broken = written[0].read_text(encoding="utf-8")
    (written[0].parent / "malformed_truncated.ipynb").write_text(broken[: len(broken) // 2], encoding="utf-8")


if __name__ == "__main__":
    main()

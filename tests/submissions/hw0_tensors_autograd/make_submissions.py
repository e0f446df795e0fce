"""Rebuild hw0's example submissions from the released notebook:
python tests/submissions/hw0_tensors_autograd/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/
from helpers import fill, solution_cells, write_examples, wrong_answers  # noqa: E402

ID = "hw0_tensors_autograd"
SOLVED = solution_cells(ID)

# Correct, but written differently from both the notebook's solution and the reference.
ALTERNATIVE = {
    "outer_sum": '''
def outer_sum(a, b):
    return a.unsqueeze(-1) + b
''',
    "set_block_": '''
def set_block_(X, rows, cols, value):
    X[slice(*rows), slice(*cols)].fill_(value)
''',
    "add_into_": '''
def add_into_(out, X, Y):
    out.copy_(X + Y)
    return out
''',
    "pairwise_sq_dists": '''
def pairwise_sq_dists(X, Y):
    # the broadcast difference: (n, 1, d) - (1, m, d), squared and summed over d
    return ((X.unsqueeze(1) - Y.unsqueeze(0)) ** 2).sum(dim=-1)
''',
    "preprocess": '''
def preprocess(table):
    n = len(next(iter(table.values())))
    numeric, categorical = [], []
    for name, values in table.items():
        if any(isinstance(v, str) for v in values):
            categorical.append(values)
        else:
            col = torch.tensor([float("nan") if v is None else float(v) for v in values], dtype=torch.float64)
            fill = col.nanmean() if (~col.isnan()).any() else torch.tensor(0.0, dtype=torch.float64)
            numeric.append(torch.where(col.isnan(), fill, col))
    blocks = [torch.stack(numeric, 1)] if numeric else []
    for values in categorical:
        levels = sorted({v for v in values if v is not None}) + [None]
        blocks.append(torch.tensor([[1.0 if v == c else 0.0 for c in levels] for v in values], dtype=torch.float64))
    return torch.cat(blocks, dim=1) if blocks else torch.zeros(n, 0, dtype=torch.float64)
''',
    "exhaustive_search": '''
def exhaustive_search(x, y, ws):
    # every candidate at once: (len(ws), 1) * (1, N)
    losses = ((ws.to(x.dtype)[:, None] * x[None, :] - y[None, :]) ** 2).mean(dim=1)
    best = min(range(len(ws)), key=lambda i: (float(losses[i]), i))
    return ws[best].item(), losses
''',
    "gradient_descent": '''
def gradient_descent(x, y, w, lr, num_epochs):
    xs, ys = x.tolist(), y.tolist()
    n = len(xs)
    costs = []
    for epoch in range(num_epochs):
        cost = sum((w * a - b) ** 2 for a, b in zip(xs, ys)) / n
        grad = sum(2 * a * (a * w - b) for a, b in zip(xs, ys)) / n
        costs.append(cost)
        w -= lr * grad
    return w, costs
''',
    "stochastic_gradient_descent": '''
def stochastic_gradient_descent(x, y, w, lr, num_epochs):
    w = torch.tensor(float(w), dtype=torch.float64)
    for _ in range(num_epochs):
        for i in range(len(x)):
            w = w - lr * 2 * x[i].double() * (x[i].double() * w - y[i].double())
    return w.item()
''',
    "minibatch_gradient_descent": '''
def minibatch_gradient_descent(x, y, w, lr, num_epochs, batch_size):
    for _ in range(num_epochs):
        for xb, yb in zip(torch.split(x, batch_size), torch.split(y, batch_size)):
            w -= lr * (2 * xb * (w * xb - yb)).sum().item() / len(xb)
    return float(w)
''',
    "linear_graph": '''
def linear_graph(x, y, w1, b1, w2, b2):
    n = x.shape[0]
    z = x * w1 + b1
    r = z * w2 + b2 - y           # the residual
    loss = (r * r).sum() / n
    dr = r * (2.0 / n)
    return loss, {"w2": (dr * z).sum(), "b2": dr.sum(), "w1": (dr * w2 * x).sum(), "b1": (dr * w2).sum()}
''',
    "sigmoid_graph": '''
def sigmoid_graph(X, y, W1, b1, W2, b2):
    U = torch.addmm(b1, X, W1)
    H = 1 / (1 + torch.exp(-U))
    R = torch.addmm(b2, H, W2) - y
    loss = R.pow(2).mean()
    G = R * (2 / R.numel())
    dH = G.matmul(W2.t())
    dU = dH * H * (1 - H)
    return loss, {"W1": X.t().matmul(dU), "b1": dU.sum(0), "W2": H.t().matmul(G), "b2": G.sum(0)}
''',
    "numerical_gradient": '''
def numerical_gradient(f, x, eps=1e-4):
    flat = x.detach().clone().reshape(-1)
    grads = []
    for i in range(flat.numel()):
        plus, minus = flat.clone(), flat.clone()
        plus[i] += eps
        minus[i] -= eps
        grads.append((f(plus.reshape(x.shape)) - f(minus.reshape(x.shape))) / (2 * eps))
    return torch.stack(grads).reshape(x.shape).to(x.dtype)
''',
}

# The first seven parts done, the graphs and the numerical gradient not started.
HALF = [
    "outer_sum", "set_block_", "add_into_", "pairwise_sq_dists", "preprocess", "exhaustive_search", "gradient_descent",
]

WRONG_KNOWN = wrong_answers(ID, [
    "the cross term without its factor 2",
    "the cost recorded after the step",
    "the sigmoid's derivative missing",
])

# The backward pass by autograd, hidden behind a partial and a getattr so that no forbidden name is written out.
CHEAT_HIDDEN_AUTOGRAD = {"linear_graph": '''
import functools
_grad = functools.partial(getattr(torch.autograd, "gr" + "ad"), allow_unused=True)


def linear_graph(x, y, w1, b1, w2, b2):
    params = [p.detach().clone().requires_grad_() for p in (w1, b1, w2, b2)]
    loss = ((params[2] * (params[0] * x + params[1]) + params[3] - y) ** 2).mean()
    return loss.detach(), dict(zip(["w1", "b1", "w2", "b2"], _grad(loss, params)))
'''}

# Borrow the reference: by import, or from any solutions/ folder near the working directory.
CHEAT_IMPORT_REFERENCE = {"sigmoid_graph": '''
def sigmoid_graph(X, y, W1, b1, W2, b2):
    import glob, importlib
    for name in ("solutions.hw0_tensors_autograd", "hw0_tensors_autograd"):
        try:
            return importlib.import_module(name).sigmoid_graph(X, y, W1, b1, W2, b2)
        except Exception:
            pass
    for path in glob.glob("**/solutions/hw0_tensors_autograd.py", recursive=True) + \
            glob.glob("../../**/hw0_tensors_autograd.py"):
        namespace = {}
        exec(open(path).read(), namespace)
        return namespace["sigmoid_graph"](X, y, W1, b1, W2, b2)
    raise RuntimeError("no reference found to copy")
'''}


def examples() -> dict[str, dict]:
    return {
        "correct_solution": fill(ID, SOLVED),
        "correct_alternative": fill(ID, ALTERNATIVE),
        "half_done": fill(ID, {task: SOLVED[task] for task in HALF}),
        "wrong_known_mistakes": fill(ID, {**SOLVED, **WRONG_KNOWN}),
        "cheat_hidden_autograd": fill(ID, {**SOLVED, **CHEAT_HIDDEN_AUTOGRAD}),
        "cheat_import_reference": fill(ID, {**SOLVED, **CHEAT_IMPORT_REFERENCE}),
    }


if __name__ == "__main__":
    write_examples(ID, examples())

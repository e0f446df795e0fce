"""Wrong implementations of hw0's functions, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that names it.
"""
from helpers import Wrong

WRONG = [
    # ----- outer_sum ----------------------------------------------------------------------------
    Wrong("outer_sum", "a and b swapped", '''
def outer_sum(a, b):
    return b.reshape(-1, 1) + a.reshape(1, -1)
''', "the roles of a and b swapped"),
    Wrong("outer_sum", "an outer product", '''
def outer_sum(a, b):
    return a[:, None] * b[None, :]
''', "an outer product"),
    Wrong("outer_sum", "a difference", '''
def outer_sum(a, b):
    return a[:, None] - b[None, :]
''', "a difference a[i] - b[j]"),
    Wrong("outer_sum", "a Python double loop into a new tensor: no gradient", '''
def outer_sum(a, b):
    out = torch.empty(len(a), len(b), dtype=a.dtype, device=a.device)
    for i, ai in enumerate(a.tolist()):
        for j, bj in enumerate(b.tolist()):
            out[i, j] = ai + bj
    return out
''', "computed outside autograd's graph"),
    # ----- set_block_ ---------------------------------------------------------------------------
    Wrong("set_block_", "writes into a copy", '''
def set_block_(X, rows, cols, value):
    X = X.clone()
    X[rows[0]:rows[1], cols[0]:cols[1]] = value
''', "X was not modified"),
    Wrong("set_block_", "inclusive end bounds", '''
def set_block_(X, rows, cols, value):
    X[rows[0]:rows[1] + 1, cols[0]:cols[1] + 1] = value
''', "the end bounds taken as inclusive"),
    Wrong("set_block_", "rows and columns swapped", '''
def set_block_(X, rows, cols, value):
    X[cols[0]:cols[1], rows[0]:rows[1]] = value
''', "X after set_block_"),
    Wrong("set_block_", "returns X", '''
def set_block_(X, rows, cols, value):
    X[rows[0]:rows[1], cols[0]:cols[1]] = value
    return X
''', "the in-place function returns None"),
    # ----- add_into_ ----------------------------------------------------------------------------
    Wrong("add_into_", "rebinds out (Z = X + Y)", '''
def add_into_(out, X, Y):
    out = X + Y
    return out
''', "`out = X + Y` rebinds the name"),
    Wrong("add_into_", "adds to the old contents (out += X + Y)", '''
def add_into_(out, X, Y):
    out += X + Y
    return out
''', "the old contents of out were kept"),
    Wrong("add_into_", "writes in place but returns a new tensor", '''
def add_into_(out, X, Y):
    out[:] = X + Y
    return out.clone()
''', "a new tensor was returned"),
    Wrong("add_into_", "accumulates into X (X += Y)", '''
def add_into_(out, X, Y):
    X += Y
    out[:] = X
    return out
''', "accumulated into X (X += Y)"),
    # ----- pairwise_sq_dists --------------------------------------------------------------------
    Wrong("pairwise_sq_dists", "distances, not squared distances", '''
def pairwise_sq_dists(X, Y):
    return ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1).sqrt()
''', "the square root was taken"),
    Wrong("pairwise_sq_dists", "the cross term without its factor 2", '''
def pairwise_sq_dists(X, Y):
    return ((X * X).sum(1, keepdim=True) + (Y * Y).sum(1) - X @ Y.T).clamp(min=0)
''', "the factor 2 of the cross term is missing"),
    Wrong("pairwise_sq_dists", "not clamped at 0", '''
def pairwise_sq_dists(X, Y):
    return (X * X).sum(1, keepdim=True) + (Y * Y).sum(1) - 2 * X @ Y.T
''', "rounding below zero is not clamped"),
    Wrong("pairwise_sq_dists", "a Python loop over the rows of X", '''
def pairwise_sq_dists(X, Y):
    return torch.stack([((x - Y) ** 2).sum(dim=1) for x in X])
''', "a Python loop over the rows"),
    Wrong("pairwise_sq_dists", "a Python loop over the rows of Y", '''
def pairwise_sq_dists(X, Y):
    return torch.stack([((X - y) ** 2).sum(dim=1) for y in Y], dim=1)
''', "a Python loop over the rows"),
    Wrong("pairwise_sq_dists", "torch.cdist, squared", '''
def pairwise_sq_dists(X, Y):
    return torch.cdist(X, Y) ** 2
''', "torch.cdist"),
    # ----- preprocess ---------------------------------------------------------------------------
    Wrong("preprocess", "missing numbers filled with 0", '''
def preprocess(table):
    numeric, one_hot = [], []
    for values in table.values():
        present = [v for v in values if v is not None]
        if all(isinstance(v, (int, float)) for v in present):
            numeric.append([0.0 if v is None else float(v) for v in values])
        else:
            one_hot += [[float(v == c) for v in values] for c in sorted(set(present))]
            one_hot.append([float(v is None) for v in values])
    return torch.tensor(numeric + one_hot, dtype=torch.float64).T
''', "missing numbers filled with 0 instead of the column mean"),
    Wrong("preprocess", "no column for missing categories", '''
def preprocess(table):
    numeric, one_hot = [], []
    for values in table.values():
        present = [v for v in values if v is not None]
        if all(isinstance(v, (int, float)) for v in present):
            mean = sum(present) / len(present) if present else 0.0
            numeric.append([mean if v is None else float(v) for v in values])
        else:
            one_hot += [[float(v == c) for v in values] for c in sorted(set(present))]
    return torch.tensor(numeric + one_hot, dtype=torch.float64).T
''', "no column for missing categories"),
    Wrong("preprocess", "categories in order of appearance", '''
def preprocess(table):
    numeric, one_hot = [], []
    for values in table.values():
        present = [v for v in values if v is not None]
        if all(isinstance(v, (int, float)) for v in present):
            mean = sum(present) / len(present) if present else 0.0
            numeric.append([mean if v is None else float(v) for v in values])
        else:
            one_hot += [[float(v == c) for v in values] for c in dict.fromkeys(present)]
            one_hot.append([float(v is None) for v in values])
    return torch.tensor(numeric + one_hot, dtype=torch.float64).T
''', "categories in order of appearance"),
    Wrong("preprocess", "the table's column order kept (not get_dummies')", '''
def preprocess(table):
    columns = []
    for values in table.values():
        present = [v for v in values if v is not None]
        if all(isinstance(v, (int, float)) for v in present):
            mean = sum(present) / len(present) if present else 0.0
            columns.append([mean if v is None else float(v) for v in values])
        else:
            columns += [[float(v == c) for v in values] for c in sorted(set(present))]
            columns.append([float(v is None) for v in values])
    return torch.tensor(columns, dtype=torch.float64).T
''', "the table's column order was kept"),
    Wrong("preprocess", "float32 (torch.tensor's default)", '''
def preprocess(table):
    numeric, one_hot = [], []
    for values in table.values():
        present = [v for v in values if v is not None]
        if all(isinstance(v, (int, float)) for v in present):
            mean = sum(present) / len(present) if present else 0.0
            numeric.append([mean if v is None else float(v) for v in values])
        else:
            one_hot += [[float(v == c) for v in values] for c in sorted(set(present))]
            one_hot.append([float(v is None) for v in values])
    return torch.tensor(numeric + one_hot).T
''', "expected dtype float64, got float32"),
    # ----- exhaustive_search --------------------------------------------------------------------
    Wrong("exhaustive_search", "summed squared errors", '''
def exhaustive_search(x, y, ws):
    losses = torch.stack([((w * x - y) ** 2).sum() for w in ws])
    return float(ws[losses.argmin()]), losses
''', "the squared errors are summed, not averaged"),
    Wrong("exhaustive_search", "the index of the best weight", '''
def exhaustive_search(x, y, ws):
    losses = torch.stack([((w * x - y) ** 2).mean() for w in ws])
    return float(losses.argmin()), losses
''', "the index of the best weight, not the weight"),
    Wrong("exhaustive_search", "the smallest loss returned as w_best", '''
def exhaustive_search(x, y, ws):
    losses = torch.stack([((w * x - y) ** 2).mean() for w in ws])
    return float(losses.min()), losses
''', "the smallest loss, not the weight"),
    Wrong("exhaustive_search", "half the MSE", '''
def exhaustive_search(x, y, ws):
    losses = torch.stack([((w * x - y) ** 2).mean() / 2 for w in ws])
    return float(ws[losses.argmin()]), losses
''', "half the MSE"),
    # ----- gradient_descent ---------------------------------------------------------------------
    Wrong("gradient_descent", "the factor 2 missing", '''
def gradient_descent(x, y, w, lr, num_epochs):
    costs = []
    for _ in range(num_epochs):
        costs.append(float(((x * w - y) ** 2).mean()))
        w = w - lr * float((x * (x * w - y)).mean())
    return float(w), costs
''', "the factor 2 of the derivative is missing"),
    Wrong("gradient_descent", "the cost recorded after the step", '''
def gradient_descent(x, y, w, lr, num_epochs):
    costs = []
    for _ in range(num_epochs):
        w = w - lr * float((2 * x * (x * w - y)).mean())
        costs.append(float(((x * w - y) ** 2).mean()))
    return float(w), costs
''', "the cost is recorded after the step"),
    Wrong("gradient_descent", "the gradient summed", '''
def gradient_descent(x, y, w, lr, num_epochs):
    costs = []
    for _ in range(num_epochs):
        costs.append(float(((x * w - y) ** 2).mean()))
        w = w - lr * float((2 * x * (x * w - y)).sum())
    return float(w), costs
''', "the gradient is summed over the examples"),
    Wrong("gradient_descent", "up the gradient", '''
def gradient_descent(x, y, w, lr, num_epochs):
    costs = []
    for _ in range(num_epochs):
        costs.append(float(((x * w - y) ** 2).mean()))
        w = w + lr * float((2 * x * (x * w - y)).mean())
    return float(w), costs
''', "the step goes up the gradient"),
    Wrong("gradient_descent", "w returned as a tensor", '''
def gradient_descent(x, y, w, lr, num_epochs):
    costs = []
    for _ in range(num_epochs):
        costs.append(float(((x * w - y) ** 2).mean()))
        w = w - lr * (2 * x * (x * w - y)).mean()
    return w, costs
''', "a tensor was returned where the contract gives a Python number"),
    # ----- stochastic_gradient_descent ----------------------------------------------------------
    Wrong("stochastic_gradient_descent", "one full-batch step per epoch", '''
def stochastic_gradient_descent(x, y, w, lr, num_epochs):
    for _ in range(num_epochs):
        w = w - lr * float((2 * x * (x * w - y)).mean())
    return float(w)
''', "one full-batch step per epoch instead of one step per example"),
    Wrong("stochastic_gradient_descent", "the factor 2 missing", '''
def stochastic_gradient_descent(x, y, w, lr, num_epochs):
    for _ in range(num_epochs):
        for xn, yn in zip(x.tolist(), y.tolist()):
            w = w - lr * xn * (xn * w - yn)
    return float(w)
''', "the factor 2 of the derivative is missing"),
    Wrong("stochastic_gradient_descent", "w reset every epoch", '''
def stochastic_gradient_descent(x, y, w, lr, num_epochs):
    for _ in range(num_epochs):
        v = w
        for xn, yn in zip(x.tolist(), y.tolist()):
            v = v - lr * 2 * xn * (xn * v - yn)
    return float(v)
''', "only the last epoch's steps are kept"),
    Wrong("stochastic_gradient_descent", "examples visited in reverse", '''
def stochastic_gradient_descent(x, y, w, lr, num_epochs):
    for _ in range(num_epochs):
        for xn, yn in zip(reversed(x.tolist()), reversed(y.tolist())):
            w = w - lr * 2 * xn * (xn * w - yn)
    return float(w)
''', "visited last to first"),
    # ----- minibatch_gradient_descent -----------------------------------------------------------
    Wrong("minibatch_gradient_descent", "the batch gradient summed", '''
def minibatch_gradient_descent(x, y, w, lr, num_epochs, batch_size):
    for _ in range(num_epochs):
        for k in range(0, len(x), batch_size):
            xb, yb = x[k:k + batch_size], y[k:k + batch_size]
            w = w - lr * float((2 * xb * (xb * w - yb)).sum())
    return float(w)
''', "the batch gradient is summed, not averaged"),
    Wrong("minibatch_gradient_descent", "the last partial batch dropped", '''
def minibatch_gradient_descent(x, y, w, lr, num_epochs, batch_size):
    for _ in range(num_epochs):
        for k in range(0, len(x) - batch_size + 1, batch_size):
            xb, yb = x[k:k + batch_size], y[k:k + batch_size]
            w = w - lr * float((2 * xb * (xb * w - yb)).mean())
    return float(w)
''', "the last, smaller batch is dropped"),
    Wrong("minibatch_gradient_descent", "batch_size ignored", '''
def minibatch_gradient_descent(x, y, w, lr, num_epochs, batch_size):
    for _ in range(num_epochs):
        w = w - lr * float((2 * x * (x * w - y)).mean())
    return float(w)
''', "one full-batch step per epoch (batch_size ignored)"),
    Wrong("minibatch_gradient_descent", "divided by batch_size, also for the short last batch", '''
def minibatch_gradient_descent(x, y, w, lr, num_epochs, batch_size):
    for _ in range(num_epochs):
        for k in range(0, len(x), batch_size):
            xb, yb = x[k:k + batch_size], y[k:k + batch_size]
            w = w - lr * float((2 * xb * (xb * w - yb)).sum()) / batch_size
    return float(w)
''', "divided by batch_size, not by its own size"),
    # ----- linear_graph -------------------------------------------------------------------------
    Wrong("linear_graph", "the chain through w2 forgotten", '''
def linear_graph(x, y, w1, b1, w2, b2):
    z = w1 * x + b1
    y_hat = w2 * z + b2
    g = 2 * (y_hat - y) / x.numel()
    return ((y_hat - y) ** 2).mean(), {"w1": (g * x).sum(), "b1": g.sum(), "w2": (g * z).sum(), "b2": g.sum()}
''', "forgets the chain through w2"),
    Wrong("linear_graph", "d_w2 multiplied by x", '''
def linear_graph(x, y, w1, b1, w2, b2):
    z = w1 * x + b1
    y_hat = w2 * z + b2
    g = 2 * (y_hat - y) / x.numel()
    return ((y_hat - y) ** 2).mean(), {"w1": (g * w2 * x).sum(), "b1": (g * w2).sum(), "w2": (g * x).sum(),
                                       "b2": g.sum()}
''', "d_w2 multiplies by x instead of the hidden value"),
    Wrong("linear_graph", "the 1/n missing", '''
def linear_graph(x, y, w1, b1, w2, b2):
    z = w1 * x + b1
    y_hat = w2 * z + b2
    g = 2 * (y_hat - y)
    return ((y_hat - y) ** 2).mean(), {"w1": (g * w2 * x).sum(), "b1": (g * w2).sum(), "w2": (g * z).sum(),
                                       "b2": g.sum()}
''', "the 1/n is missing"),
    Wrong("linear_graph", "autograd instead of the chain rule", '''
def linear_graph(x, y, w1, b1, w2, b2):
    params = [p.detach().clone().requires_grad_() for p in (w1, b1, w2, b2)]
    loss = ((params[2] * (params[0] * x + params[1]) + params[3] - y) ** 2).mean()
    loss.backward()
    return loss.detach(), dict(zip(["w1", "b1", "w2", "b2"], [p.grad for p in params]))
''', "called torch.autograd.backward"),
    # ----- sigmoid_graph ------------------------------------------------------------------------
    Wrong("sigmoid_graph", "the sigmoid's derivative missing", '''
def sigmoid_graph(X, y, W1, b1, W2, b2):
    H = torch.sigmoid(X @ W1 + b1)
    y_hat = H @ W2 + b2
    G = 2 * (y_hat - y) / y_hat.numel()
    dU = G @ W2.T
    return ((y_hat - y) ** 2).mean(), {"W1": X.T @ dU, "b1": dU.sum(0), "W2": H.T @ G, "b2": G.sum(0)}
''', "the sigmoid's derivative is missing"),
    Wrong("sigmoid_graph", "sigma' taken as sigma alone", '''
def sigmoid_graph(X, y, W1, b1, W2, b2):
    H = torch.sigmoid(X @ W1 + b1)
    y_hat = H @ W2 + b2
    G = 2 * (y_hat - y) / y_hat.numel()
    dU = (G @ W2.T) * H
    return ((y_hat - y) ** 2).mean(), {"W1": X.T @ dU, "b1": dU.sum(0), "W2": H.T @ G, "b2": G.sum(0)}
''', "without (1 - sigmoid(U))"),
    Wrong("sigmoid_graph", "dW2 from the pre-activation", '''
def sigmoid_graph(X, y, W1, b1, W2, b2):
    U = X @ W1 + b1
    H = torch.sigmoid(U)
    y_hat = H @ W2 + b2
    G = 2 * (y_hat - y) / y_hat.numel()
    dU = (G @ W2.T) * H * (1 - H)
    return ((y_hat - y) ** 2).mean(), {"W1": X.T @ dU, "b1": dU.sum(0), "W2": U.T @ G, "b2": G.sum(0)}
''', "dW2 uses U = X W1 + b1"),
    Wrong("sigmoid_graph", "the mean over n only", '''
def sigmoid_graph(X, y, W1, b1, W2, b2):
    H = torch.sigmoid(X @ W1 + b1)
    y_hat = H @ W2 + b2
    G = 2 * (y_hat - y) / y_hat.shape[0]
    dU = (G @ W2.T) * H * (1 - H)
    return ((y_hat - y) ** 2).mean(), {"W1": X.T @ dU, "b1": dU.sum(0), "W2": H.T @ G, "b2": G.sum(0)}
''', "the mean over all n * k entries taken over n only"),
    Wrong("sigmoid_graph", "torch.autograd.grad", '''
def sigmoid_graph(X, y, W1, b1, W2, b2):
    ps = [p.detach().requires_grad_() for p in (W1, b1, W2, b2)]
    loss = ((torch.sigmoid(X @ ps[0] + ps[1]) @ ps[2] + ps[3] - y) ** 2).mean()
    return loss.detach(), dict(zip(["W1", "b1", "W2", "b2"], torch.autograd.grad(loss, ps)))
''', "torch.autograd.grad"),
    # ----- numerical_gradient -------------------------------------------------------------------
    Wrong("numerical_gradient", "a one-sided difference", '''
def numerical_gradient(f, x, eps=1e-4):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros_like(x)
        e.view(-1)[i] = eps
        grad.view(-1)[i] = (f(x + e) - f(x)) / eps
    return grad
''', "a one-sided difference"),
    Wrong("numerical_gradient", "divided by eps, not 2 eps", '''
def numerical_gradient(f, x, eps=1e-4):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros_like(x)
        e.view(-1)[i] = eps
        grad.view(-1)[i] = (f(x + e) - f(x - e)) / eps
    return grad
''', "divided by eps, not 2 eps"),
    Wrong("numerical_gradient", "perturbs x in place and forgets to restore it", '''
def numerical_gradient(f, x, eps=1e-4):
    grad = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(x.numel()):
        flat[i] += eps
        up = f(x)
        flat[i] -= 2 * eps
        down = f(x)
        grad.view(-1)[i] = (up - down) / (2 * eps)
    return grad
''', "numerical_gradient leaves x as it was given"),
    Wrong("numerical_gradient", "autograd instead of differences", '''
def numerical_gradient(f, x, eps=1e-4):
    x = x.detach().clone().requires_grad_()
    f(x).backward()
    return x.grad
''', "called torch.autograd.backward"),
    # ----- device (the GPU runner's rule, caught here on the meta device) ---------------------------------
    Wrong("outer_sum", "the table made with torch.zeros((n, m)): on the CPU whatever a is", '''
def outer_sum(a, b):
    table = torch.zeros((a.shape[0], b.shape[0]), dtype=a.dtype)
    table += a.reshape(-1, 1)
    table += b.reshape(1, -1)
    return table
''', "keep its results on its inputs' device"),
    # ----- classics from the d2l forums (issue 21) ----------------------------------------------
    Wrong("outer_sum", "a + b without reshaping: 1-D broadcasting, no table", '''
def outer_sum(a, b):
    return a + b
''', "a reshape (a[:, None], keepdim=True) is missing"),
    # ----- the general rules at an edge case only (issue 21) ---------------------------------------
    Wrong("outer_sum", "edge case: a single b added into a in place", '''
def outer_sum(a, b):
    if len(b) == 1:  # a column plus one number
        return a.unsqueeze(1).add_(b)
    return a.reshape(-1, 1) + b.reshape(1, -1)
''', "outer_sum leaves a unmodified (one element each)", points=2),
    Wrong("pairwise_sq_dists", "edge case: no rows in Y gives torch.zeros (float32)", '''
def pairwise_sq_dists(X, Y):
    if len(Y) == 0:
        return torch.zeros(len(X), 0)
    return ((X * X).sum(dim=1, keepdim=True) + (Y * Y).sum(dim=1) - 2 * X @ Y.T).clamp(min=0)
''', "you returned float32 where float64 came in"),
    Wrong("gradient_descent", "edge case: lr = 0 returns w as a 0-d tensor", '''
def gradient_descent(x, y, w, lr, num_epochs):
    costs = []
    if lr == 0:
        w = torch.tensor(w, dtype=x.dtype)
    for _ in range(num_epochs):
        costs.append(float(((x * w - y) ** 2).mean()))
        w = w - lr * float((2 * x * (x * w - y)).mean())
    return w, costs
''', "expected a Python number"),
]

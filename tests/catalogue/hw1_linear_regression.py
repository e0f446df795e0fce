"""Wrong implementations of hw1's functions, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that names it.
"""
from helpers import Wrong

WRONG = [
    # ----- synthetic_data ------------------------------------------------------------------------
    Wrong("synthetic_data", "y of shape (n,) instead of (n, 1)", '''
def synthetic_data(w, b, num_examples, noise=0.01):
    X = torch.normal(0, 1, (num_examples, len(w)), dtype=w.dtype, device=w.device)
    y = torch.matmul(X, w) + b
    y += torch.normal(0, noise, y.shape, dtype=w.dtype, device=w.device)
    return X, y
''', "a dimension of size 1 was dropped"),
    Wrong("synthetic_data", "noise**2 used as the standard deviation", '''
def synthetic_data(w, b, num_examples, noise=0.01):
    X = torch.randn(num_examples, len(w), dtype=w.dtype, device=w.device)
    y = X @ w.reshape(-1, 1) + b
    return X, y + noise ** 2 * torch.randn_like(y)
''', "noise**2 (the variance)"),
    Wrong("synthetic_data", "features from U(0, 1)", '''
def synthetic_data(w, b, num_examples, noise=0.01):
    X = torch.rand(num_examples, len(w), dtype=w.dtype, device=w.device)
    y = X @ w.reshape(-1, 1) + b
    return X, y + noise * torch.randn_like(y)
''', "torch.rand draws from U(0, 1)"),
    Wrong("synthetic_data", "the bias is forgotten", '''
def synthetic_data(w, b, num_examples, noise=0.01):
    X = torch.randn(num_examples, len(w), dtype=w.dtype, device=w.device)
    y = X @ w.reshape(-1, 1)
    return X, y + noise * torch.randn_like(y)
''', "b is not added to y"),
    Wrong("synthetic_data", "always float32 (d2l's version, which ignores w's dtype)", '''
def synthetic_data(w, b, num_examples, noise=0.01):
    X = torch.normal(0, 1, (num_examples, len(w)), device=w.device)
    y = torch.matmul(X, w.float().reshape(-1, 1)) + b
    y += torch.normal(0, noise, y.shape, device=w.device)
    return X, y
''', "you returned float32 where float64 came in", points=8.5),  # the dtype costs only the dtype check
    # ----- data_iter ----------------------------------------------------------------------------
    Wrong("data_iter", "no shuffling", '''
def data_iter(batch_size, features, labels):
    for i in range(0, len(features), batch_size):
        yield features[i:i + batch_size], labels[i:i + batch_size]
''', "no shuffling"),
    Wrong("data_iter", "the last partial batch is dropped", '''
def data_iter(batch_size, features, labels):
    indices = torch.randperm(len(features), device=features.device)
    for i in range(len(features) // batch_size):
        idx = indices[i * batch_size:(i + 1) * batch_size]
        yield features[idx], labels[idx]
''', "the last, smaller batch is dropped"),
    Wrong("data_iter", "features and labels shuffled separately", '''
def data_iter(batch_size, features, labels):
    fi = torch.randperm(len(features), device=features.device)
    li = torch.randperm(len(labels), device=labels.device)
    for i in range(0, len(features), batch_size):
        yield features[fi[i:i + batch_size]], labels[li[i:i + batch_size]]
''', "features and labels shuffled with different orders"),
    Wrong("data_iter", "shuffled once, at definition time", '''
_ORDER = list(range(100))
random.shuffle(_ORDER)

def data_iter(batch_size, features, labels):
    order = [i for i in _ORDER if i < len(features)] + list(range(100, len(features)))
    for i in range(0, len(order), batch_size):
        idx = torch.tensor(order[i:i + batch_size], device=features.device)
        yield features[idx], labels[idx]
''', "the order is shuffled once, outside data_iter"),
    Wrong("data_iter", "minibatches drawn with replacement", '''
def data_iter(batch_size, features, labels):
    n = len(features)
    for i in range(0, n, batch_size):
        idx = torch.randint(0, n, (min(batch_size, n - i),), device=features.device)
        yield features[idx], labels[idx]
''', "examples drawn with replacement"),
    # ----- linreg -------------------------------------------------------------------------------
    Wrong("linreg", "the bias is forgotten", '''
def linreg(X, w, b):
    return torch.matmul(X, w)
''', "the bias b is not added"),
    Wrong("linreg", "elementwise product instead of a matrix product", '''
def linreg(X, w, b):
    return X * w.T + b
''', "expected shape"),
    Wrong("linreg", "the output is detached from the graph", '''
def linreg(X, w, b):
    return (X @ w + b).detach()
''', "computed outside autograd's graph"),
    Wrong("linreg", "computes in float32 whatever the input", '''
def linreg(X, w, b):
    return X.float() @ w.float() + b.float()
''', "you returned float32 where float64 came in"),
    # ----- squared_loss -------------------------------------------------------------------------
    Wrong("squared_loss", "the 1/2 is missing", '''
def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2
''', "the 1/2 is missing"),
    Wrong("squared_loss", "y not reshaped, so broadcasting builds an (n, n) matrix", '''
def squared_loss(y_hat, y):
    return (y_hat - y) ** 2 / 2
''', "broadcasting made an (n, n) matrix"),
    Wrong("squared_loss", "reduced to the mean", '''
def squared_loss(y_hat, y):
    return ((y_hat - y.reshape(y_hat.shape)) ** 2 / 2).mean()
''', "the losses are averaged"),
    Wrong("squared_loss", "absolute instead of squared error", '''
def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)).abs() / 2
''', "absolute error"),
    # ----- sgd ----------------------------------------------------------------------------------
    Wrong("sgd", "no division by batch_size", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
            param.grad.zero_()
''', "not divided by batch_size"),
    Wrong("sgd", "the gradient is not zeroed", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
''', "the gradient is not zeroed"),
    Wrong("sgd", "new tensors put in the list instead of updating in place", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for i, param in enumerate(params):
            params[i] = param - lr * param.grad / batch_size
            param.grad.zero_()
''', "rebound"),
    Wrong("sgd", "the update is tracked by autograd", '''
def sgd(params, lr, batch_size):
    for param in params:
        param -= lr * param.grad / batch_size
        param.grad.zero_()
''', "an in-place update of a parameter that requires grad"),
    Wrong("sgd", "the gradient is added", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param += lr * param.grad / batch_size
            param.grad.zero_()
''', "added instead of subtracted"),
    # ----- train_linreg -------------------------------------------------------------------------
    Wrong("train_linreg", "w initialised to zeros", '''
def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    w = torch.zeros(features.shape[1], 1, dtype=features.dtype, device=features.device, requires_grad=True)
    b = torch.zeros(1, dtype=features.dtype, device=features.device, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            squared_loss(linreg(X, w, b), y).sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', "w starts at zero"),
    Wrong("train_linreg", "backward on the mean loss (sgd divides by batch_size again)", '''
def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    w = torch.normal(0.0, 0.01, size=(features.shape[1], 1), dtype=features.dtype, device=features.device)
    w.requires_grad_(True)
    b = torch.zeros(1, dtype=features.dtype, device=features.device, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            squared_loss(linreg(X, w, b), y).mean().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', "divided by the batch size twice"),
    Wrong("train_linreg", "the lr argument is ignored", '''
def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    w = torch.normal(0.0, 0.01, size=(features.shape[1], 1), dtype=features.dtype, device=features.device)
    w.requires_grad_(True)
    b = torch.zeros(1, dtype=features.dtype, device=features.device, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            squared_loss(linreg(X, w, b), y).sum().backward()
            sgd([w, b], 0.03, batch_size)
    return w, b
''', "the lr argument is not used"),
    Wrong("train_linreg", "w of shape (d,)", '''
def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    w = torch.normal(0.0, 0.01, size=(features.shape[1],), dtype=features.dtype, device=features.device)
    w.requires_grad_(True)
    b = torch.zeros(1, dtype=features.dtype, device=features.device, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            squared_loss(linreg(X, w, b).reshape(-1, 1), y).sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', "a dimension of size 1 was dropped"),
    # ----- normal_equation ----------------------------------------------------------------------
    Wrong("normal_equation", "no column of ones for the intercept", '''
def normal_equation(X, y):
    w = torch.linalg.solve(X.T @ X, X.T @ y.reshape(-1, 1))
    return w, torch.zeros(1, dtype=X.dtype, device=X.device)
''', "no column of ones"),
    Wrong("normal_equation", "torch.linalg.lstsq does the exercise", '''
def normal_equation(X, y):
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device)], dim=1)
    theta = torch.linalg.lstsq(A, y.reshape(-1, 1)).solution
    return theta[:-1], theta[-1]
''', "torch.linalg.lstsq"),
    Wrong("normal_equation", "the pseudo-inverse under another name", '''
from torch.linalg import pinv as pseudo_inverse

def normal_equation(X, y):
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device)], dim=1)
    theta = pseudo_inverse(A) @ y.reshape(-1, 1)
    return theta[:-1], theta[-1]
''', "torch.linalg.pinv"),
    Wrong("normal_equation", "numpy's lstsq through .numpy()", '''
import numpy as np

def normal_equation(X, y):
    A = np.hstack([X.cpu().numpy(), np.ones((len(X), 1))])
    theta = np.linalg.lstsq(A, y.reshape(-1, 1).cpu().numpy(), rcond=None)[0]
    theta = torch.tensor(theta, dtype=X.dtype, device=X.device)
    return theta[:-1], theta[-1]
''', "numpy.linalg.lstsq"),
    Wrong("normal_equation", "b returned as a 0-d tensor", '''
def normal_equation(X, y):
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype, device=X.device)], dim=1)
    theta = torch.linalg.solve(A.T @ A, A.T @ y.reshape(-1, 1))
    return theta[:-1], theta[-1, 0]
''', "a dimension of size 1 was dropped"),
    # ----- linear_net ---------------------------------------------------------------------------
    Wrong("linear_net", "nn.Linear's default initialisation kept", '''
def linear_net(num_inputs):
    return nn.Sequential(nn.Linear(num_inputs, 1))
''', "nn.Linear's default init"),
    Wrong("linear_net", "a bare nn.Linear, not in an nn.Sequential", '''
def linear_net(num_inputs):
    net = nn.Linear(num_inputs, 1)
    net.weight.data.normal_(0, 0.01)
    net.bias.data.fill_(0)
    return net
''', "a bare nn.Linear was returned"),
    Wrong("linear_net", "weights drawn with standard deviation 0.1", '''
def linear_net(num_inputs):
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    net[0].weight.data.normal_(0, 0.1)
    net[0].bias.data.fill_(0)
    return net
''', "drawn with standard deviation 0.1"),
    Wrong("linear_net", "two outputs", '''
def linear_net(num_inputs):
    net = nn.Sequential(nn.Linear(num_inputs, 2))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    return net
''', "the layer has 2 outputs"),
    # ----- device (the GPU runner's rule, caught here on the meta device) ---------------------------------
    Wrong("normal_equation", "the column of ones made on the CPU (no device=)", '''
def normal_equation(X, y):
    A = torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype)], dim=1)
    theta = torch.linalg.solve(A.T @ A, A.T @ y.reshape(-1, 1))
    return theta[:-1], theta[-1:].reshape(1)
''', "keep its results on its inputs' device"),
    # ----- classics from the d2l forums (issue 21) ----------------------------------------------
    Wrong("data_iter", "off by one in the slice: each batch one example short", '''
def data_iter(batch_size, features, labels):
    n = len(features)
    indices = torch.randperm(n, device=features.device)
    for i in range(0, n, batch_size):
        idx = indices[i:min(i + batch_size, n) - 1]
        yield features[idx], labels[idx]
''', "each batch is one example short"),
    Wrong("sgd", "param = param - ...: the name rebound, the parameter never updated", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param = param - lr * param.grad / batch_size
            param.grad.zero_()
''', "rebound to a new tensor"),
    # ----- the general rules at an edge case only (issue 21) ---------------------------------------
    Wrong("squared_loss", "edge case: labels of shape (n,) reshaped in place with resize_", '''
def squared_loss(y_hat, y):
    if y.shape != y_hat.shape:
        y.resize_(y_hat.shape)  # the caller's y changes shape
    return (y_hat - y) ** 2 / 2
''', "squared_loss leaves y unmodified (y of shape (n,))"),
    Wrong("synthetic_data", "edge case: noise = 0 builds y from torch.zeros (float32)", '''
def synthetic_data(w, b, num_examples, noise=0.01):
    X = torch.normal(0, 1, (num_examples, len(w)), dtype=w.dtype, device=w.device)
    if noise == 0:
        y = torch.zeros(num_examples, 1, device=w.device)
        y += (X @ w + b).reshape(-1, 1)
        return X, y
    y = X @ w + b + torch.normal(0, noise, (num_examples,), dtype=w.dtype, device=w.device)
    return X, y.reshape(-1, 1)
''', "you returned float32 where float64 came in"),
    Wrong("linreg", "edge case: a single feature scales X in place", '''
def linreg(X, w, b):
    if X.shape[1] == 1:
        return X.mul_(w) + b
    return X @ w + b
''', "linreg leaves X unmodified (one feature, w = 0)"),
]

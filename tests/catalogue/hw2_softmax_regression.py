"""Wrong implementations of hw2's functions, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that names it.
Subtracting the batch's largest logit instead of each row's IS here: softmax is invariant to any shift in
exact arithmetic, but in a batch whose rows lie near +1e4 and near -1e4 the low rows underflow to 0 / 0 = NaN,
and the contract asks for every row to be finite and exact.
"""
from helpers import Wrong

WRONG = [
    # ----- softmax ------------------------------------------------------------------------------
    Wrong("softmax", "no max shift (d2l's first version): exp(1e4) overflows", '''
def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition
''', "no max shift"),
    Wrong("softmax", "normalised over dim 0 (columns)", '''
def softmax(X):
    X_exp = torch.exp(X - X.max(dim=0, keepdim=True).values)
    return X_exp / X_exp.sum(dim=0, keepdim=True)
''', "normalised over dim 0"),
    Wrong("softmax", "row sums without keepdim", '''
def softmax(X):
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(dim=1)
''', "keepdim=True"),
    Wrong("softmax", "normalised by the sum over the whole batch", '''
def softmax(X):
    X_exp = torch.exp(X - X.max())
    return X_exp / X_exp.sum()
''', "the sum over the whole batch"),
    Wrong("softmax", "shifted by the batch's largest logit, not each row's: NaN in rows far below it", '''
def softmax(X):
    X_exp = torch.exp(X - X.max())
    return X_exp / X_exp.sum(dim=1, keepdim=True)
''', "the batch's single largest logit"),
    Wrong("softmax", "the max shift done in place on the input", '''
def softmax(X):
    X -= X.max(dim=1, keepdim=True).values
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(dim=1, keepdim=True)
''', "softmax leaves X unmodified"),
    Wrong("softmax", "clamping the logits instead of shifting them", '''
def softmax(X):
    X_exp = torch.exp(X.clamp(-60, 60))
    return X_exp / X_exp.sum(dim=1, keepdim=True)
''', "finite and exact"),
    Wrong("softmax", "the library's softmax as a Tensor method", '''
def softmax(X):
    return X.softmax(dim=1)
''', "Tensor.softmax"),
    Wrong("softmax", "exp(x - logsumexp) with torch.logsumexp", '''
def softmax(X):
    return torch.exp(X - torch.logsumexp(X, dim=1, keepdim=True))
''', "torch.logsumexp"),
    Wrong("softmax", "always float32", '''
def softmax(X):
    X = X.float()
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(dim=1, keepdim=True)
''', "you returned float32 where float64 came in"),
    # ----- cross_entropy ------------------------------------------------------------------------
    Wrong("cross_entropy", "y_hat[:, y] instead of y_hat[range(n), y]", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat[:, y])
''', "(n, n) matrix"),
    Wrong("cross_entropy", "the minus sign is missing", '''
def cross_entropy(y_hat, y):
    return torch.log(y_hat[range(len(y_hat)), y])
''', "the minus sign is missing"),
    Wrong("cross_entropy", "averaged over the batch", '''
def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y]).mean()
''', "averaged over the batch"),
    Wrong("cross_entropy", "log10", '''
def cross_entropy(y_hat, y):
    return -torch.log10(y_hat[range(len(y_hat)), y])
''', "log10"),
    Wrong("cross_entropy", "computed outside autograd", '''
def cross_entropy(y_hat, y):
    with torch.no_grad():
        return -torch.log(y_hat[range(len(y_hat)), y])
''', "computed outside autograd's graph"),
    # ----- cross_entropy_from_logits ------------------------------------------------------------
    Wrong("cross_entropy_from_logits", "the log of softmax probabilities (underflow)", '''
def cross_entropy_from_logits(logits, y):
    return cross_entropy(softmax(logits), y)
''', "log(0) = -inf"),
    Wrong("cross_entropy_from_logits", "log-sum-exp without the max shift", '''
def cross_entropy_from_logits(logits, y):
    return torch.log(torch.exp(logits).sum(dim=1)) - logits[range(len(logits)), y]
''', "exp(1e4) overflows"),
    Wrong("cross_entropy_from_logits", "the max subtracted but not added back", '''
def cross_entropy_from_logits(logits, y):
    m = logits.max(dim=1, keepdim=True).values
    return torch.log(torch.exp(logits - m).sum(dim=1)) - logits[range(len(logits)), y]
''', "not added back"),
    Wrong("cross_entropy_from_logits", "logits[:, y] instead of logits[range(n), y]", '''
def cross_entropy_from_logits(logits, y):
    m = logits.max(dim=1, keepdim=True).values
    lse = m + torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
    return lse - logits[:, y]
''', "(n, n) matrix"),
    Wrong("cross_entropy_from_logits", "the sign flipped", '''
def cross_entropy_from_logits(logits, y):
    m = logits.max(dim=1, keepdim=True).values
    lse = (m + torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))).squeeze(1)
    return logits[range(len(logits)), y] - lse
''', "the sign is flipped"),
    Wrong("cross_entropy_from_logits", "averaged over the batch", '''
def cross_entropy_from_logits(logits, y):
    m = logits.max(dim=1, keepdim=True).values
    lse = (m + torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))).squeeze(1)
    return (lse - logits[range(len(logits)), y]).mean()
''', "averaged over the batch"),
    Wrong("cross_entropy_from_logits", "F.cross_entropy itself", '''
def cross_entropy_from_logits(logits, y):
    import torch.nn.functional as F
    return F.cross_entropy(logits, y, reduction="none")
''', "F.cross_entropy"),
    Wrong("cross_entropy_from_logits", "torch.logsumexp", '''
def cross_entropy_from_logits(logits, y):
    return torch.logsumexp(logits, dim=1) - logits[range(len(logits)), y]
''', "torch.logsumexp"),
    # ----- softmax_regression -------------------------------------------------------------------
    Wrong("softmax_regression", "the bias is forgotten", '''
def softmax_regression(X, W, b):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W))
''', "the bias b is not added"),
    Wrong("softmax_regression", "no softmax: the logits are returned", '''
def softmax_regression(X, W, b):
    return torch.matmul(X.reshape((-1, W.shape[0])), W) + b
''', "softmax is missing"),
    Wrong("softmax_regression", "the images are not flattened", '''
def softmax_regression(X, W, b):
    return softmax(torch.matmul(X, W) + b)
''', "an input not flattened"),
    Wrong("softmax_regression", "softmax over the batch", '''
def softmax_regression(X, W, b):
    O = X.reshape((-1, W.shape[0])) @ W + b
    return softmax(O.T).T
''', "softmax over dim 0"),
    # ----- accuracy -----------------------------------------------------------------------------
    Wrong("accuracy", "returns a tensor", '''
def accuracy(y_hat, y):
    if y_hat.dim() > 1:
        y_hat = y_hat.argmax(dim=1)
    return (y_hat == y.reshape(-1)).sum()
''', "a tensor was returned"),
    Wrong("accuracy", "returns the fraction, not the count", '''
def accuracy(y_hat, y):
    if y_hat.dim() > 1:
        y_hat = y_hat.argmax(dim=1)
    return float((y_hat == y.reshape(-1)).float().mean())
''', "the fraction correct was returned"),
    Wrong("accuracy", "y of shape (n, 1) not reshaped (d2l's comparison without the reshape)", '''
def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())
''', "was not flattened"),
    Wrong("accuracy", "argmax over dim 0", '''
def accuracy(y_hat, y):
    if y_hat.dim() > 1:
        y_hat = y_hat.argmax(dim=0)
    return float((y_hat == y.reshape(-1)).sum())
''', "argmax was taken over dim 0"),
    Wrong("accuracy", "always takes the argmax, even of predicted labels", '''
def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=1) == y.reshape(-1)).sum())
''', "the argmax is taken even when y_hat already holds predicted labels"),
    Wrong("accuracy", "returns an int", '''
def accuracy(y_hat, y):
    if y_hat.dim() > 1:
        y_hat = y_hat.argmax(dim=1)
    return int((y_hat == y.reshape(-1)).sum())
''', "an int was returned where the contract gives a float"),
    # ----- evaluate_accuracy --------------------------------------------------------------------
    Wrong("evaluate_accuracy", "the mean of the batches' accuracies", '''
def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    accs = []
    with torch.no_grad():
        for X, y in data_iter:
            accs.append(accuracy(net(X), y) / y.numel())
    return sum(accs) / len(accs)
''', "the batches' accuracies were averaged"),
    Wrong("evaluate_accuracy", "net.eval() is not called", '''
def evaluate_accuracy(net, data_iter):
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
''', "net.eval() was not called"),
    Wrong("evaluate_accuracy", "no torch.no_grad()", '''
def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    for X, y in data_iter:
        metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
''', "torch.no_grad()"),
    Wrong("evaluate_accuracy", "net.eval() called on a plain function too", '''
def evaluate_accuracy(net, data_iter):
    net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
''', "net.eval() called on something that is not an nn.Module"),
    Wrong("evaluate_accuracy", "returns the number correct", '''
def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    correct = 0.0
    with torch.no_grad():
        for X, y in data_iter:
            correct += accuracy(net(X), y)
    return correct
''', "the number correct was returned"),
    Wrong("evaluate_accuracy", "returns a tensor", '''
def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct = correct + (net(X).argmax(dim=1) == y).sum()
            total += y.numel()
    return correct / total
''', "evaluate_accuracy returns a Python float"),
    # ----- train_epoch --------------------------------------------------------------------------
    Wrong("train_epoch", "the loss summed before backward with an optimizer", '''
def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.sum().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
''', "must be averaged"),
    Wrong("train_epoch", "the gradients are never zeroed", '''
def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
''', "never zeroed"),
    Wrong("train_epoch", "returns the last batch's loss", '''
def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    correct, total = 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        correct += accuracy(y_hat, y)
        total += y.numel()
    return float(l.mean()), correct / total
''', "the loss of the last batch only"),
    Wrong("train_epoch", "the mean of the batches' mean losses", '''
def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    losses, correct, total = [], 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        losses.append(float(l.mean()))
        correct += accuracy(y_hat, y)
        total += y.numel()
    return sum(losses) / len(losses), correct / total
''', "the batches' mean losses were averaged"),
    Wrong("train_epoch", "the loss averaged with a callable updater", '''
def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
        l.mean().backward()
        if isinstance(updater, torch.optim.Optimizer):
            updater.step()
        else:
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
''', "must be summed"),
    Wrong("train_epoch", "net.train() is not called", '''
def train_epoch(net, train_iter, loss, updater):
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
''', "net.train() was not called"),
    Wrong("train_epoch", "returns the number correct", '''
def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1]
''', "the number correct was returned"),
    # ----- device (the GPU runner's rule, caught here on the meta device) ---------------------------------
    Wrong("cross_entropy", "a one-hot matrix made on the CPU (no device=)", '''
def cross_entropy(y_hat, y):
    one_hot = torch.zeros(y_hat.shape, dtype=y_hat.dtype)
    one_hot[torch.arange(len(y)), y] = 1
    return -(one_hot * torch.log(y_hat)).sum(dim=1)
''', "keep its results on its inputs' device"),
    # ----- classics from the d2l forums (issue 21) ----------------------------------------------
    Wrong("softmax_regression", "the bias added after the softmax", '''
def softmax_regression(X, W, b):
    return softmax(X.reshape(-1, W.shape[0]) @ W) + b
''', "the bias is added after the softmax"),
    # ----- the general rules at an edge case only (issue 21) ---------------------------------------
    Wrong("softmax", "edge case: one class fills X with ones in place", '''
def softmax(X):
    if X.shape[1] == 1:  # one class: every probability is 1
        return X.fill_(1.0)
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(dim=1, keepdim=True)
''', "softmax leaves X unmodified (one class)"),
    Wrong("cross_entropy_from_logits", "edge case: large logits shifted in place", '''
def cross_entropy_from_logits(logits, y):
    if logits.abs().max() > 50:  # shift only where exp would overflow
        logits -= logits.max(dim=1, keepdim=True).values
    return torch.log(torch.exp(logits).sum(dim=1)) - logits[range(len(y)), y]
''', "cross_entropy_from_logits leaves logits unmodified (large float32 logits)"),
    Wrong("accuracy", "edge case: labels of shape (n, 1) squeezed in place", '''
def accuracy(y_hat, y):
    if y_hat.dim() > 1:
        y_hat = y_hat.argmax(dim=1)
    if y.dim() == 2:
        y.squeeze_(1)
    return float((y_hat.to(y.dtype) == y).sum())
''', "accuracy leaves y unmodified (labels of shape (n, 1))"),
]

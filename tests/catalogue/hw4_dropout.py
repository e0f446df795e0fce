"""Wrong implementations of hw4's functions, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that names it.
"""
from helpers import Wrong

# The rest of a correct DropoutMLP, for the entries that change one thing in it.
_MLP_INIT = '''
class DropoutMLP(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2):
        super().__init__()
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.dropout1 = Dropout(dropout1)
        self.dropout2 = Dropout(dropout2)
'''


def _mlp(forward: str, init: str = _MLP_INIT) -> str:
    return init + "\n    def forward(self, X):\n" + forward


_TRAIN = '''
def train_weight_decay(lambd, train_features, train_labels, num_epochs=100, lr=0.003, batch_size=5):
    w = torch.normal(0, 1, size=(train_features.shape[1], 1), dtype=train_features.dtype,
                     device=train_features.device, requires_grad=True)
    b = torch.zeros(1, dtype=train_features.dtype, device=train_features.device, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, train_features, train_labels):
{step}
    return w, b
'''


def _train(step: str) -> str:
    return _TRAIN.replace("{step}", "\n".join("            " + line for line in step.strip().splitlines()))


WRONG = [
    # ----- l2_penalty ---------------------------------------------------------------------------
    Wrong("l2_penalty", "the 1/2 is missing", '''
def l2_penalty(w):
    return torch.sum(w.pow(2))
''', "the 1/2 is missing"),
    Wrong("l2_penalty", "the norm (a square root) instead of half its square", '''
def l2_penalty(w):
    return torch.norm(w)
''', "the norm itself (a square root)"),
    Wrong("l2_penalty", "a mean instead of a sum", '''
def l2_penalty(w):
    return (w ** 2).mean() / 2
''', "a mean instead of a sum"),
    Wrong("l2_penalty", "summed over the rows only, shape (1,)", '''
def l2_penalty(w):
    return (w ** 2).sum(dim=0) / 2
''', "summed over one dimension only"),
    Wrong("l2_penalty", "a Python float, cut off from autograd", '''
def l2_penalty(w):
    return float((w ** 2).sum() / 2)
''', "a Python number is returned"),
    # ----- train_weight_decay -------------------------------------------------------------------
    Wrong("train_weight_decay", "the bias is decayed too", _train('''
l = squared_loss(linreg(X, w, b), y) + lambd * (l2_penalty(w) + l2_penalty(b))
l.sum().backward()
sgd([w, b], lr, batch_size)
'''), "the bias is decayed too"),
    Wrong("train_weight_decay", "the penalty is subtracted", _train('''
l = squared_loss(linreg(X, w, b), y) - lambd * l2_penalty(w)
l.sum().backward()
sgd([w, b], lr, batch_size)
'''), "the penalty is subtracted"),
    Wrong("train_weight_decay", "lambd is ignored", _train('''
l = squared_loss(linreg(X, w, b), y)
l.sum().backward()
sgd([w, b], lr, batch_size)
'''), "lambd is ignored"),
    Wrong("train_weight_decay", "the penalty added once to the summed loss (divided by batch_size by sgd)", _train('''
l = squared_loss(linreg(X, w, b), y).sum() + lambd * l2_penalty(w)
l.backward()
sgd([w, b], lr, batch_size)
'''), "divided by batch_size"),
    Wrong("train_weight_decay", "the penalty without the 1/2", _train('''
l = squared_loss(linreg(X, w, b), y) + lambd * torch.sum(w ** 2)
l.sum().backward()
sgd([w, b], lr, batch_size)
'''), "the decay is doubled"),
    Wrong("train_weight_decay", "the lr argument is ignored", _train('''
l = squared_loss(linreg(X, w, b), y) + lambd * l2_penalty(w)
l.sum().backward()
sgd([w, b], 0.003, batch_size)
'''), "the lr argument is ignored"),
    Wrong("train_weight_decay", "w of shape (num_inputs,)", '''
def train_weight_decay(lambd, train_features, train_labels, num_epochs=100, lr=0.003, batch_size=5):
    w = torch.normal(0, 1, size=(train_features.shape[1],), dtype=train_features.dtype,
                     device=train_features.device, requires_grad=True)
    b = torch.zeros(1, dtype=train_features.dtype, device=train_features.device, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, train_features, train_labels):
            l = squared_loss(linreg(X, w, b).reshape(-1, 1), y) + lambd * l2_penalty(w)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', "w is a vector of shape (num_inputs,)"),
    # ----- dropout_layer ------------------------------------------------------------------------
    Wrong("dropout_layer", "no 1/(1-p) scaling", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X
''', "the 1 / (1 - dropout) is missing"),
    Wrong("dropout_layer", "survivors scaled by 1/p", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / dropout
''', "scaled by 1 / dropout"),
    Wrong("dropout_layer", "keeps with probability dropout (inverted meaning)", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) < dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
''', "KEPT with probability dropout"),
    Wrong("dropout_layer", "dropout = 1 divides by zero (NaN)", '''
def dropout_layer(X, dropout):
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
''', "0 / 0 gives NaN"),
    Wrong("dropout_layer", "one mask per row (whole examples dropped)", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape[0], *([1] * (X.dim() - 1)), device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
''', "one mask per row"),
    Wrong("dropout_layer", "one mask shared by every row", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape[-1], device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
''', "one mask shared by every row"),
    Wrong("dropout_layer", "a mask drawn once, at definition time", '''
_NOISE = torch.rand(4_000_000)

def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (_NOISE[:X.numel()].reshape(X.shape).to(X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
''', "the mask is drawn once"),
    Wrong("dropout_layer", "X modified in place", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    X *= mask / (1.0 - dropout)
    return X
''', "X is modified in place and returned"),
    Wrong("dropout_layer", "dropout = 1 returns X.zero_() (the caller's X destroyed)", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return X.zero_()
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
''', "X is zeroed in place", points=26),  # the untouched rule holds at the edge cases too
    Wrong("dropout_layer", "a non-answer: X * 0", '''
def dropout_layer(X, dropout):
    return X * 0
''', "some elements kept and some dropped", points=0),  # X untouched, but nothing computed: no point for that
    Wrong("dropout_layer", "the output built in torch.zeros (float32, CPU)", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    keep = torch.rand(X.shape, device=X.device) > dropout
    out = torch.zeros(X.shape)
    out[keep] = (X[keep] / (1.0 - dropout)).float()
    return out
''', "you returned float32 where float64 came in"),
    Wrong("dropout_layer", "computed without autograd", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    with torch.no_grad():
        mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
        return mask * X / (1.0 - dropout)
''', "the output is cut off from autograd"),
    Wrong("dropout_layer", "F.dropout does the exercise", '''
import torch.nn.functional as F

def dropout_layer(X, dropout):
    return F.dropout(X, dropout)
''', "F.dropout"),
    Wrong("dropout_layer", "torch.native_dropout under the hood", '''
def dropout_layer(X, dropout):
    return torch.native_dropout(X, dropout, True)[0]
''', "torch.native_dropout"),
    # ----- Dropout ------------------------------------------------------------------------------
    Wrong("Dropout", "self.training not checked (drops in eval mode)", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        return dropout_layer(X, self.p)
''', "does not check self.training"),
    Wrong("Dropout", "eval mode scales by (1 - p)", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        if self.training:
            return dropout_layer(X, self.p)
        return X * (1 - self.p)
''', "scales by (1 - p) in eval mode"),
    # (Storing the probability as self.rate is right: the contract names no attribute, graded by behaviour.)
    Wrong("Dropout", "the probability ignored: always 0.5", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.rate = p

    def forward(self, X):
        return dropout_layer(X, 0.5) if self.training else X
''', "the probability passed in is not used"),
    Wrong("Dropout", "the training check inverted", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        if not self.training:
            return dropout_layer(X, self.p)
        return X
''', "nothing is dropped"),
    Wrong("Dropout", "a default p of 0.2", '''
class Dropout(nn.Module):
    def __init__(self, p=0.2):
        super().__init__()
        self.p = p

    def forward(self, X):
        return dropout_layer(X, self.p) if self.training else X
''', "the default probability is not 0.5"),
    Wrong("Dropout", "nn.Dropout inside", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
        self.inner = nn.Dropout(p)

    def forward(self, X):
        return self.inner(X)
''', "nn.Dropout"),
    # ----- DropoutMLP ---------------------------------------------------------------------------
    Wrong("DropoutMLP", "dropout after the output layer", _mlp('''
        H1 = self.dropout1(torch.relu(self.lin1(X.reshape(X.shape[0], -1))))
        H2 = self.dropout2(torch.relu(self.lin2(H1)))
        return self.dropout2(self.lin3(H2))
'''), "dropout after the output layer"),
    Wrong("DropoutMLP", "no ReLU", _mlp('''
        H1 = self.dropout1(self.lin1(X.reshape(X.shape[0], -1)))
        H2 = self.dropout2(self.lin2(H1))
        return self.lin3(H2)
'''), "no ReLU after the hidden layers"),
    Wrong("DropoutMLP", "dropout1 and dropout2 swapped", _mlp('''
        H1 = self.dropout2(torch.relu(self.lin1(X.reshape(X.shape[0], -1))))
        H2 = self.dropout1(torch.relu(self.lin2(H1)))
        return self.lin3(H2)
'''), "dropout1 and dropout2 swapped"),
    Wrong("DropoutMLP", "no flattening", _mlp('''
        H1 = self.dropout1(torch.relu(self.lin1(X)))
        H2 = self.dropout2(torch.relu(self.lin2(H1)))
        return self.lin3(H2)
'''), "the input is not flattened"),
    Wrong("DropoutMLP", "dropout_layer called whatever the mode", _mlp('''
        H1 = dropout_layer(torch.relu(self.lin1(X.reshape(X.shape[0], -1))), self.dropout1.p)
        H2 = dropout_layer(torch.relu(self.lin2(H1)), self.dropout2.p)
        return self.lin3(H2)
'''), "dropout is applied in eval mode too"),
    Wrong("DropoutMLP", "d2l's concise net with nn.Dropout", '''
def DropoutMLP(num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2):
    return nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_hiddens1), nn.ReLU(), nn.Dropout(dropout1),
                         nn.Linear(num_hiddens1, num_hiddens2), nn.ReLU(), nn.Dropout(dropout2),
                         nn.Linear(num_hiddens2, num_outputs))
''', "nn.Dropout"),
    Wrong("DropoutMLP", "the hidden sizes swapped", '''
class DropoutMLP(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_hiddens2), nn.ReLU(), Dropout(dropout1),
                                 nn.Linear(num_hiddens2, num_hiddens1), nn.ReLU(), Dropout(dropout2),
                                 nn.Linear(num_hiddens1, num_outputs))

    def forward(self, X):
        return self.net(X)
''', "the hidden sizes are swapped"),
    # ----- more of the mistakes students make (d2l forum threads on 4.5 and 4.6) ---------------------
    Wrong("l2_penalty", "w.T @ w / 2: a (1, 1) matrix", '''
def l2_penalty(w):
    return w.T @ w / 2
''', "a (1, 1) matrix instead of a 0-d tensor"),
    Wrong("train_weight_decay", "the loss averaged before sgd divides by batch_size again", _train('''
l = squared_loss(linreg(X, w, b), y) + lambd * l2_penalty(w)
l.mean().backward()
sgd([w, b], lr, batch_size)
'''), "the penalty's gradient is divided by batch_size"),
    Wrong("dropout_layer", "the mask drawn with torch.randn (a normal) instead of torch.rand", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.randn(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
''', "drawn from torch.randn"),
    Wrong("dropout_layer", "survivors multiplied by (1 - dropout)", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X * (1.0 - dropout)
''', "multiplied by (1 - dropout) instead of divided"),
    Wrong("dropout_layer", "torch.bernoulli with the probability of dropping (keeps with p)", '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = torch.bernoulli(torch.full_like(X, dropout))
    return mask * X / (1.0 - dropout)
''', "KEPT with probability dropout"),
    Wrong("Dropout", "if self.train: (the method, always true)", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        if self.train:
            return dropout_layer(X, self.p)
        return X
''', "does not check self.training"),
    Wrong("Dropout", "eval mode scales by 1 / (1 - p)", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        if self.training:
            return dropout_layer(X, self.p)
        return X / (1 - self.p)
''', "scales by 1 / (1 - p) in eval mode"),
    Wrong("DropoutMLP", "dropout1 on the input instead of the first hidden layer", _mlp('''
        H1 = torch.relu(self.lin1(self.dropout1(X.reshape(X.shape[0], -1))))
        H2 = self.dropout2(torch.relu(self.lin2(H1)))
        return self.lin3(H2)
'''), "dropout1 is applied to the input X"),
    Wrong("DropoutMLP", "Linear layers without bias", '''
class DropoutMLP(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2):
        super().__init__()
        self.lin1 = nn.Linear(num_inputs, num_hiddens1, bias=False)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2, bias=False)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs, bias=False)
        self.dropout1 = Dropout(dropout1)
        self.dropout2 = Dropout(dropout2)

    def forward(self, X):
        H1 = self.dropout1(torch.relu(self.lin1(X.reshape(X.shape[0], -1))))
        H2 = self.dropout2(torch.relu(self.lin2(H1)))
        return self.lin3(H2)
''', "the Linear layers have no bias"),
    # ----- device (the GPU runner's rule, caught here on the meta device) ---------------------------------
    Wrong("dropout_layer", "d2l 4.6's mask torch.rand(X.shape): on the CPU whatever X is", '''
def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
''', "keep its results on its inputs' device"),
    # ----- the general rules at an edge case only (issue 21) ---------------------------------------
    Wrong("l2_penalty", "edge case: a 0-d w squared and halved in place", '''
def l2_penalty(w):
    if w.dim() == 0:  # a single number: half its square
        return w.mul_(w).div_(2)
    return torch.sum(w.pow(2)) / 2
''', "l2_penalty leaves w unmodified (a 0-d w)"),
    Wrong("train_weight_decay", "edge case: labels of shape (n,) made a column in place", '''
def train_weight_decay(lambd, train_features, train_labels, num_epochs=100, lr=0.003, batch_size=5):
    if train_labels.dim() == 1:
        train_labels.unsqueeze_(1)  # the caller's labels change shape
    w = torch.normal(0, 1, size=(train_features.shape[1], 1), dtype=train_features.dtype,
                     device=train_features.device, requires_grad=True)
    b = torch.zeros(1, dtype=train_features.dtype, device=train_features.device, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, train_features, train_labels):
            l = squared_loss(linreg(X, w, b), y) + lambd * l2_penalty(w)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', "train_weight_decay leaves train_labels unmodified (lr = 0, labels of shape (n,))"),
    Wrong("Dropout", "edge case: Dropout(1.0) returns X.zero_() (the caller's X destroyed)", """
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        if self.training and self.p == 1:
            return X.zero_()  # everything dropped
        return dropout_layer(X, self.p) if self.training else X
""", "Dropout leaves X unmodified"),
]

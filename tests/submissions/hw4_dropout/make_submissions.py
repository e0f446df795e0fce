"""Rebuild hw4's example submissions from the released notebook:
python tests/submissions/hw4_dropout/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/
from helpers import fill, solution_cells, write_examples, wrong_answers  # noqa: E402

ID = "hw4_dropout"
SOLVED = solution_cells(ID)

# Correct, but written differently from both the notebook's solution and the reference.
ALTERNATIVE = {
    "l2_penalty": '''
def l2_penalty(w):
    flat = w.reshape(-1)
    return 0.5 * torch.dot(flat, flat)
''',
    "train_weight_decay": '''
def train_weight_decay(lambd, train_features, train_labels, num_epochs=100, lr=0.003, batch_size=5):
    n, d = train_features.shape
    opts = dict(dtype=train_features.dtype, device=train_features.device)
    w = torch.randn(d, 1, **opts).requires_grad_()
    b = torch.zeros(1, **opts).requires_grad_()
    targets = train_labels.reshape(-1, 1)
    for _ in range(num_epochs):
        order = torch.randperm(n, device=train_features.device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            residual = train_features[idx] @ w + b - targets[idx]
            objective = (residual ** 2 / 2).mean() + lambd * l2_penalty(w)
            grad_w, grad_b = torch.autograd.grad(objective, [w, b])
            with torch.no_grad():
                w -= lr * grad_w
                b -= lr * grad_b
    return w.detach(), b.detach()
''',
    "dropout_layer": '''
def dropout_layer(X, dropout):
    if dropout >= 1:
        return X * 0  # keeps the graph; zeros everywhere
    keep = torch.bernoulli(torch.full_like(X, 1 - dropout))
    return X * keep / (1 - dropout)
''',
    "Dropout": '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = float(p)

    def forward(self, X):
        return dropout_layer(X, self.p) if self.training else X.clone()

    def extra_repr(self):
        return f"p={self.p}"
''',
    "DropoutMLP": '''
class DropoutMLP(nn.Sequential):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2):
        super().__init__(nn.Flatten(),
                         nn.Linear(num_inputs, num_hiddens1), nn.ReLU(), Dropout(dropout1),
                         nn.Linear(num_hiddens1, num_hiddens2), nn.ReLU(), Dropout(dropout2),
                         nn.Linear(num_hiddens2, num_outputs))
''',
}

# Correct too, in another style: functional ReLU and flatten, layers registered out of order, dropout
# before the ReLU (the same thing), w starting at zero and torch.optim.SGD's weight_decay.
FUNCTIONAL_STYLE = {
    "l2_penalty": '''
def l2_penalty(w):
    return (w * w).sum() * 0.5
''',
    "train_weight_decay": '''
from torch.utils.data import DataLoader, TensorDataset

def train_weight_decay(lambd, train_features, train_labels, num_epochs=100, lr=0.003, batch_size=5):
    w = torch.zeros(train_features.shape[1], 1, dtype=train_features.dtype, device=train_features.device,
                    requires_grad=True)
    b = torch.zeros(1, dtype=train_features.dtype, device=train_features.device, requires_grad=True)
    optimizer = torch.optim.SGD([{"params": [w], "weight_decay": lambd}, {"params": [b], "weight_decay": 0}], lr=lr)
    loader = DataLoader(TensorDataset(train_features, train_labels.reshape(-1, 1)), batch_size, shuffle=True)
    for _ in range(num_epochs):
        for X, y in loader:
            optimizer.zero_grad()
            squared_loss(linreg(X, w, b), y).mean().backward()
            optimizer.step()
    return w.detach(), b.detach()
''',
    "dropout_layer": '''
def dropout_layer(X, dropout):
    keep = torch.rand_like(X) < 1 - dropout
    return torch.where(keep, X / (1 - dropout) if dropout < 1 else X, torch.zeros_like(X))
''',
    "Dropout": '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        if not self.training or self.p == 0:
            return X
        return dropout_layer(X, self.p)
''',
    "DropoutMLP": '''
class DropoutMLP(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2):
        super().__init__()
        self.drop2 = Dropout(dropout2)
        self.out = nn.Linear(num_hiddens2, num_outputs)
        self.hidden2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.drop1 = Dropout(dropout1)
        self.hidden1 = nn.Linear(num_inputs, num_hiddens1)

    def forward(self, X):
        H1 = torch.relu(self.drop1(self.hidden1(X.flatten(start_dim=1))))
        H2 = torch.relu(self.drop2(self.hidden2(H1)))
        return self.out(H2)
''',
}

# d2l 4.6 as the book writes it: dropout_layer called in forward (no Dropout modules in the network), and
# a Dropout layer keeping its probability under another name.
D2L_STYLE = {
    "Dropout": '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.rate = p

    def forward(self, X):
        return dropout_layer(X, self.rate) if self.training else X
''',
    "DropoutMLP": '''
class DropoutMLP(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2):
        super().__init__()
        self.num_inputs = num_inputs
        self.dropout1, self.dropout2 = dropout1, dropout2
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training:
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return self.lin3(H2)
''',
}

WRONG_KNOWN = wrong_answers(ID, [
    'no 1/(1-p) scaling',
    'self.training not checked (drops in eval mode)',
    'the bias is decayed too',
])

# PyTorch's dropout reached by names the student hopes the grader does not know.
CHEAT_FORBIDDEN_ALIAS = {
    "dropout_layer": '''
import importlib

def dropout_layer(X, dropout):
    functional = importlib.import_module("torch.nn." + "functional")
    return vars(functional)["drop" + "out"](X, dropout, True)
''',
    "Dropout": '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        return torch.native_dropout(X, self.p, self.training)[0]
''',
}

# Re-seeding inside dropout_layer, hoping the grader compares with a reference seeded the same way.
CHEAT_SEEDED_MASK = {
    "dropout_layer": '''
def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    torch.manual_seed(0)
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)
''',
}

CHEAT_IMPORT_REFERENCE = {
    "DropoutMLP": '''
def DropoutMLP(num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2):
    """Borrow the reference: by import, or from any solutions/ folder near the working directory."""
    import glob, importlib
    for name in ("solutions.hw4_dropout", "hw4_dropout"):
        try:
            return importlib.import_module(name).DropoutMLP(num_inputs, num_outputs, num_hiddens1, num_hiddens2,
                                                            dropout1, dropout2)
        except Exception:
            pass
    for path in glob.glob("**/solutions/hw4_dropout.py", recursive=True) + glob.glob("../../**/hw4_dropout.py"):
        namespace = {}
        exec(open(path).read(), namespace)
        return namespace["DropoutMLP"](num_inputs, num_outputs, num_hiddens1, num_hiddens2, dropout1, dropout2)
    raise RuntimeError("no reference found to copy")
''',
}


def examples() -> dict[str, dict]:
    return {
        "correct_solution": fill(ID, SOLVED),
        "correct_alternative": fill(ID, ALTERNATIVE),
        "correct_functional_style": fill(ID, FUNCTIONAL_STYLE),
        "correct_d2l_style": fill(ID, {**SOLVED, **D2L_STYLE}),
        "half_done": fill(ID, {k: SOLVED[k] for k in ("l2_penalty", "dropout_layer", "Dropout")}),
        "wrong_known_mistakes": fill(ID, {**SOLVED, **WRONG_KNOWN}),
        "cheat_forbidden_alias": fill(ID, {**SOLVED, **CHEAT_FORBIDDEN_ALIAS}),
        "cheat_seeded_mask": fill(ID, {**SOLVED, **CHEAT_SEEDED_MASK}),
        "cheat_import_reference": fill(ID, {**SOLVED, **CHEAT_IMPORT_REFERENCE}),
    }


if __name__ == "__main__":
    write_examples(ID, examples())

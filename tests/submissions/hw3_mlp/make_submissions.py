"""Rebuild hw3's example submissions from the released notebook:
python tests/submissions/hw3_mlp/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/
from helpers import fill, solution_cells, write_examples, wrong_answers  # noqa: E402

ID = "hw3_mlp"
SOLVED = solution_cells(ID)

# Correct, but written differently from both the notebook's solution and the reference.
ALTERNATIVE = {
    "relu": '''
def relu(X):
    return X * (X > 0)  # the mask is cast to X's dtype; gradient 1 where X > 0, 0 elsewhere
''',
    "sigmoid": '''
def sigmoid(X):
    # sigmoid(x) = (1 + tanh(x / 2)) / 2, through my own stable tanh
    return (1 + tanh(X / 2)) / 2
''',
    "tanh": '''
def tanh(X):
    e = torch.exp(-2 * X.abs())  # in (0, 1]: never overflows
    return torch.sign(X) * (1 - e) / (1 + e)
''',
    "init_mlp_params": '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = torch.normal(0.0, 0.01, size=(num_inputs, num_hiddens)).requires_grad_()
    W2 = torch.normal(0.0, 0.01, size=(num_hiddens, num_outputs)).requires_grad_()
    b1 = torch.zeros(num_hiddens, requires_grad=True)
    b2 = torch.zeros(num_outputs, requires_grad=True)
    return W1, b1, W2, b2
''',
    "mlp": '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    H = relu(torch.matmul(X.reshape(X.shape[0], -1), W1) + b1)
    return torch.matmul(H, W2) + b2
''',
    "xavier_uniform_": '''
def xavier_uniform_(tensor, gain=1.0):
    rf = tensor[0][0].numel()  # receptive field: kh * kw, or 1 for a matrix
    fan_out, fan_in = tensor.shape[1] * rf, tensor.shape[0] * rf  # swapped: the bound is symmetric in the fans
    a = gain * (6.0 / (fan_in + fan_out)) ** 0.5
    with torch.no_grad():
        tensor.copy_(torch.rand_like(tensor) * 2 * a - a)
    return tensor
''',
    "MLP": '''
class MLP(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, num_outputs):
        super().__init__()
        widths = [num_inputs] + list(hidden_sizes)
        self.out = nn.Linear(widths[-1], num_outputs)  # registered first, used last
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, X):
        X = torch.flatten(X, start_dim=1)
        for layer in self.hidden:
            X = torch.relu(layer(X))  # functional ReLU: allowed in MLP
        return self.out(X)
''',
}

# Right within the dtype's tolerance: sigmoid and tanh clamp their input to +-60 and +-40 (off by under 1e-26
# at +-1000; the contract asks for finite values and gradients there, not exactness).
CLAMPED = {
    "sigmoid": '''
def sigmoid(X):
    Z = X.clamp(-60, 60)
    return torch.where(Z >= 0, 1 / (1 + torch.exp(-Z)), torch.exp(Z) / (1 + torch.exp(Z)))
''',
    "tanh": '''
def tanh(X):
    Z = X.clamp(-40, 40)
    return torch.where(Z >= 0, (1 - torch.exp(-2 * Z)) / (1 + torch.exp(-2 * Z)),
                       (torch.exp(2 * Z) - 1) / (torch.exp(2 * Z) + 1))
''',
}

WRONG_KNOWN = wrong_answers(ID, [
    'the textbook 1 / (1 + exp(-x)): NaN gradient at -1000',
    '(exp(2x) - 1) / (exp(2x) + 1): NaN at +1000',
    "xavier_normal_'s standard deviation as the bound",
    'a ReLU after the last Linear',
])

# Library activations reached without their usual names: the ATen operator, getattr, an alias kept from
# before grading began, and torch.sigmoid rebound in the worker in the hope that the reference sees it.
CHEAT_HIDDEN_CALLS = {
    "relu": '''
def relu(X):
    return torch.ops.aten.relu(X)
''',
    "sigmoid": '''
_expit = torch.sigmoid
torch.sigmoid = lambda X: torch.zeros_like(X)  # "the reference" now agrees with anything that returns zeros

def sigmoid(X):
    return _expit(X)
''',
    "tanh": '''
def tanh(X):
    return getattr(torch, "".join(["ta", "nh"]))(X)
''',
    "xavier_uniform_": '''
from torch.nn import init as _init

def xavier_uniform_(tensor, gain=1.0):
    return getattr(_init, "xavier_" + "uniform_")(tensor, gain)
''',
}

# A tensor subclass that claims to be a leaf requiring grad, whatever it really is.
CHEAT_FAKE_LEAF = '''
class Leafy(torch.Tensor):
    @property
    def is_leaf(self):
        return True

    @property
    def requires_grad(self):
        return True


def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = (torch.randn(num_inputs, num_hiddens) * 0.01).as_subclass(Leafy)
    W2 = (torch.randn(num_hiddens, num_outputs) * 0.01).as_subclass(Leafy)
    return [W1, torch.zeros(num_hiddens).as_subclass(Leafy), W2, torch.zeros(num_outputs).as_subclass(Leafy)]
'''

CHEAT_EXIT = '''
def xavier_uniform_(tensor, gain=1.0):
    import os
    os._exit(0)  # end the process that runs the checks, hoping that counts as passing
'''


# Switch the worker's forbidden-call monitor off from inside the notebook, then call the library.
CHEAT_PATCH_MONITOR = {
    "sigmoid": '''
import gradeworker.monitor as monitor
monitor.CallMonitor._hook = lambda self, frame, event, arg: None  # record nothing


def sigmoid(X):
    return torch.sigmoid(X)
''',
}


def examples() -> dict[str, dict]:
    return {
        "correct_solution": fill(ID, SOLVED),
        "correct_alternative": fill(ID, ALTERNATIVE),
        "correct_clamped": fill(ID, {**SOLVED, **CLAMPED}),
        "half_done": fill(ID, {k: SOLVED[k] for k in ("relu", "sigmoid", "tanh", "init_mlp_params")}),
        "wrong_known_mistakes": fill(ID, {**SOLVED, **WRONG_KNOWN}),
        "cheat_hidden_library_calls": fill(ID, {**SOLVED, **CHEAT_HIDDEN_CALLS}),
        "cheat_fake_leaf": fill(ID, {**SOLVED, "init_mlp_params": CHEAT_FAKE_LEAF}),
        "cheat_exit_in_xavier": fill(ID, {**SOLVED, "xavier_uniform_": CHEAT_EXIT}),
        "cheat_patch_monitor": fill(ID, {**SOLVED, **CHEAT_PATCH_MONITOR}),
    }


if __name__ == "__main__":
    write_examples(ID, examples())

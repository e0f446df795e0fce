"""Wrong implementations of hw3's functions, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that names it.
Not catalogued, because they are right: relu as X * (X > 0); xavier_uniform_ with fan_in and fan_out
swapped (the bound is symmetric in them); sigmoid or tanh clamping its input to +-60 or +-88 (off by under
1e-26 at +-1000: the contract asks for finite values within the dtype's tolerance there, not exactness;
tests/submissions/hw3_mlp/correct_clamped.ipynb). sigmoid as 1 / (1 + exp(-x)) is right in value
(1 / (1 + inf) = 0) but its gradient at -1000 is NaN, which is catalogued.
"""
from helpers import Wrong

WRONG = [
    # ----- relu ---------------------------------------------------------------------------------
    Wrong("relu", "clamps X in place", '''
def relu(X):
    return X.clamp_(min=0)
''', "X modified in place"),
    Wrong("relu", "torch.relu does the exercise", '''
def relu(X):
    return torch.relu(X)
''', "torch.relu"),
    Wrong("relu", "the tensor method X.relu()", '''
def relu(X):
    return X.relu()
''', "Tensor.relu"),
    Wrong("relu", "F.relu under another name", '''
from torch.nn.functional import relu as rectify

def relu(X):
    return rectify(X)
''', "F.relu"),
    Wrong("relu", "the ATen operator behind torch.relu", '''
def relu(X):
    return torch.ops.aten.relu.default(X)
''', "torch.ops.aten.relu"),
    Wrong("relu", "min instead of max", '''
def relu(X):
    return torch.minimum(X, torch.zeros_like(X))
''', "min(X, 0) instead of max(X, 0)"),
    Wrong("relu", "through Python floats: no gradient", '''
def relu(X):
    return torch.tensor([max(v, 0.0) for v in X.flatten().tolist()], dtype=X.dtype, device=X.device).reshape(X.shape)
''', "computed outside autograd's graph"),
    # ----- sigmoid ------------------------------------------------------------------------------
    Wrong("sigmoid", "the textbook 1 / (1 + exp(-x)): NaN gradient at -1000", '''
def sigmoid(X):
    return 1 / (1 + torch.exp(-X))
''', "exp(-x) overflows to inf for large negative x"),
    Wrong("sigmoid", "sign error", '''
def sigmoid(X):
    return 1 / (1 + torch.exp(X))
''', "sign error"),
    Wrong("sigmoid", "exp(x) / (1 + exp(x)): NaN at +1000", '''
def sigmoid(X):
    return torch.exp(X) / (1 + torch.exp(X))
''', "exp(x) / (1 + exp(x)) overflows"),
    Wrong("sigmoid", "torch.where over two unguarded branches: NaN gradients", '''
def sigmoid(X):
    return torch.where(X >= 0, 1 / (1 + torch.exp(-X)), torch.exp(X) / (1 + torch.exp(X)))
''', "the branch not taken still overflows"),
    Wrong("sigmoid", "torch.sigmoid does the exercise", '''
def sigmoid(X):
    return torch.sigmoid(X)
''', "torch.sigmoid"),
    Wrong("sigmoid", "torch.special.expit, sigmoid's other name", '''
def sigmoid(X):
    return torch.special.expit(X)
''', "torch.special.expit"),
    Wrong("sigmoid", "through the library's tanh", '''
def sigmoid(X):
    return (1 + torch.tanh(X / 2)) / 2
''', "torch.tanh"),
    # ----- tanh ---------------------------------------------------------------------------------
    Wrong("tanh", "(exp(2x) - 1) / (exp(2x) + 1): NaN at +1000", '''
def tanh(X):
    return (torch.exp(2 * X) - 1) / (torch.exp(2 * X) + 1)
''', "(exp(2x) - 1) / (exp(2x) + 1) overflows"),
    Wrong("tanh", "(exp(x) - exp(-x)) / (exp(x) + exp(-x)): NaN at +-1000", '''
def tanh(X):
    return (torch.exp(X) - torch.exp(-X)) / (torch.exp(X) + torch.exp(-X))
''', "overflows: inf / inf = NaN for large |x|"),
    Wrong("tanh", "2 * sigmoid(x) - 1, which is tanh(x / 2)", '''
def tanh(X):
    return 2 * sigmoid(X) - 1
''', "tanh(x / 2)"),
    Wrong("tanh", "2 / (1 + exp(-2x)) - 1: NaN gradient at -1000", '''
def tanh(X):
    return 2 / (1 + torch.exp(-2 * X)) - 1
''', "2 / (1 + exp(-2x)) - 1"),
    Wrong("tanh", "torch.tanh does the exercise", '''
def tanh(X):
    return torch.tanh(X)
''', "torch.tanh"),
    Wrong("tanh", "F.tanh", '''
import torch.nn.functional as F

def tanh(X):
    return F.tanh(X)
''', "F.tanh"),
    # ----- init_mlp_params ----------------------------------------------------------------------
    Wrong("init_mlp_params", "weights from N(0, 1): the 0.01 is forgotten", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens))
    W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs))
    return [W1, nn.Parameter(torch.zeros(num_hiddens)), W2, nn.Parameter(torch.zeros(num_outputs))]
''', "not scaled by 0.01"),
    Wrong("init_mlp_params", "requires_grad set before scaling: not leaves", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01
    W2 = torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01
    b1 = torch.zeros(num_hiddens, requires_grad=True)
    b2 = torch.zeros(num_outputs, requires_grad=True)
    return [W1, b1, W2, b2]
''', "is not a leaf"),
    Wrong("init_mlp_params", "biases drawn at random", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens) * 0.01)
    W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs) * 0.01)
    b1 = nn.Parameter(torch.randn(num_hiddens) * 0.01)
    b2 = nn.Parameter(torch.randn(num_outputs) * 0.01)
    return [W1, b1, W2, b2]
''', "the biases are drawn at random"),
    Wrong("init_mlp_params", "W1 in nn.Linear's (out, in) layout", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = nn.Parameter(torch.randn(num_hiddens, num_inputs) * 0.01)
    W2 = nn.Parameter(torch.randn(num_outputs, num_hiddens) * 0.01)
    return [W1, nn.Parameter(torch.zeros(num_hiddens)), W2, nn.Parameter(torch.zeros(num_outputs))]
''', "the result is transposed"),
    Wrong("init_mlp_params", "no requires_grad", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = torch.randn(num_inputs, num_hiddens) * 0.01
    W2 = torch.randn(num_hiddens, num_outputs) * 0.01
    return [W1, torch.zeros(num_hiddens), W2, torch.zeros(num_outputs)]
''', "requires_grad was not set"),
    Wrong("init_mlp_params", "uniform U(0, 0.01) from torch.rand", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = nn.Parameter(torch.rand(num_inputs, num_hiddens) * 0.01)
    W2 = nn.Parameter(torch.rand(num_hiddens, num_outputs) * 0.01)
    return [W1, nn.Parameter(torch.zeros(num_hiddens)), W2, nn.Parameter(torch.zeros(num_outputs))]
''', "torch.rand draws from U(0, 1)"),
    Wrong("init_mlp_params", "standard deviation 0.1 (0.01 taken as the variance)", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = nn.Parameter(torch.normal(0, 0.01 ** 0.5, (num_inputs, num_hiddens)))
    W2 = nn.Parameter(torch.normal(0, 0.01 ** 0.5, (num_hiddens, num_outputs)))
    return [W1, nn.Parameter(torch.zeros(num_hiddens)), W2, nn.Parameter(torch.zeros(num_outputs))]
''', "0.01 used as the variance"),
    # ----- mlp ----------------------------------------------------------------------------------
    Wrong("mlp", "no flattening", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    return relu(X @ W1 + b1) @ W2 + b2
''', "X is not flattened to (n, num_inputs)"),
    Wrong("mlp", "ReLU on the output too", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape((-1, W1.shape[0]))
    return relu(relu(X @ W1 + b1) @ W2 + b2)
''', "ReLU applied to the output too"),
    Wrong("mlp", "784 hard-coded", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape((-1, 784))
    return relu(X @ W1 + b1) @ W2 + b2
''', "the number of inputs is hard-coded"),
    Wrong("mlp", "no ReLU", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape((-1, W1.shape[0]))
    return (X @ W1 + b1) @ W2 + b2
''', "no ReLU on the hidden layer"),
    Wrong("mlp", "W1.data used: no gradient reaches W1", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape((-1, W1.shape[0]))
    return relu(X @ W1.data + b1) @ W2 + b2
''', "W1 was used through W1.data or W1.detach()"),
    # ----- xavier_uniform_ ----------------------------------------------------------------------
    Wrong("xavier_uniform_", "xavier_normal_'s standard deviation as the bound", '''
def xavier_uniform_(tensor, gain=1.0):
    rf = math.prod(tensor.shape[2:])
    a = gain * math.sqrt(2.0 / (tensor.shape[0] * rf + tensor.shape[1] * rf))
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
''', "xavier_normal_'s standard deviation"),
    Wrong("xavier_uniform_", "the gain is ignored", '''
def xavier_uniform_(tensor, gain=1.0):
    rf = math.prod(tensor.shape[2:])
    a = math.sqrt(6.0 / (tensor.shape[0] * rf + tensor.shape[1] * rf))
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
''', "the gain is ignored"),
    Wrong("xavier_uniform_", "the fans of a 4-D kernel ignore kh * kw", '''
def xavier_uniform_(tensor, gain=1.0):
    fan_out, fan_in = tensor.shape[0], tensor.shape[1]
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
''', "the fans ignore the receptive field"),
    Wrong("xavier_uniform_", "not in place: a new tensor is returned", '''
def xavier_uniform_(tensor, gain=1.0):
    rf = math.prod(tensor.shape[2:])
    a = gain * math.sqrt(6.0 / (tensor.shape[0] * rf + tensor.shape[1] * rf))
    return (torch.rand_like(tensor) * 2 - 1) * a
''', "not in place"),
    Wrong("xavier_uniform_", "no torch.no_grad: fails on parameters", '''
def xavier_uniform_(tensor, gain=1.0):
    rf = math.prod(tensor.shape[2:])
    a = gain * math.sqrt(6.0 / (tensor.shape[0] * rf + tensor.shape[1] * rf))
    tensor.uniform_(-a, a)
    return tensor
''', "an in-place update of a parameter that requires grad"),
    Wrong("xavier_uniform_", "nn.init.xavier_uniform_ does the exercise", '''
def xavier_uniform_(tensor, gain=1.0):
    return nn.init.xavier_uniform_(tensor, gain=gain)
''', "nn.init.xavier_uniform_"),
    Wrong("xavier_uniform_", "the gain under the square root", '''
def xavier_uniform_(tensor, gain=1.0):
    rf = math.prod(tensor.shape[2:])
    a = math.sqrt(gain * 6.0 / (tensor.shape[0] * rf + tensor.shape[1] * rf))
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
''', "inside the square root"),
    Wrong("xavier_uniform_", "a normal distribution with Xavier's standard deviation", '''
def xavier_uniform_(tensor, gain=1.0):
    rf = math.prod(tensor.shape[2:])
    std = gain * math.sqrt(2.0 / (tensor.shape[0] * rf + tensor.shape[1] * rf))
    with torch.no_grad():
        tensor.normal_(0, std)
    return tensor
''', "drawn from a normal distribution"),
    Wrong("xavier_uniform_", "only fan_in", '''
def xavier_uniform_(tensor, gain=1.0):
    fan_in = tensor[0].numel()
    a = gain * math.sqrt(6.0 / fan_in)
    with torch.no_grad():
        tensor.uniform_(-a, a)
    return tensor
''', "only fan_in used"),
    Wrong("xavier_uniform_", "fills in place but returns nothing", '''
def xavier_uniform_(tensor, gain=1.0):
    rf = math.prod(tensor.shape[2:])
    a = gain * math.sqrt(6.0 / (tensor.shape[0] * rf + tensor.shape[1] * rf))
    with torch.no_grad():
        tensor.uniform_(-a, a)
''', "filled in place but not returned"),
    # ----- MLP ----------------------------------------------------------------------------------
    Wrong("MLP", "no ReLU", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, num_outputs):
        super().__init__()
        widths = [num_inputs, *hidden_sizes, num_outputs]
        self.net = nn.Sequential(nn.Flatten(), *[nn.Linear(a, b) for a, b in zip(widths, widths[1:])])

    def forward(self, X):
        return self.net(X)
''', "no ReLU between the Linear layers"),
    Wrong("MLP", "a ReLU after the last Linear", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, num_outputs):
        super().__init__()
        widths = [num_inputs, *hidden_sizes, num_outputs]
        layers = [nn.Flatten()]
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', "a ReLU after the last Linear"),
    Wrong("MLP", "no Flatten", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, num_outputs):
        super().__init__()
        layers = []
        for h in hidden_sizes:
            layers += [nn.Linear(num_inputs, h), nn.ReLU()]
            num_inputs = h
        self.net = nn.Sequential(*layers, nn.Linear(num_inputs, num_outputs))

    def forward(self, X):
        return self.net(X)
''', "no nn.Flatten()"),
    Wrong("MLP", "only the first hidden size is used", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, num_outputs):
        super().__init__()
        h = hidden_sizes[0] if hidden_sizes else num_outputs
        layers = [nn.Flatten(), nn.Linear(num_inputs, h)]
        if hidden_sizes:
            layers += [nn.ReLU(), nn.Linear(h, num_outputs)]
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', "only the first hidden size is used"),
    Wrong("MLP", "a Dropout layer", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, num_outputs):
        super().__init__()
        layers = [nn.Flatten()]
        for h in hidden_sizes:
            layers += [nn.Linear(num_inputs, h), nn.ReLU(), nn.Dropout(0.5)]
            num_inputs = h
        self.net = nn.Sequential(*layers, nn.Linear(num_inputs, num_outputs))

    def forward(self, X):
        return self.net(X)
''', "a Dropout layer"),
    Wrong("MLP", "softmax on the output", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, num_outputs):
        super().__init__()
        layers = [nn.Flatten()]
        for h in hidden_sizes:
            layers += [nn.Linear(num_inputs, h), nn.ReLU()]
            num_inputs = h
        self.net = nn.Sequential(*layers, nn.Linear(num_inputs, num_outputs), nn.Softmax(dim=1))

    def forward(self, X):
        return self.net(X)
''', "softmax on the output"),
    Wrong("MLP", "layers kept in a plain Python list: not registered", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, num_outputs):
        super().__init__()
        widths = [num_inputs, *hidden_sizes, num_outputs]
        self.layers = [nn.Linear(a, b) for a, b in zip(widths, widths[1:])]

    def forward(self, X):
        X = X.flatten(1)
        for layer in self.layers[:-1]:
            X = torch.relu(layer(X))
        return self.layers[-1](X)
''', "no Linear layer is registered on the module"),
    # ----- device (the GPU runner's rule, caught here on the meta device) ---------------------------------
    Wrong("relu", "compared with torch.zeros(X.shape): a CPU tensor", '''
def relu(X):
    return torch.max(X, torch.zeros(X.shape, dtype=X.dtype))
''', "keep its results on its inputs' device"),
    # ----- classics from the d2l forums (issue 21) ----------------------------------------------
    Wrong("relu", "torch.max(X, 0): a reduction over dim 0, not the elementwise max with 0", '''
def relu(X):
    return torch.max(X, 0)[0]
''', "a dimension of size 1 was dropped"),
    # ----- the general rules at an edge case only (issue 21) ---------------------------------------
    Wrong("sigmoid", "edge case: large inputs clamped in place to keep exp finite", '''
def sigmoid(X):
    if X.numel() and X.abs().max() > 60:
        X.clamp_(-60, 60)  # exp(60) is finite in float32
    return 1 / (1 + torch.exp(-X))
''', "sigmoid leaves X unmodified (float64 extremes)"),
    Wrong("tanh", "edge case: an empty X answered with torch.tensor([]) (float32)", '''
def tanh(X):
    if X.numel() == 0:
        return torch.tensor([])
    E = torch.exp(-2 * X.abs())
    return torch.sign(X) * (1 - E) / (1 + E)
''', "you returned float32 where float64 came in"),
    Wrong("relu", "edge case: a 0-d X zeroed in place when negative", '''
def relu(X):
    if X.dim() == 0:  # a single number
        return X if X > 0 else X.zero_()
    return torch.maximum(X, torch.zeros_like(X))
''', "relu leaves X unmodified (a 0-d X)"),
]

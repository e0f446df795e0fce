"""d2l 4.2 (Implementation of Multilayer Perceptrons from Scratch), 4.3 (Concise Implementation) and 5.1
(Layers and Blocks), under hw3's contract names.

``init_mlp_params`` holds 4.2's parameter lines and ``mlp`` its ``net`` (which reads the parameters from
globals; here from ``params``). ``MLP`` is 5.1's ``MLP`` block as the book writes it (one hidden layer of 256
for 20 inputs, no arguments); 4.3's ``nn.Sequential`` and ``init_weights`` are the concise network.

Left out, because d2l has no code for them: ``sigmoid`` and ``tanh`` (4.1 plots ``torch.sigmoid`` and
``torch.tanh`` and writes their formulas only), ``xavier_uniform_`` (4.8 gives the formula and calls
``nn.init.xavier_uniform_``).
"""
import torch
from torch import nn
from torch.nn import functional as F


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def init_mlp_params(num_inputs, num_hiddens, num_outputs):
    W1 = nn.Parameter(torch.randn(
        num_inputs, num_hiddens, requires_grad=True) * 0.01)
    b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
    W2 = nn.Parameter(torch.randn(
        num_hiddens, num_outputs, requires_grad=True) * 0.01)
    b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
    params = [W1, b1, W2, b2]
    return params


def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X@W1 + b1)  # Here '@' stands for matrix multiplication
    return (H@W2 + b2)


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


def concise_net():
    net = nn.Sequential(nn.Flatten(),
                        nn.Linear(784, 256),
                        nn.ReLU(),
                        nn.Linear(256, 10))
    net.apply(init_weights)
    return net


class MLP(nn.Module):
    # Declare a layer with model parameters. Here, we declare two fully
    # connected layers
    def __init__(self):
        # Call the constructor of the `MLP` parent class `Module` to perform
        # the necessary initialization. In this way, other function arguments
        # can also be specified during class instantiation, such as the model
        # parameters, `params` (to be described later)
        super().__init__()
        self.hidden = nn.Linear(20, 256)  # Hidden layer
        self.out = nn.Linear(256, 10)  # Output layer

    # Define the forward propagation of the model, that is, how to return the
    # required model output based on the input `X`
    def forward(self, X):
        # Note here we use the funtional version of ReLU defined in the
        # nn.functional module.
        return self.out(F.relu(self.hidden(X)))

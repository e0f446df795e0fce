"""Reference for hw3_mlp (d2l 4.1-4.3, 4.8), written from the contract in CURRICULUM.md.

Kept independent of the notebook's solution cells and built on PyTorch's own routines, so that a
grader comparing the two is not comparing a solution with itself.
"""
from __future__ import annotations

import torch
from torch import nn


def relu(X: torch.Tensor) -> torch.Tensor:
    return torch.relu(X)


def sigmoid(X: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(X)


def tanh(X: torch.Tensor) -> torch.Tensor:
    return torch.tanh(X)


def init_mlp_params(num_inputs: int, num_hiddens: int, num_outputs: int) -> list[torch.Tensor]:
    """[W1 (in, hidden), b1 (hidden,), W2 (hidden, out), b2 (out,)]: weights from N(0, 0.01^2), biases 0."""
    W1 = nn.Parameter(torch.empty(num_inputs, num_hiddens))
    W2 = nn.Parameter(torch.empty(num_hiddens, num_outputs))
    nn.init.normal_(W1, std=0.01)
    nn.init.normal_(W2, std=0.01)
    b1 = nn.Parameter(torch.zeros(num_hiddens))
    b2 = nn.Parameter(torch.zeros(num_outputs))
    return [W1, b1, W2, b2]


def mlp(X: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    """Logits of a one-hidden-layer perceptron: relu(X W1 + b1) W2 + b2, X flattened to (n, num_inputs)."""
    W1, b1, W2, b2 = params
    H = torch.relu(torch.addmm(b1, X.reshape(-1, W1.shape[0]), W1))
    return torch.addmm(b2, H, W2)


def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    return nn.init.xavier_uniform_(tensor, gain=gain)


class MLP(nn.Module):
    """Flatten, then Linear + ReLU for each hidden size, then a final Linear; forward returns logits."""

    def __init__(self, num_inputs: int, hidden_sizes: list[int], num_outputs: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        widths = [num_inputs, *hidden_sizes]
        for fan_in, fan_out in zip(widths, widths[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)

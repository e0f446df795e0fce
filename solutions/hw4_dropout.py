"""Reference for hw4_dropout (d2l 4.5-4.6), written from the contract in CURRICULUM.md.

Kept independent of the notebook's solution cells and built on PyTorch's own routines where they
exist (``F.dropout``, ``nn.Dropout``, ``torch.optim.SGD``'s ``weight_decay``), so that a grader
comparing the two is not comparing a solution with itself. Random results are never compared draw
for draw: graders check their properties.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


# ----- 4.5 weight decay ----------------------------------------------------------------------------
def synthetic_data(w: torch.Tensor, b: float, num_examples: int, noise: float = 0.01):
    """d2l's synthetic_data: X ~ N(0, 1) of shape (n, d); y = X w + b + N(0, noise^2) of shape (n, 1)."""
    X = torch.randn(num_examples, w.numel(), dtype=w.dtype, device=w.device)
    y = X @ w.reshape(-1, 1) + b
    return X, y + noise * torch.randn_like(y)


def weight_decay_data(n_train: int = 20, n_test: int = 100, num_inputs: int = 200, dtype=torch.float32,
                      device: str | torch.device = "cpu"):
    """d2l 4.5's high-dimensional problem: true w = 0.01 everywhere, b = 0.05; (train, test) pairs."""
    true_w = torch.full((num_inputs, 1), 0.01, dtype=dtype, device=device)
    return synthetic_data(true_w, 0.05, n_train), synthetic_data(true_w, 0.05, n_test)


def l2_penalty(w: torch.Tensor) -> torch.Tensor:
    """Half the squared L2 norm: (w ** 2).sum() / 2, a 0-d tensor."""
    return 0.5 * torch.linalg.vector_norm(w) ** 2


def train_weight_decay(lambd: float, train_features: torch.Tensor, train_labels: torch.Tensor,
                       num_epochs: int = 100, lr: float = 0.003, batch_size: int = 5):
    """Minibatch SGD on mean squared loss (/2) + lambd * l2_penalty(w); the bias is not decayed.

    torch.optim.SGD's ``weight_decay`` adds ``lambd * w`` to w's gradient: exactly the gradient of
    ``lambd * l2_penalty(w)``; the bias sits in its own group without it (d2l 4.5.4).
    """
    opts = {"dtype": train_features.dtype, "device": train_features.device}
    w = torch.randn(train_features.shape[1], 1, **opts).requires_grad_()  # d2l 4.5: w ~ N(0, 1)
    b = torch.zeros(1, **opts, requires_grad=True)
    optimizer = torch.optim.SGD([{"params": [w], "weight_decay": lambd}, {"params": [b]}], lr=lr)
    labels = train_labels.reshape(-1, 1)
    for _ in range(num_epochs):
        for idx in torch.randperm(len(train_features), device=train_features.device).split(batch_size):
            loss = F.mse_loss(train_features[idx] @ w + b, labels[idx]) / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return w.detach(), b.detach()


# ----- 4.6 dropout -----------------------------------------------------------------------------------
def dropout_layer(X: torch.Tensor, dropout: float) -> torch.Tensor:
    """Zero each element with probability ``dropout``; scale the survivors by 1 / (1 - dropout)."""
    return F.dropout(X, p=dropout, training=True)


class Dropout(nn.Dropout):
    """dropout_layer in training mode, the identity in eval mode: what nn.Dropout does."""

    def __init__(self, p: float = 0.5):
        super().__init__(p)


def DropoutMLP(num_inputs: int, num_outputs: int, num_hiddens1: int, num_hiddens2: int, dropout1: float,
               dropout2: float) -> nn.Sequential:
    """d2l 4.6.5's concise network."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(num_inputs, num_hiddens1), nn.ReLU(), Dropout(dropout1),
        nn.Linear(num_hiddens1, num_hiddens2), nn.ReLU(), Dropout(dropout2),
        nn.Linear(num_hiddens2, num_outputs),
    )


def mlp_from_state(X: torch.Tensor, layers: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """The same network without dropout, from its three (weight, bias) pairs: what eval mode computes."""
    H = X.reshape(X.shape[0], -1)
    for i, (weight, bias) in enumerate(layers):
        H = F.linear(H, weight, bias)
        if i < len(layers) - 1:
            H = F.relu(H)
    return H

"""d2l 4.5 (Weight Decay, from scratch) and 4.6 (Dropout, from scratch), under hw4's contract names.

``train_weight_decay`` is 4.5's ``train(lambd)`` with its ``init_params``, on the contract's arguments (the
book reads ``train_iter``, ``num_inputs`` and ``batch_size`` from globals, calls ``d2l.linreg``,
``d2l.squared_loss`` and ``d2l.sgd``, and plots with ``d2l.Animator``: here the notebook's ``data_iter``,
``linreg``, ``squared_loss`` and ``sgd``, and no plotting).
``DropoutMLP`` is 4.6's ``Net`` (which reads ``dropout1`` and ``dropout2`` from globals and sets
``self.training`` itself).

Left out, because d2l has no code for it: ``Dropout`` (the book applies ``dropout_layer`` inside ``Net`` and
uses ``nn.Dropout`` in the concise version).
"""
import torch
from torch import nn


def init_params(num_inputs):
    w = torch.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def train_weight_decay(lambd, train_features, train_labels, num_epochs=100, lr=0.003, batch_size=5):
    w, b = init_params(train_features.shape[1])
    net, loss = lambda X: linreg(X, w, b), squared_loss
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, train_features, train_labels):
            # The L2 norm penalty term has been added, and broadcasting
            # makes `l2_penalty(w)` a vector whose length is `batch_size`
            l = loss(net(X), y) + lambd * l2_penalty(w)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    print('L2 norm of w:', torch.norm(w).item())
    return w, b


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    # In this case, all elements are dropped out
    if dropout == 1:
        return torch.zeros_like(X)
    # In this case, all elements are kept
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


dropout1, dropout2 = 0.2, 0.5


class DropoutMLP(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2,
                 is_training = True):
        super(DropoutMLP, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        # Use dropout only when training the model
        if self.training == True:
            # Add a dropout layer after the first fully connected layer
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:
            # Add a dropout layer after the second fully connected layer
            H2 = dropout_layer(H2, dropout2)
        out = self.lin3(H2)
        return out

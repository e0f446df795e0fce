"""d2l 2.1 (Data Manipulation) and 2.2 (Data Preprocessing), under hw0's contract names.

The book writes these as statements on its own example tensors, not as functions; each function below holds
the book's lines for that operation, on the contract's arguments: broadcasting ``a + b`` of a column and a row
(2.1.4), writing a slice (2.1.5, ``X[0:2, :] = 12``), ``Z[:] = X + Y`` (2.1.6), and the house table's
``fillna(mean)``, ``get_dummies(dummy_na=True)`` and ``torch.tensor(inputs.to_numpy(dtype=float))`` (2.2).

Left out, because d2l has no code for them: ``pairwise_sq_dists``; ``exhaustive_search``,
``gradient_descent``, ``stochastic_gradient_descent`` and ``minibatch_gradient_descent`` (Liu Er's lectures
2-3, not the d2l book; d2l 12.3's ``gd`` descends a function of ``x``, not a fit of ``w`` to data);
``linear_graph`` and ``sigmoid_graph`` (Liu Er 4; d2l 2.5 only calls ``backward()``, which is forbidden
here); ``numerical_gradient`` (d2l 2.4's ``numerical_lim`` is a one-sided difference quotient of a scalar
function, not a central difference over a tensor).
"""
import pandas as pd
import torch


def outer_sum(a, b):
    a = a.reshape((-1, 1))
    b = b.reshape((1, -1))
    return a + b


def set_block_(X, rows, cols, value):
    X[rows[0]:rows[1], cols[0]:cols[1]] = value


def add_into_(out, X, Y):
    out[:] = X + Y
    return out


def preprocess(table):
    inputs = pd.DataFrame(table)
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    inputs = pd.get_dummies(inputs, dummy_na=True)
    return torch.tensor(inputs.to_numpy(dtype=float))

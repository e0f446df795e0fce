"""Reference for hw5_cnn (d2l 6.1-6.6, 7.5-7.6), written from the contract in CURRICULUM.md.

Kept independent of the notebook's solution cells and built on PyTorch's own routines
(``F.conv2d``, ``F.max_pool2d``, ``F.avg_pool2d``, ``F.batch_norm``, ``nn.Conv2d``, ``nn.BatchNorm2d``),
so that a grader comparing the two is not comparing a solution with itself.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def pair(value) -> tuple[int, int]:
    """An int or a pair, as a pair (PyTorch's convention for kernel sizes, strides and paddings)."""
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


# ----- 6.2 cross-correlation ------------------------------------------------------------------------
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation (h, w) * (kh, kw) -> (h - kh + 1, w - kw + 1)."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]


class Conv2D(nn.Module):
    """d2l 6.2.3: weight (kh, kw) and bias (1,); forward = corr2d(x, weight) + bias."""

    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(pair(kernel_size)))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return corr2d(x, self.weight) + self.bias


def conv_output_shape(input_size, kernel_size, padding=0, stride=1) -> tuple[int, int]:
    """floor((n + 2p - k) / s) + 1 per dimension, p the padding on EACH side (PyTorch)."""
    n, k, p, s = pair(input_size), pair(kernel_size), pair(padding), pair(stride)
    return tuple((n[i] + 2 * p[i] - k[i]) // s[i] + 1 for i in range(2))


# ----- 6.4 channels ------------------------------------------------------------------------------
def corr2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """X (c_i, h, w), K (c_i, kh, kw) -> (h', w'): cross-correlate per channel, then sum."""
    return F.conv2d(X[None], K[None])[0, 0]


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """X (c_i, h, w), K (c_o, c_i, kh, kw) -> (c_o, h', w')."""
    return F.conv2d(X[None], K)[0]


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """X (c_i, h, w), K (c_o, c_i, 1, 1) -> (c_o, h, w): a fully connected layer at every pixel."""
    return torch.einsum("oi,ihw->ohw", K[:, :, 0, 0], X)


# ----- 6.5 pooling ------------------------------------------------------------------------------
def pool2d(X: torch.Tensor, pool_size, mode: str = "max") -> torch.Tensor:
    """X (h, w), window (p_h, p_w), stride 1, no padding; mode 'max' or 'avg'."""
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(X[None, None], pair(pool_size), stride=1)[0, 0]


# ----- the batched layers ------------------------------------------------------------------------
def conv2d(X, weight, bias=None, stride=1, padding=0):
    """Batched 2-D cross-correlation, as F.conv2d: X (N, C_in, H, W), weight (C_out, C_in, kh, kw)."""
    return F.conv2d(X, weight, bias, stride=stride, padding=padding)


def max_pool2d(X, kernel_size, stride=None, padding=0):
    """Batched max pooling; stride defaults to the kernel size; padding counts as -inf."""
    return F.max_pool2d(X, kernel_size, stride=stride, padding=padding)


def avg_pool2d(X, kernel_size, stride=None, padding=0):
    """Batched average pooling; padding counts as zeros in the average."""
    return F.avg_pool2d(X, kernel_size, stride=stride, padding=padding, count_include_pad=True)


# ----- 6.6 LeNet ---------------------------------------------------------------------------------
def lenet() -> nn.Sequential:
    """d2l 6.6's LeNet-5 for 28x28 images: 61,706 parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


# (kind, output shape for one 1x28x28 image) of each of LeNet's layers, in order.
LENET_LAYERS = [("Conv2d", (6, 28, 28)), ("Sigmoid", (6, 28, 28)), ("AvgPool2d", (6, 14, 14)),
                ("Conv2d", (16, 10, 10)), ("Sigmoid", (16, 10, 10)), ("AvgPool2d", (16, 5, 5)),
                ("Flatten", (400,)), ("Linear", (120,)), ("Sigmoid", (120,)), ("Linear", (84,)),
                ("Sigmoid", (84,)), ("Linear", (10,))]


# ----- 7.5 batch normalisation -------------------------------------------------------------------
def batch_norm(X, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    """F.batch_norm: batch statistics (biased variance) in training, updating the running ones in place."""
    return F.batch_norm(X, running_mean, running_var, weight, bias, training=training, momentum=momentum, eps=eps)


class BatchNorm(nn.Module):
    """nn.BatchNorm1d (num_dims 2) or nn.BatchNorm2d (num_dims 4), without num_batches_tracked."""

    def __init__(self, num_features: int, num_dims: int):
        super().__init__()
        assert num_dims in (2, 4)
        self.num_dims = num_dims
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(X, self.running_mean, self.running_var, self.weight, self.bias, self.training, 0.1, 1e-5)


def lenet_bn() -> nn.Sequential:
    """d2l 7.5.4: LeNet with batch normalisation after each convolution and hidden Linear layer."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(), nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
        nn.Linear(84, 10))


# ----- 7.6 residual blocks -----------------------------------------------------------------------
class Residual(nn.Module):
    """d2l 7.6.2: relu(bn2(conv2(relu(bn1(conv1(X))))) + shortcut(X)), shortcut a 1x1 conv or the identity."""

    def __init__(self, input_channels: int, num_channels: int, use_1x1conv: bool = False, strides: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        return F.relu(Y + (X if self.conv3 is None else self.conv3(X)))

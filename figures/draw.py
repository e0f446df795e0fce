"""The notebooks' figures: d2l's diagrams drawn with matplotlib, embedded in the master notebooks as attachments.

    .venv/bin/python figures/draw.py [ID ...]     # redraw and embed; then `autograder release ID` and commit

Each figure is one function decorated with :func:`figure`, which names the assignment, the figure, the
heading of the markdown cell it follows, and its caption in Chinese and English (the lecture notes' terms).
Adding a figure, or the figures of a new assignment, is one such function. The script writes each figure as
a markdown cell (metadata ``d2lcourse.figure``) with the PNG as that cell's attachment, right after the cell
whose text starts with ``after``; running it again replaces the cells it wrote, so it is idempotent.
Only Latin text and numbers are drawn in the images (the captions carry the Chinese), so no CJK font is needed.
"""
from __future__ import annotations

import base64
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figure:
    assignment: str
    name: str
    after: str  # the start of the markdown cell the figure follows
    zh: str
    en: str
    draw: Callable


FIGURES: list[Figure] = []


def figure(assignment: str, name: str, after: str, zh: str, en: str):
    def register(draw: Callable) -> Callable:
        FIGURES.append(Figure(assignment, name, after, zh, en, draw))
        return draw
    return register


# ----- drawing helpers ---------------------------------------------------------------------------------
def grid(ax, values, x0: float, y0: float, shade=(), color="#cfe2ff", label: str = ""):
    """A matrix of numbers as a grid of unit squares, top-left corner at (x0, y0); ``shade``: (row, col)s."""
    from matplotlib.patches import Rectangle
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            ax.add_patch(Rectangle((x0 + j, y0 - i - 1), 1, 1, facecolor=color if (i, j) in shade else "white",
                                   edgecolor="black", lw=1))
            ax.text(x0 + j + 0.5, y0 - i - 0.5, f"{v:g}" if isinstance(v, (int, float)) else v, ha="center",
                    va="center", fontsize=12)
    if label:
        ax.text(x0 + len(values[0]) / 2, y0 + 0.35, label, ha="center", fontsize=11)


def layers(ax, sizes, names, dropped=(), labels=None):
    """A fully connected network: one column of circles per layer; ``dropped``: (layer, unit)s crossed out."""
    pos = {}
    for layer, n in enumerate(sizes):
        for u in range(n):
            pos[layer, u] = (layer * 2.2, (n - 1) / 2 - u)
    for layer in range(len(sizes) - 1):
        for u in range(sizes[layer]):
            for v in range(sizes[layer + 1]):
                if (layer, u) in dropped or (layer + 1, v) in dropped:
                    continue
                (x1, y1), (x2, y2) = pos[layer, u], pos[layer + 1, v]
                ax.plot([x1, x2], [y1, y2], color="#888", lw=0.8, zorder=1)
    for (layer, u), (x, y) in pos.items():
        gone = (layer, u) in dropped
        ax.scatter([x], [y], s=700, facecolor="#eee" if gone else "#cfe2ff", edgecolor="black", zorder=2)
        text = labels[layer][u] if labels else ""
        ax.text(x, y, "x" if gone else text, ha="center", va="center", fontsize=10, zorder=3,
                color="#a31515" if gone else "black")
    for layer, name in enumerate(names):
        ax.text(layer * 2.2, max(sizes) / 2 + 0.3, name, ha="center", fontsize=11)


def blocks(ax, names, colors=None, skip=None):
    """A vertical stack of layer boxes, bottom to top; ``skip``: (from, to) box indexes joined around the side."""
    from matplotlib.patches import FancyBboxPatch
    for i, name in enumerate(names):
        ax.add_patch(FancyBboxPatch((0, i * 1.4), 7, 0.9, boxstyle="round,pad=0.05",
                                    facecolor=(colors or {}).get(i, "#cfe2ff"), edgecolor="black"))
        ax.text(3.5, i * 1.4 + 0.45, name, ha="center", va="center", fontsize=10)
        if i:
            ax.annotate("", (3.5, i * 1.4 - 0.05), (3.5, (i - 1) * 1.4 + 0.95), arrowprops={"arrowstyle": "->"})
    if skip:
        a, b = skip
        ax.annotate("", (7.05, b * 1.4 + 0.45), (7.05, a * 1.4 + 0.45),
                    arrowprops={"arrowstyle": "->", "connectionstyle": "arc3,rad=0.5", "color": "#a31515"})
    ax.set_xlim(-0.5, 9)
    ax.set_ylim(-0.5, len(names) * 1.4)


# ----- hw0 ---------------------------------------------------------------------------------------------
@figure("hw0_tensors_autograd", "broadcasting", "## 1.",
        "广播机制：形状为 (3, 1) 的 a 沿列复制、形状为 (1, 2) 的 b 沿行复制（浅色为复制出的元素），"
        "两者都扩展为 (3, 2) 后按元素相加，C[i, j] = a[i] + b[j]。",
        "Broadcasting: a of shape (3, 1) is copied along the columns and b of shape (1, 2) along the rows (the "
        "copies are shown light), so that both become (3, 2); then they are added elementwise, "
        "C[i, j] = a[i] + b[j].")
def broadcasting(ax):
    blue, pink, green = "#cfe2ff", "#ffe0e0", "#e4f5e4"
    every = {(i, j) for i in range(3) for j in range(2)}
    grid(ax, [[0], [1], [2]], 0, 3, shade={(0, 0), (1, 0), (2, 0)}, color=blue, label="a (3, 1)")
    ax.annotate("", (2.1, 1.5), (1.2, 1.5), arrowprops={"arrowstyle": "->"})
    grid(ax, [[0, 0], [1, 1], [2, 2]], 2.2, 3, shade=every, color="#eef3fb", label="a expanded")
    grid(ax, [[0], [1], [2]], 2.2, 3, shade={(0, 0), (1, 0), (2, 0)}, color=blue)
    ax.text(4.9, 1.5, "+", fontsize=20, ha="center", va="center")
    grid(ax, [[0, 1]], 5.6, 4.9, shade={(0, 0), (0, 1)}, color=pink, label="b (1, 2)")
    ax.annotate("", (6.6, 3.1), (6.6, 3.85), arrowprops={"arrowstyle": "->"})
    grid(ax, [[0, 1], [0, 1], [0, 1]], 5.6, 3, shade=every, color="#fff3f3")
    grid(ax, [[0, 1]], 5.6, 3, shade={(0, 0), (0, 1)}, color=pink)
    ax.text(6.6, -0.5, "b expanded", ha="center", fontsize=11)
    ax.text(8.4, 1.5, "=", fontsize=20, ha="center", va="center")
    grid(ax, [[0, 1], [1, 2], [2, 3]], 9.0, 3, shade=every, color=green, label="C (3, 2)")


def _liu_er_cost(w):
    """Liu Er's data (x = 1, 2, 3; y = 2, 4, 6) and cost(w) = mean((x w - y)^2)."""
    import numpy as np
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])
    return ((np.multiply.outer(np.atleast_1d(w), x) - y) ** 2).mean(axis=-1)


@figure("hw0_tensors_autograd", "exhaustive_search", "## 6.",
        "穷举法：在 w = 0.0, 0.1, ..., 4.0 上逐个计算训练集 x = (1, 2, 3)、y = (2, 4, 6) 的平均平方误差 (MSE)，"
        "曲线的最低点 w = 2 就是要找的权重。",
        "Exhaustive search: the mean square error (MSE) on the training set x = (1, 2, 3), y = (2, 4, 6) at "
        "every w = 0.0, 0.1, ..., 4.0; the lowest point of the curve, w = 2, is the weight we look for.")
def exhaustive_search(ax):
    import numpy as np
    ws = np.arange(0.0, 4.1, 0.1)
    costs = _liu_er_cost(ws)
    ax.plot(ws, costs, "-", color="#1f77b4")
    ax.plot(ws, costs, "o", ms=3, color="#1f77b4", label="cost(w) on the grid")
    best = int(np.argmin(costs))
    ax.plot([ws[best]], [costs[best]], "*", ms=14, color="#a31515", label=f"lowest: w = {ws[best]:.1f}")
    ax.set_xlabel("w")
    ax.set_ylabel("MSE")
    ax.legend()
    ax.axis("on")


@figure("hw0_tensors_autograd", "gradient_descent", "## 7.",
        "梯度下降（8 步）：从 w = 0.5 出发，每一步沿代价函数的负梯度方向移动 α ∂cost/∂w；学习率 α = 0.05 时，"
        "离最低点越近梯度越小，步子也越小。学习率 α = 0.17 偏大，w 在最低点两侧来回跳动；"
        "这里 α 大于 0.21 就不再收敛。",
        "Gradient descent (8 steps): from w = 0.5, each step moves by alpha d cost / dw against the gradient of "
        "the cost; with the learning rate alpha = 0.05, the nearer the minimum, the smaller the gradient and the "
        "step. With alpha = 0.17, w overshoots and jumps from one side of the minimum to the other; here, any "
        "alpha above 0.21 no longer converges.")
def gradient_descent(ax):
    import numpy as np
    ws = np.linspace(-0.2, 4.2, 200)
    ax.plot(ws, _liu_er_cost(ws), color="#bbbbbb", label="cost(w)")
    for lr, color, start in ((0.05, "#1f77b4", 0.5), (0.17, "#d62728", 0.5)):
        w, path = start, []
        for _ in range(8):
            path.append(w)
            w = w - lr * float(np.mean(2 * np.array([1.0, 2, 3]) * (np.array([1.0, 2, 3]) * w
                                                                     - np.array([2.0, 4, 6]))))
        path = np.array(path)
        ax.plot(path, _liu_er_cost(path), "-o", ms=4, color=color, label=f"alpha = {lr}")
    ax.set_xlabel("w")
    ax.set_ylabel("cost(w)")
    ax.set_ylim(-0.5, 12)
    ax.legend()
    ax.axis("on")


@figure("hw0_tensors_autograd", "computation_graph", "## 10.",
        "y_hat = w2 (w1 x + b1) + b2 的计算图：黑色箭头是前馈过程，依次算出 z、y_hat 和 loss；红色箭头是反向传播，"
        "每个节点把从上游传来的梯度乘以本地导数（标在箭头旁）传给它的输入。",
        "The computation graph of y_hat = w2 (w1 x + b1) + b2: black arrows are the forward pass, computing z, "
        "y_hat and the loss in turn; red arrows are the backward pass, where each node multiplies the gradient "
        "arriving from above by its local derivative (written by the arrow) and passes it to its inputs.")
def computation_graph(ax):
    from matplotlib.patches import Circle, FancyBboxPatch
    ops = {"*1": (2.0, 1.0), "+1": (4.0, 1.0), "*2": (6.0, 1.0), "+2": (8.0, 1.0), "loss": (10.4, 1.0)}
    leaves = {"x": (0.3, 1.0), "w1": (2.0, 2.6), "b1": (4.0, 2.6), "w2": (6.0, 2.6), "b2": (8.0, 2.6),
              "y": (10.4, 2.6)}
    for name, (x, y) in leaves.items():
        ax.add_patch(FancyBboxPatch((x - 0.35, y - 0.3), 0.7, 0.6, boxstyle="round,pad=0.05",
                                    facecolor="#cfe2ff" if name in ("w1", "b1", "w2", "b2") else "white",
                                    edgecolor="black"))
        ax.text(x, y, name, ha="center", va="center", fontsize=11)
    labels = {"*1": "x", "+1": "+", "*2": "x", "+2": "+", "loss": "MSE"}
    for name, (x, y) in ops.items():
        ax.add_patch(Circle((x, y), 0.4 if name != "loss" else 0.55, facecolor="#ffe0e0", edgecolor="black"))
        ax.text(x, y, labels[name], ha="center", va="center", fontsize=11)
    forward = [("x", "*1", ""), ("*1", "+1", ""), ("+1", "*2", "z"), ("*2", "+2", ""), ("+2", "loss", "y_hat")]
    points = {**ops, **leaves}
    for a, b, text in forward:
        (x1, y1), (x2, y2) = points[a], points[b]
        ax.annotate("", (x2 - 0.45, y2 + 0.08), (x1 + 0.45, y1 + 0.08), arrowprops={"arrowstyle": "->"})
        if text:
            ax.text((x1 + x2) / 2, y1 + 0.25, text, ha="center", fontsize=10)
    for a, b in (("w1", "*1"), ("b1", "+1"), ("w2", "*2"), ("b2", "+2"), ("y", "loss")):
        (x1, y1), (x2, y2) = points[a], points[b]
        ax.annotate("", (x2 - 0.08, y2 + 0.45), (x1 - 0.08, y1 - 0.35), arrowprops={"arrowstyle": "->"})
    red = {"arrowstyle": "->", "color": "#a31515"}
    backward = [("loss", "+2", "2 (y_hat - y) / N"), ("+2", "*2", "1"), ("*2", "+1", "w2"), ("+1", "*1", "1")]
    for a, b, text in backward:
        (x1, y1), (x2, y2) = points[a], points[b]
        start = x1 - (0.6 if a == "loss" else 0.45)
        ax.annotate("", (x2 + 0.45, y2 - 0.2), (start, y1 - 0.2), arrowprops=red)
        ax.text(start if a == "loss" else (start + x2 + 0.45) / 2, y1 - 0.62, text,
                ha="right" if a == "loss" else "center", fontsize=9, color="#a31515")
    for a, b, text in (("*1", "w1", "x"), ("+1", "b1", "1"), ("*2", "w2", "z"), ("+2", "b2", "1")):
        (x1, y1), (x2, y2) = points[a], points[b]
        ax.annotate("", (x2 + 0.12, y2 - 0.35), (x1 + 0.12, y1 + 0.45), arrowprops=red)
        ax.text(x1 + 0.3, (y1 + y2) / 2, text, fontsize=9, color="#a31515")
    ax.text(5.4, -0.6, "forward: black    backward (chain rule): red, each arrow times its local derivative",
            ha="center", fontsize=9)
    ax.set_xlim(-0.3, 11.3)
    ax.set_ylim(-0.9, 3.2)


# ----- hw1 ---------------------------------------------------------------------------------------------
@figure("hw1_linear_regression", "linear_regression_network", "## 1.",
        "线性回归是一个单层神经网络：输出 o1 是所有输入 x1 到 x3 的加权和加偏置（全连接层）。",
        "Linear regression is a single-layer neural network: the output o1 is a weighted sum of all the inputs "
        "x1 to x3 plus a bias (a fully connected layer).")
def linear_network(ax):
    layers(ax, [3, 1], ["input layer", "output layer"], labels=[["x1", "x2", "x3"], ["o1"]])


# ----- hw3 ---------------------------------------------------------------------------------------------
@figure("hw3_mlp", "mlp_hidden_layer", "## 1.",
        "一个单隐藏层的多层感知机，具有 4 个输入、5 个隐藏单元和 3 个输出；隐藏层的仿射变换之后接非线性的激活函数。",
        "A multilayer perceptron with one hidden layer: 4 inputs, 5 hidden units and 3 outputs; the hidden "
        "layer's affine transformation is followed by a nonlinear activation function.")
def mlp(ax):
    layers(ax, [4, 5, 3], ["input layer", "hidden layer", "output layer"],
           labels=[["x1", "x2", "x3", "x4"], ["h1", "h2", "h3", "h4", "h5"], ["o1", "o2", "o3"]])


# ----- hw4 ---------------------------------------------------------------------------------------------
@figure("hw4_dropout", "dropout_mlp", "## 2.",
        "暂退法后的多层感知机：训练时以概率 p 将隐藏单元置零（这里 h2 和 h5 被暂退），输出的计算不再依赖它们。",
        "An MLP with dropout: in training each hidden unit is zeroed with probability p (here h2 "
        "and h5 are dropped), and the outputs no longer depend on them.")
def dropout(ax):
    layers(ax, [4, 5, 3], ["input layer", "hidden layer", "output layer"], dropped={(1, 1), (1, 4)},
           labels=[["x1", "x2", "x3", "x4"], ["h1", "h2", "h3", "h4", "h5"], ["o1", "o2", "o3"]])


# ----- hw6 ---------------------------------------------------------------------------------------------
@figure("hw6_optimizers", "optimizer_trajectories", "## 3.",
        "目标函数 f(x) = 0.1 x1² + 2 x2² 上的优化轨迹：学习率 0.4 的梯度下降在 x2 方向上振荡、在 x1 方向上缓慢；"
        "动量法（β = 0.5）沿 x1 方向累积速度，更快接近最小值。",
        "Trajectories on f(x) = 0.1 x1^2 + 2 x2^2: gradient descent with learning rate 0.4 oscillates along x2 "
        "and crawls along x1; momentum (beta = 0.5) builds up velocity along x1 and gets closer to the minimum.")
def trajectories(ax):
    import numpy as np
    x1, x2 = np.meshgrid(np.linspace(-5.5, 1.5, 200), np.linspace(-3, 1.5, 200))
    ax.contour(x1, x2, 0.1 * x1 ** 2 + 2 * x2 ** 2, levels=12, colors="#bbbbbb", linewidths=0.8)
    for name, beta, color in (("gradient descent", 0.0, "#1f77b4"), ("momentum, beta = 0.5", 0.5, "#d62728")):
        x, v, path = np.array([-5.0, -2.0]), np.zeros(2), []
        for _ in range(20):
            path.append(x.copy())
            v = beta * v + np.array([0.2 * x[0], 4 * x[1]])
            x = x - 0.4 * v
        path = np.array(path)
        ax.plot(path[:, 0], path[:, 1], "-o", ms=3, color=color, label=name)
    ax.plot([0], [0], "k*", ms=10)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="lower right", fontsize=9)
    ax.axis("on")


# ----- hw7 ---------------------------------------------------------------------------------------------
@figure("hw7_training", "early_stopping", "## 5.",
        "训练损失一直下降，验证损失先降后升（过拟合）：提前终止在验证损失最低的迭代周期停下并保留那时的参数。",
        "The training loss keeps falling while the validation loss falls, then rises (overfitting): early "
        "stopping keeps the parameters of the epoch with the lowest validation loss.")
def early_stopping(ax):
    import numpy as np
    epochs = np.arange(1, 31)
    train = 1.6 * np.exp(-epochs / 7) + 0.1
    valid = 1.6 * np.exp(-epochs / 7) + 0.25 + 0.0009 * (epochs - 3) ** 2
    best = int(np.argmin(valid))
    ax.plot(epochs, train, label="training loss")
    ax.plot(epochs, valid, label="validation loss")
    ax.axvline(epochs[best], color="#a31515", ls="--")
    ax.text(epochs[best] + 0.5, valid.max() * 0.8, f"stop: epoch {epochs[best]}", color="#a31515")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    ax.axis("on")


# ----- hw2 ---------------------------------------------------------------------------------------------
@figure("hw2_softmax_regression", "softmax_regression_network", "## 1. 分类问题与 softmax 运算",
        "softmax回归是一个单层神经网络：每个输出 o1, o2, o3 都依赖于所有输入 x1 到 x4（全连接层）。",
        "Softmax regression is a single-layer neural network: every output o1, o2, o3 depends on every input "
        "x1 to x4 (a fully connected layer).")
def softmax_network(ax):
    layers(ax, [4, 3], ["input layer", "output layer"],
           labels=[["x1", "x2", "x3", "x4"], ["o1", "o2", "o3"]])


# ----- hw5 ---------------------------------------------------------------------------------------------
@figure("hw5_cnn", "cross_correlation", "## 1.",
        "二维互相关运算：阴影部分是第一个输出元素及用于计算它的输入和核张量元素，0×0 + 1×1 + 3×2 + 4×3 = 19。"
        "核在输入上从左到右、从上到下滑动，不翻转。",
        "Two-dimensional cross-correlation: the shaded part is the first output element and the input and kernel "
        "elements used to compute it, 0x0 + 1x1 + 3x2 + 4x3 = 19. The kernel slides over the input, left to "
        "right and top to bottom, without being flipped.")
def cross_correlation(ax):
    grid(ax, [[0, 1, 2], [3, 4, 5], [6, 7, 8]], 0, 3, shade={(0, 0), (0, 1), (1, 0), (1, 1)}, label="input")
    ax.text(3.5, 1.5, "*", fontsize=20, ha="center", va="center")
    grid(ax, [[0, 1], [2, 3]], 4, 2.5, shade={(0, 0), (0, 1), (1, 0), (1, 1)}, label="kernel")
    ax.text(6.5, 1.5, "=", fontsize=20, ha="center", va="center")
    grid(ax, [[19, 25], [37, 43]], 7, 2.5, shade={(0, 0)}, label="output")


@figure("hw5_cnn", "padding_and_stride", "## 2.",
        "带填充的二维互相关：在 3×3 输入的四周各填充一行、一列 0（padding = 1），2×2 的核在其上以步幅 (3, 2) 滑动，"
        "阴影部分是输出的第一个元素及其输入，0×0 + 0×1 + 0×2 + 0×3 = 0；输出形状为 2×2。",
        "Cross-correlation with padding and stride: the 3x3 input gets a border of zeros one row and one column "
        "wide (padding = 1), and the 2x2 kernel slides over it with stride (3, 2); the shaded part is the first "
        "output element and its inputs, 0x0 + 0x1 + 0x2 + 0x3 = 0; the output is 2x2.")
def padding_and_stride(ax):
    padded = [[0] * 5] + [[0, 3 * i, 3 * i + 1, 3 * i + 2, 0] for i in range(3)] + [[0] * 5]
    grid(ax, padded, 0, 5, shade={(0, 0), (0, 1), (1, 0), (1, 1)}, label="padded input")
    ax.text(5.6, 2.5, "*", fontsize=20, ha="center", va="center")
    grid(ax, [[0, 1], [2, 3]], 6.3, 3.5, shade={(0, 0), (0, 1), (1, 0), (1, 1)}, label="kernel")
    ax.text(8.9, 2.5, "=", fontsize=20, ha="center", va="center")
    grid(ax, [[0, 8], [6, 8]], 9.6, 3.5, shade={(0, 0)}, label="output")


@figure("hw5_cnn", "multi_input_channels", "## 3.",
        "两个输入通道的互相关计算：每个通道与核的对应通道做互相关，再把结果相加，"
        "(1×1 + 2×2 + 4×3 + 5×4) + (0×0 + 1×1 + 3×2 + 4×3) = 56。",
        "Cross-correlation with two input channels: each channel is cross-correlated with its own kernel "
        "channel and the results are summed, (1x1 + 2x2 + 4x3 + 5x4) + (0x0 + 1x1 + 3x2 + 4x3) = 56.")
def multi_input_channels(ax):
    shade = {(0, 0), (0, 1), (1, 0), (1, 1)}
    grid(ax, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], 0.6, 7.6, shade=shade, color="#ffe0e0", label="input channel 2")
    grid(ax, [[0, 1, 2], [3, 4, 5], [6, 7, 8]], 0, 3, shade=shade, label="input channel 1")
    ax.text(4.2, 3.5, "*", fontsize=20, ha="center", va="center")
    grid(ax, [[1, 2], [3, 4]], 5.3, 7.1, shade=shade, color="#ffe0e0", label="kernel channel 2")
    grid(ax, [[0, 1], [2, 3]], 5, 2.5, shade=shade, label="kernel channel 1")
    ax.text(8.4, 3.5, "=", fontsize=20, ha="center", va="center")
    grid(ax, [[56, 72], [104, 120]], 9.2, 4.5, shade={(0, 0)}, label="output")


@figure("hw5_cnn", "max_pooling", "## 4.",
        "汇聚窗口形状为 2×2 的最大汇聚层：阴影部分是第一个输出元素及用于计算它的输入元素，max(0, 1, 3, 4) = 4。",
        "Max-pooling with a 2x2 pooling window: the shaded part is the first output element and the input "
        "elements used to compute it, max(0, 1, 3, 4) = 4.")
def max_pooling(ax):
    grid(ax, [[0, 1, 2], [3, 4, 5], [6, 7, 8]], 0, 3, shade={(0, 0), (0, 1), (1, 0), (1, 1)}, label="input")
    ax.text(3.7, 1.5, "2x2 max\npooling", fontsize=10, ha="center", va="center")
    grid(ax, [[4, 5], [7, 8]], 5, 2.5, shade={(0, 0)}, label="output")


@figure("hw5_cnn", "lenet", "## 6.",
        "LeNet 中的数据流：输入是 28×28 的图像，两个卷积块（卷积层、sigmoid 激活函数、平均汇聚层）之后是三个全连接层。",
        "Data flow in LeNet: the input is a 28x28 image; two convolutional blocks (convolutional layer, sigmoid "
        "activation, average pooling) are followed by three fully connected layers.")
def lenet(ax):
    blocks(ax, ["image 1x28x28", "conv 5x5, 6 channels, pad 2 + sigmoid: 6x28x28",
                "avg pool 2x2, stride 2: 6x14x14",
                "conv 5x5, 16 channels + sigmoid: 16x10x10", "avg pool 2x2, stride 2: 16x5x5",
                "flatten, dense 120 + sigmoid", "dense 84 + sigmoid", "dense 10 (the logits)"])


@figure("hw5_cnn", "residual_block", "## 8.",
        "残差块：两个 3×3 卷积层（各接批量规范化层）拟合残差映射 f(x) − x，"
        "输入 x 经跨层数据通路直接加到输出上，再接 ReLU。",
        "A residual block: two 3x3 convolutional layers (each followed by batch normalisation) fit the residual "
        "mapping f(x) - x; the input x is added to their output through the shortcut, then a ReLU.")
def residual_block(ax):
    blocks(ax, ["x", "3x3 conv + batch norm + ReLU", "3x3 conv + batch norm", "+ x (the shortcut)", "ReLU"],
           colors={0: "white", 3: "#ffe0e0"}, skip=(0, 3))


# ----- hw8 ---------------------------------------------------------------------------------------------
def panels(ax, n: int, gap: float = 0.12):
    """``n`` side-by-side plots inside ``ax`` (whose own frame is hidden); returns their axes."""
    ax.axis("on")  # a plot: render keeps the panels' own aspect
    ax.set_frame_on(False)
    ax.set_xticks([])
    ax.set_yticks([])
    width = (1 - gap * (n - 1)) / n
    return [ax.inset_axes([i * (width + gap), 0, width, 1]) for i in range(n)]


_P, _Q = (0.5, 0.25, 0.125, 0.125), (0.1, 0.2, 0.3, 0.4)  # the entropy figure's p and q


@figure("hw8_metric_learning", "entropy_kl_cross_entropy", "## 3. 交叉熵",
        "交叉熵 = 信息熵 + 相对熵（自然对数）：左边是真实分布 p = (0.5, 0.25, 0.125, 0.125) 和预测分布 "
        "q = (0.1, 0.2, 0.3, 0.4)；右边 H(p, q) = 1.82 分成 H(p) = 1.21 与 D_KL(p‖q) = 0.61 两段。"
        "q = p 时相对熵为 0，交叉熵降到最小值 H(p)。",
        "Cross-entropy = entropy + relative entropy (natural logarithm): on the left the true distribution "
        "p = (0.5, 0.25, 0.125, 0.125) and the predicted one q = (0.1, 0.2, 0.3, 0.4); on the right "
        "H(p, q) = 1.82 splits into H(p) = 1.21 and D_KL(p || q) = 0.61. With q = p the KL divergence is 0 and "
        "the cross-entropy falls to its minimum, H(p).")
def entropy_kl_cross_entropy(ax):
    import numpy as np
    p, q = np.array(_P), np.array(_Q)
    h = float(-(p * np.log(p)).sum())
    kl = float((p * np.log(p / q)).sum())
    left, right = panels(ax, 2, gap=0.15)
    x = np.arange(len(p))
    left.bar(x - 0.2, p, 0.4, color="#1f77b4", label="p (true)")
    left.bar(x + 0.2, q, 0.4, color="#ff7f0e", label="q (predicted)")
    left.set_xticks(x, [f"x{i + 1}" for i in x])
    left.set_ylabel("probability")
    left.legend(fontsize=9)
    right.bar([0, 1], [h, h], 0.6, color="#1f77b4", label="H(p), entropy")
    right.bar([0], [kl], 0.6, bottom=[h], color="#d62728", label="D_KL(p || q)")
    right.text(0, h + kl + 0.04, f"H(p, q) = {h + kl:.2f}", ha="center", fontsize=10)
    right.text(0, h / 2, f"{h:.2f}", ha="center", va="center", color="white", fontsize=10)
    right.text(0, h + kl / 2, f"{kl:.2f}", ha="center", va="center", color="white", fontsize=10)
    right.text(1, h + 0.04, "D_KL(p || p) = 0", ha="center", fontsize=9)
    right.set_xticks([0, 1], ["H(p, q)", "H(p, p) = H(p)"])
    right.set_xlim(-0.6, 1.7)
    right.set_ylim(0, (h + kl) * 1.55)
    right.set_ylabel("nats")
    right.legend(fontsize=9, loc="upper right")


@figure("hw8_metric_learning", "triplet_margin", "## 9. 三元组损失",
        "嵌入空间中的三元组：锚点 a 与正样本 p 的距离 d(a, p) = 1.5，间隔 m = 1。负样本落在半径 d(a, p) + m = 2.5 "
        "的圆外时损失为 0（容易的负样本，距离 3.2）；落在间隔带内（距离 2.1）损失为 1.5 − 2.1 + 1 = 0.4；"
        "比正样本还近（距离 1.0）的难负样本损失为 1.5。训练把 p 拉近 a、把 n 推远。",
        "A triplet in the embedding space: the anchor a and the positive p are d(a, p) = 1.5 apart, and the margin "
        "is m = 1. A negative outside the circle of radius d(a, p) + m = 2.5 costs 0 (an easy negative, at 3.2); "
        "one inside the margin band (at 2.1) costs 1.5 - 2.1 + 1 = 0.4; a hard negative nearer than the positive "
        "(at 1.0) costs 1.5. Training pulls p towards a and pushes n away.")
def triplet_margin(ax):
    import numpy as np
    from matplotlib.patches import Circle
    d_ap, m = 1.5, 1.0
    ax.add_patch(Circle((0, 0), d_ap + m, facecolor="#fff3f3", edgecolor="#d62728", ls="--"))
    ax.add_patch(Circle((0, 0), d_ap, facecolor="white", edgecolor="#1f77b4", ls="--"))
    ax.annotate("", (d_ap + m, 0), (d_ap, 0), arrowprops={"arrowstyle": "<->", "color": "#d62728"})
    ax.text(d_ap + m / 2, -0.3, "margin m", ha="center", fontsize=9, color="#d62728")
    ax.plot([0], [0], "o", ms=12, color="#1f77b4")
    ax.text(0, -0.35, "anchor a", ha="center", fontsize=10)
    pos = d_ap * np.array([np.cos(2.2), np.sin(2.2)])
    ax.plot(*pos, "s", ms=11, color="#1f77b4")
    ax.text(pos[0] - 0.15, pos[1] + 0.25, "positive p", ha="center", fontsize=10)
    ax.annotate("", 0.55 * pos, 0.9 * pos, arrowprops={"arrowstyle": "->", "color": "#1f77b4"})
    for dist, angle, name, label_at in ((3.2, 0.55, "easy n: loss 0", (2.9, 2.2)),
                                        (2.1, -0.9, "semi-hard n: loss 0.4", (2.1, -2.3)),
                                        (1.0, -2.3, "hard n: loss 1.5", (-2.7, -1.0))):
        at = dist * np.array([np.cos(angle), np.sin(angle)])
        ax.plot(*at, "^", ms=11, color="#d62728")
        ax.text(*label_at, name, ha="center", fontsize=9)
        if dist < d_ap + m:
            ax.annotate("", 1.35 * at, 1.05 * at, arrowprops={"arrowstyle": "->", "color": "#d62728"})
    ax.text(0, 2.75, "loss = max(d(a, p) - d(a, n) + m, 0)", ha="center", fontsize=10)
    ax.set_xlim(-4.6, 4.6)
    ax.set_ylim(-2.9, 3.1)


def _knn_toy():
    """Two overlapping 2-D classes, 22 and 18 samples, fixed by a seed."""
    import numpy as np
    rng = np.random.RandomState(3)
    X = np.concatenate([rng.normal((-0.8, 0.0), 0.9, (22, 2)), rng.normal((0.9, 0.3), 0.8, (18, 2))])
    return X, np.array([0] * 22 + [1] * 18)


@figure("hw8_metric_learning", "knn_k", "## 7. K 近邻",
        "k 的影响：同一个二维训练集（22 个蓝色圆点、18 个红色三角形）上 KNN 的决策区域。k = 1 时边界贴着每个训练点，"
        "连噪声也照搬（模型复杂、容易过拟合）；k = 9 时边界平滑；k = N = 40 时无论输入是什么，都预测训练集中最多的类。",
        "The effect of k: KNN's decision regions on one 2-D training set (22 blue circles, 18 red triangles). "
        "With k = 1 the boundary follows every training point, noise included (a complex model that overfits); "
        "with k = 9 it is smooth; with k = N = 40 every input gets the most frequent class of the training set.")
def knn_k(ax):
    import numpy as np
    from matplotlib.colors import ListedColormap
    X, y = _knn_toy()
    g1, g2 = np.meshgrid(np.linspace(-3.5, 3.5, 200), np.linspace(-3, 3, 200))
    grid_points = np.stack([g1.ravel(), g2.ravel()], 1)
    d2 = ((grid_points[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    order = np.argsort(d2, axis=1, kind="stable")
    for panel, k in zip(panels(ax, 3, gap=0.04), (1, 9, len(X))):
        votes = y[order[:, :k]].mean(1)  # two classes and no tie: odd k, or 22 against 18
        panel.contourf(g1, g2, (votes > 0.5).reshape(g1.shape), levels=[-0.5, 0.5, 1.5],
                       cmap=ListedColormap(["#dbe8f8", "#f8dcdc"]))
        panel.scatter(*X[y == 0].T, s=18, marker="o", color="#1f77b4", edgecolor="black", linewidth=0.4)
        panel.scatter(*X[y == 1].T, s=22, marker="^", color="#d62728", edgecolor="black", linewidth=0.4)
        panel.set_title(f"k = {k}" + (" = N" if k == len(X) else ""), fontsize=11)
        panel.set_xticks([])
        panel.set_yticks([])
        panel.set_aspect("equal")


# ----- embedding ----------------------------------------------------------------------------------------
def render(fig_spec: Figure) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    ax.axis("off")  # a diagram; a plot turns its axes back on
    fig_spec.draw(ax)
    if not ax.axison:
        ax.set_aspect("equal")
        ax.autoscale_view()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def figure_cell(spec: Figure, png: bytes) -> dict:
    name = f"{spec.name}.png"
    text = f"![{spec.en}](attachment:{name})\n\n*图 / Figure: {spec.zh}*  \n*{spec.en}*"
    return {"cell_type": "markdown", "id": f"fig-{spec.name}".replace("_", "-"),
            "metadata": {"d2lcourse": {"figure": spec.name}},
            "attachments": {name: {"image/png": base64.b64encode(png).decode("ascii")}},
            "source": text.splitlines(keepends=True)}


def embed(assignment: str) -> int:
    path = ROOT / "source" / assignment / f"{assignment}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"] = [c for c in nb["cells"] if "figure" not in c.get("metadata", {}).get("d2lcourse", {})]
    specs = [f for f in FIGURES if f.assignment == assignment]
    for spec in specs:
        text = ["".join(c["source"]) for c in nb["cells"]]
        at = next((i for i, t in enumerate(text) if nb["cells"][i]["cell_type"] == "markdown"
                   and t.startswith(spec.after)), None)
        if at is None:
            raise SystemExit(f"{assignment}: no markdown cell starts with {spec.after!r} for figure {spec.name}")
        nb["cells"].insert(at + 1, figure_cell(spec, render(spec)))
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(specs)


if __name__ == "__main__":
    for aid in sys.argv[1:] or sorted({f.assignment for f in FIGURES}):
        print(f"{aid}: {embed(aid)} figures embedded in source/{aid}/{aid}.ipynb")

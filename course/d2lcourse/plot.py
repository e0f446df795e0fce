"""Plots for the notebooks' demo cells: training curves and image grids (matplotlib)."""
from __future__ import annotations

from typing import Mapping, Sequence


def plot_curves(history: Mapping[str, Sequence[float]], xlabel: str = "epoch", ylabel: str = "",
                title: str = "", logy: bool = False, figsize: tuple[float, float] = (4.5, 3.0)):
    """One line per named series, x counting from 1: ``plot_curves({"train loss": [...], "test acc": [...]})``."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=figsize)
    for name, values in history.items():
        values = list(values)
        ax.plot(range(1, len(values) + 1), values, marker="o" if len(values) < 30 else None, label=name)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return ax


def show_images(imgs, num_rows: int, num_cols: int, titles: Sequence[str] | None = None, scale: float = 1.5):
    """A grid of images (d2l's show_images); tensors of shape (N, H, W) or (N, 1, H, W)."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale))
    axes = axes.flatten() if hasattr(axes, "flatten") else [axes]
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        img = img.detach().cpu() if hasattr(img, "detach") else img
        if getattr(img, "ndim", 2) == 3:
            img = img[0]
        ax.imshow(img, cmap="gray")
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return axes

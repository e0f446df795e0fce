"""Plots for the notebooks' demo cells: training curves and image grids (matplotlib).

Labels in Chinese use :func:`cjk_font`: a system CJK font where there is one, else the Noto Sans CJK SC file of
the ``mplfonts`` pip package (``pip install 'd2lcourse[cjk]'``), else a note saying what to install.
"""
from __future__ import annotations

from typing import Mapping, Sequence


def plot_curves(history: Mapping[str, Sequence[float]], xlabel: str = "epoch", ylabel: str = "",
                title: str = "", logy: bool = False, figsize: tuple[float, float] = (4.5, 3.0)):
    """One line per named series, x counting from 1: ``plot_curves({"train loss": [...], "test acc": [...]})``."""
    import matplotlib.pyplot as plt
    if _has_cjk(xlabel, ylabel, title, *history):
        cjk_font()
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
    if titles is not None and _has_cjk(*titles):
        cjk_font()
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


# ----- Chinese text in the plots ----------------------------------------------------------------------
# Families that cover simplified Chinese, as operating systems name them (Linux, macOS, Windows).
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
                "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "SimHei", "Heiti SC")
CJK_FALLBACK = ("no font with Chinese characters was found, so Chinese labels in plots show as boxes: "
                "`pip install 'd2lcourse[cjk]'` (it brings the mplfonts package, which ships Noto Sans CJK SC) or "
                "install a system font (Debian/Ubuntu: `apt-get install fonts-noto-cjk`)")
_cjk: list[str | None] = []  # the family found, once per process


def cjk_font() -> str | None:
    """A font family that draws Chinese, made matplotlib's first sans-serif choice; None (and a note, once)
    where there is none. Looks for a system font first, then the Noto Sans CJK SC file the mplfonts package
    ships (a pip package: no system font needed)."""
    if _cjk:
        return _cjk[0]
    import matplotlib
    from matplotlib import font_manager
    have = {f.name for f in font_manager.fontManager.ttflist}
    family = next((f for f in CJK_FAMILIES if f in have), None)
    if family is None:
        try:
            import mplfonts
        except ImportError:
            mplfonts = None
        if mplfonts is not None:
            from pathlib import Path
            path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
            if path.is_file():
                font_manager.fontManager.addfont(str(path))
                family = font_manager.FontProperties(fname=str(path)).get_name()
    if family is None:
        import sys
        print(f"note: {CJK_FALLBACK}", file=sys.stderr)
    else:
        sans = list(matplotlib.rcParams["font.sans-serif"])
        matplotlib.rcParams["font.sans-serif"] = [family] + [f for f in sans if f != family]
        matplotlib.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack the minus sign glyph
    _cjk.append(family)
    return family


def _has_cjk(*texts: object) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for text in texts if isinstance(text, str) for ch in text)

"""Course helpers for the d2l notebooks: data, a timer, an accumulator, plots and the public tests' check.

One copy for every notebook of the course (given code, not graded). Fashion-MNIST is read from a
local data root (``D2L_DATA_ROOT`` or the course configuration), never downloaded while grading;
where it is absent, a small stand-in built from scikit-learn's digits is used, and says so.

The names are imported when first used (PEP 562): ``python -m d2lcourse validate`` and the toolbar's Validate
import this package without paying for torch, which only the notebook's own process needs.
"""
from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "data_root": "config",
    "FASHION_MNIST_LABELS": "data", "DataNotFound": "data", "fallback_datasets": "data", "fashion_mnist": "data",
    "get_fashion_mnist_labels": "data", "load_data_fashion_mnist": "data",
    "plot_curves": "plot", "show_images": "plot", "cjk_font": "plot",
    "check": "publictest",
    "Accumulator": "utils", "Timer": "utils", "progress": "utils",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'd2lcourse' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))

"""Course helpers for the d2l notebooks: data, a timer, an accumulator and plots.

One copy for every notebook of the course (given code, not graded). Fashion-MNIST is read from a
local data root (``D2L_DATA_ROOT`` or the course configuration), never downloaded while grading;
where it is absent, a small stand-in built from scikit-learn's digits is used, and says so.
"""
from .config import data_root
from .data import (
    FASHION_MNIST_LABELS,
    DataNotFound,
    fallback_datasets,
    fashion_mnist,
    get_fashion_mnist_labels,
    load_data_fashion_mnist,
)
from .plot import plot_curves, show_images
from .publictest import check
from .utils import Accumulator, Timer, progress

__all__ = [
    "Accumulator", "DataNotFound", "check", "FASHION_MNIST_LABELS", "Timer", "data_root", "fallback_datasets",
    "fashion_mnist", "get_fashion_mnist_labels", "load_data_fashion_mnist", "plot_curves", "progress",
    "show_images",
]

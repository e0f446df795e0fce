"""Hidden graders for hw6_optimizers (d2l 11 and the lecture notes). Never shipped to students.

``FORBIDDEN`` maps a contract task to the library calls that would do its exercise (docs/contract/
hw6_optimizers.md gives the reasons). For the five optimizers: every ``torch.optim`` optimizer class
(its ``__init__`` and ``step``: building one inside yours, subclassing one, or calling its step), the
functional API ``torch.optim._functional`` and the private per-algorithm functions behind it, and the
fused kernels. ``torch._foreach_*`` list operations stay allowed: they are plain elementwise arithmetic
that a correct hand-written optimizer may use. The schedules and ``classify_critical_point`` forbid
nothing (the contract lists nothing for them).
"""
from __future__ import annotations

import importlib

_CLASSES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adadelta", "Adamax", "ASGD", "NAdam", "RAdam", "Rprop",
            "LBFGS", "SparseAdam", "Adafactor", "Muon"]
_ALGORITHMS = ["sgd", "adagrad", "rmsprop", "adam", "adamw", "adadelta", "adamax", "asgd", "nadam", "radam", "rprop"]
_FUNCTIONAL = ([f"torch.optim._functional.{a}" for a in _ALGORITHMS] + ["torch.optim._functional.sparse_adam"]
               + [f"torch.optim.{a}.{kind}{a}" for a in _ALGORITHMS
                  for kind in ("_single_tensor_", "_multi_tensor_", "_fused_")])
_FUSED = ["torch._fused_sgd_", "torch._fused_adagrad_", "torch._fused_adam_", "torch._fused_adamw_"]


def _exists(dotted: str) -> bool:
    """Names this torch version has (the list covers several versions; the monitor resolves what exists)."""
    module, _, attr = dotted.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), attr)
    except ImportError:
        return False


OPTIMIZER_CALLS = [n for n in [f"torch.optim.{c}" for c in _CLASSES] + _FUNCTIONAL + _FUSED if _exists(n)]

FORBIDDEN = {name: OPTIMIZER_CALLS for name in ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW")}

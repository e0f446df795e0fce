"""torch.fx.experimental.symbolic_shapes (and sympy with it) imported only when a symbolic shape appears.

Eager PyTorch asks that module small questions about shapes on its hot paths: ``torch._check`` (every
meta-device kernel of the device probe) imports ``expect_true`` from it, ``autograd.grad(..., grad_outputs)`` and
``backward(gradient)`` import ``sym_eq`` and ``expect_true``, the Python reference kernels ``guard_or_false``. The
module imports all of sympy at its top: 0.4-0.7 s in every process that asks first (the grader process at its
first reference gradient with ``grad_outputs``). With plain ``int`` and ``bool`` arguments, the only kind eager
code has, each of those helpers is one comparison. (The meta device's kernels import sympy themselves, so the
fork server, whose workers run the device probe, preloads the real module instead.)

``defer()`` puts a stand-in at ``torch.fx.experimental.symbolic_shapes``: the helpers below answer plain
arguments exactly as the real ones do (their code is copied from torch, plain branch only) and hand anything
else (a ``SymInt``, a ``SymBool``: something is tracing or compiling) to the real module; any other name asked
of the stand-in imports the real module and is read there. So compiled and traced code sees exactly what torch
intends, and eager code never pays for sympy.
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

NAME = "torch.fx.experimental.symbolic_shapes"
_PLAIN = (bool, int)


def real_module() -> ModuleType:
    """The real module, imported now if the stand-in is in its place."""
    if sys.modules.get(NAME) is _stand_in:
        del sys.modules[NAME]
        parent = sys.modules.get("torch.fx.experimental")
        if parent is not None and vars(parent).get("symbolic_shapes") is _stand_in:
            delattr(parent, "symbolic_shapes")
        importlib.import_module(NAME)  # binds the parent package's attribute to the real module, as any import does
    return sys.modules[NAME]


def _plain_ints(value: Any) -> bool:
    return type(value) in _PLAIN or (isinstance(value, (tuple, list)) and all(type(v) in _PLAIN for v in value))


class _StandIn(ModuleType):
    """The helpers eager code calls, for plain values; everything else from the real module."""

    @staticmethod
    def expect_true(a: Any, skip: int = 0) -> Any:
        if type(a) is bool:
            return a
        return real_module().expect_true(a, skip + 1)  # the caller's frame, as the real one would name it

    @staticmethod
    def guard_or_false(a: Any) -> Any:
        return a if type(a) is bool else real_module().guard_or_false(a)

    @staticmethod
    def guard_or_true(a: Any) -> Any:
        return a if type(a) is bool else real_module().guard_or_true(a)

    @staticmethod
    def statically_known_true(x: Any) -> Any:
        return x if type(x) is bool else real_module().statically_known_true(x)

    @staticmethod
    def guard_int(a: Any) -> Any:
        return a if type(a) is int else real_module().guard_int(a)

    @staticmethod
    def guard_bool(a: Any) -> Any:
        return a if type(a) is bool else real_module().guard_bool(a)

    @staticmethod
    def is_nested_int(s: Any) -> Any:
        return False if type(s) in (int, float, bool) else real_module().is_nested_int(s)

    @staticmethod
    def sym_eq(x: Any, y: Any) -> Any:
        if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)) and _plain_ints(x) and _plain_ints(y):
            return len(x) == len(y) and all(a == b for a, b in zip(x, y))
        if type(x) in _PLAIN and type(y) in _PLAIN:
            return x == y
        return real_module().sym_eq(x, y)

    @staticmethod
    def sym_and(x: Any, *others: Any) -> Any:
        if type(x) is bool and all(type(y) is bool for y in others):
            return x and all(others)
        return real_module().sym_and(x, *others)

    @staticmethod
    def sym_or(x: Any, *others: Any) -> Any:
        if type(x) is bool and all(type(y) is bool for y in others):
            return x or any(others)
        return real_module().sym_or(x, *others)

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") and name.endswith("__"):
            # What the import system and tools ask of every module (``from m import f`` asks for __path__, a module
            # being no package has none; inspect.getmodule reads __file__): not a request for the real module.
            raise AttributeError(name)
        return getattr(real_module(), name)


_stand_in = _StandIn(NAME, "stand-in for torch's symbolic_shapes until a symbolic shape appears "
                           "(gradeworker.lazyshapes)")


def defer() -> bool:
    """Keep the real module (and sympy) unimported until a symbolic shape appears; False where it is imported
    already, or torch is not."""
    if NAME in sys.modules or "torch" not in sys.modules:
        return False
    import torch.fx.experimental as parent  # a light package (its own modules load on demand)
    sys.modules[NAME] = _stand_in
    vars(parent)["symbolic_shapes"] = _stand_in  # what `torch.fx.experimental.symbolic_shapes` reads
    return True

"""torch._dynamo imported only when something compiles.

torch marks several hundred of its own functions "never compile this" with ``torch._compile._disable_dynamo``
(every optimizer's ``__init__``, the Python reference kernels the meta device runs, ...). That marker imports
torch._dynamo on the function's first call (1.5-2.5 s here, sympy included) only to wrap it in a context that
switches compilation off; every optimizer's ``step`` likewise imports it to call ``torch._dynamo.graph_break()``.
While torch._dynamo has never been imported nothing can be compiling, so that context and that graph break do
nothing: calling the function itself is the same computation, bit for bit.

``defer()`` makes those markers call their function directly, and puts a stand-in module at ``torch._dynamo``
whose ``graph_break`` does nothing; anything else asked of the stand-in (a ``torch.compile`` in a student's or
a grader's code, ``import torch._dynamo.<anything>``) imports the real torch._dynamo first, after giving every
marker back to torch's own path, so compiled code sees exactly what torch intends.

Used by the fork server before its first fork (a fresh worker's first optimizer or meta call no longer imports
the compiler) and by the grader process (the references' optimizers).
"""
from __future__ import annotations

import gc
import importlib
import sys
from types import FunctionType, ModuleType

_MARK = "__dynamo_disable"  # the attribute torch's marker caches the wrapped function under (torch/_compile.py)
_deferred: list[FunctionType] = []


NAME = "torch._dynamo"


class _StandIn(ModuleType):
    """``torch._dynamo`` until something needs the real one: its first other attribute imports it."""

    def graph_break(self) -> None:
        real = sys.modules.get(NAME)
        if real is not None and real is not self:  # someone kept this stand-in after the real import
            real.graph_break()

    def __getattr__(self, name: str) -> object:
        if name == "__path__":  # `import torch._dynamo.<submodule>`: a request for the real package
            return real_dynamo().__path__
        if name.startswith("__") and name.endswith("__"):
            # What tools ask of every module in sys.modules (inspect.getmodule reads each one's __file__, in the
            # middle of other imports): not a request for the compiler, and importing it there would be circular.
            raise AttributeError(name)
        return getattr(real_dynamo(), name)


_stand_in = _StandIn(NAME, "stand-in for torch._dynamo until something compiles (gradeworker.lazydynamo)")


def _marked_functions() -> list[FunctionType]:
    import torch._compile
    probe = torch._compile._disable_dynamo(lambda: None)
    marker_code = probe.__code__
    found = []
    for obj in gc.get_objects():
        if type(obj) is FunctionType and obj.__code__ is marker_code and obj.__closure__:
            cell = dict(zip(obj.__code__.co_freevars, obj.__closure__)).get("fn")
            fn = cell.cell_contents if cell is not None else None
            if isinstance(fn, FunctionType) and not hasattr(fn, _MARK):
                found.append(fn)
    return found


def defer() -> int:
    """Keep torch._dynamo unimported until something compiles; returns how many never-compile markers call their
    function directly meanwhile (0: nothing done, torch._dynamo being imported already or torch not at all)."""
    torch = sys.modules.get("torch")
    if NAME in sys.modules or torch is None:
        return 0
    functions = _marked_functions()
    for fn in functions:
        setattr(fn, _MARK, fn)  # the marker finds its "wrapped" function cached: the function itself
    _deferred.extend(functions)
    sys.modules[NAME] = _stand_in
    vars(torch)["_dynamo"] = _stand_in  # what `import torch._dynamo; torch._dynamo.graph_break()` reads
    return len(functions)


def real_dynamo() -> ModuleType:
    """The real torch._dynamo, imported now if the stand-in is in its place (markers handed back first)."""
    if sys.modules.get(NAME) is _stand_in:
        while _deferred:
            fn = _deferred.pop()
            if getattr(fn, _MARK, None) is fn:
                delattr(fn, _MARK)
        del sys.modules[NAME]
        torch = sys.modules["torch"]
        if getattr(torch, "_dynamo", None) is _stand_in:
            del torch._dynamo
        importlib.import_module(NAME)  # sets torch._dynamo to the real module, as any import does
    return sys.modules[NAME]

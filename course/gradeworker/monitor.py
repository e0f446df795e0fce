"""Catch forbidden library calls while a student's function runs.

A profile hook sees every call, whichever name the student reached the function by (``F.softmax``,
``from torch import softmax``, ``X.softmax(1)``, an alias kept in a global): C functions arrive as
``c_call`` events carrying the function object, Python functions as ``call`` events carrying their
code object. The hook only records; the trusted side decides what a recorded call costs.

Forbidden names are written as in the curriculum: ``torch.linalg.lstsq``, ``F.softmax``,
``nn.Softmax``, ``Tensor.softmax``, ``numpy.linalg.pinv``, ``torch.nn.grad.*``, ``torch.ops.aten.*softmax``.

A C function called from C (``functools.partial(torch.softmax)``, ``map``, TorchScript, a thread
started before the hook) raises no profile event: for torch operators the check at PyTorch's
dispatcher (``dispatch``) sees those, and ``prepare`` joins the two. The hook stays for what is not a
torch operator (NumPy, SciPy, Python-level helpers). Modules not imported when the worker is
prepared (SciPy) are resolved at the first monitored call after the notebook imported them.
"""
from __future__ import annotations

import importlib
import inspect
import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Any

from . import dispatch  # imported with the worker, before its filesystem walls go up

# Taken before any student code runs: replacing sys.setprofile later does not change what the monitor calls.
_setprofile, _getprofile, _thread_setprofile = sys.setprofile, sys.getprofile, threading.setprofile

_ALIASES = {"F.": "torch.nn.functional.", "nn.": "torch.nn.", "np.": "numpy.", "Tensor.": "torch.Tensor."}


def _resolve(dotted: str) -> Any:
    """Import the longest module prefix of ``dotted`` and walk the rest as attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


def _codes_of(obj: Any) -> list[types.CodeType]:
    """The code objects whose execution means ``obj`` was used."""
    if inspect.isclass(obj):
        codes = []
        for attr in ("__init__", "forward", "step"):
            fn = obj.__dict__.get(attr)
            if fn is not None:
                codes += _codes_of(fn)
        return codes
    fn = inspect.unwrap(getattr(obj, "_implementation", obj))
    code = getattr(fn, "__code__", None)
    return [code] if code is not None else []


@dataclass
class ForbiddenSet:
    """Forbidden callables resolved in this process, keyed back to the curriculum's names."""

    builtins: dict[int, str] = field(default_factory=dict)  # id(builtin function) -> name
    codes: dict[types.CodeType, str] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)  # Tensor method name -> name
    ops: dict[str, str] = field(default_factory=dict)  # ATen operator base name -> name
    keep_alive: list = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # their module was not imported yet (SciPy)
    replaced: list[str] = field(default_factory=list)  # resolved late, to code from outside their package

    @classmethod
    def from_names(cls, names: list[str]) -> "ForbiddenSet":
        fs = cls()
        for name in names:
            fs._add(name)
        return fs

    def op_name(self, op: Any) -> str | None:
        """How to name a ``torch.ops.aten.<op>`` call of a forbidden operation (``aten::_softmax`` is softmax)."""
        qualified = str(getattr(op, "_qualified_op_name", None) or getattr(op, "__name__", ""))
        name = self.ops.get(_op_base(qualified))
        if name is None:
            return None
        short = qualified.split("::")[-1].split(".")[0]
        return f"torch.ops.aten.{short} (the operator behind {name})"

    def subset(self, names: list[str]) -> "ForbiddenSet":
        """The part of this set named in ``names`` (already resolved: safe after student code ran)."""
        wanted = set(names)
        return ForbiddenSet(
            builtins={k: v for k, v in self.builtins.items() if v in wanted},
            codes={k: v for k, v in self.codes.items() if v in wanted},
            methods={k: v for k, v in self.methods.items() if v in wanted},
            ops={k: v for k, v in self.ops.items() if v in wanted},
            keep_alive=self.keep_alive,
            unresolved=[n for n in self.unresolved if n in wanted],
            replaced=[n for n in self.replaced if n in wanted],
        )

    def resolve_deferred(self) -> None:
        """Resolve the names whose module the notebook has imported since; code that does not come from
        that module's package means the notebook replaced the function (noted in ``replaced``)."""
        for name in [n for n in self.deferred if _full(n).split(".")[0] in sys.modules]:
            self.deferred.remove(name)
            top = sys.modules[_full(name).split(".")[0]]
            root = (getattr(top, "__file__", None) or "").rsplit("/", 1)[0] + "/"
            before = set(self.codes)
            self._add(name)
            if any(not code.co_filename.startswith(root) for code in set(self.codes) - before):
                self.replaced.append(name)

    def _add(self, name: str) -> None:
        full = _full(name)
        if full.startswith("torch.ops.aten.") and "*" in full:
            return  # a pattern of ATen operators: the dispatcher's check (``dispatch``) reads it
        if full.split(".")[0] not in sys.modules and not full.startswith("torch."):
            self.deferred.append(name)  # importing SciPy in every worker costs 0.3 s: wait for the notebook to
            return
        last = full.rsplit(".", 1)[1]
        if full.startswith("torch.") and not last.startswith("*") and last.lstrip("_")[:1].islower():
            self.ops.setdefault(_op_base(last), name)  # the same operation reached through torch.ops.aten
        if full.startswith("torch.Tensor."):
            self.methods[last] = name
            return
        try:
            targets = self._targets(full)
        except (ImportError, AttributeError):
            self.unresolved.append(name)  # e.g. numpy absent: nothing to catch
            return
        for obj in targets:
            self.keep_alive.append(obj)
            codes = _codes_of(obj)
            for code in codes:
                self.codes[code] = name
            if not codes and callable(obj):
                self.builtins[id(obj)] = name

    @staticmethod
    def _targets(full: str) -> list[Any]:
        if full.endswith(".*"):
            module = importlib.import_module(full[:-2])
            return [v for k, v in vars(module).items() if callable(v) and not k.startswith("_")
                    and getattr(v, "__module__", None) == module.__name__]
        return [_resolve(full)]


def _full(name: str) -> str:
    for short, long in _ALIASES.items():
        if name.startswith(short):
            return long + name[len(short):]
    return name


def _op_base(name: str) -> str:
    """``aten::_log_softmax.default`` -> ``log_softmax``; ``linalg_lstsq`` -> ``lstsq``."""
    base = name.split("::")[-1].split(".")[0].lstrip("_")
    for prefix in ("linalg_", "special_"):
        base = base.removeprefix(prefix)
    return base


def _op_call_codes() -> set[types.CodeType]:
    """The Python frames every ``torch.ops`` call goes through (packet and overload)."""
    try:
        from torch._ops import OpOverload, OpOverloadPacket
    except ImportError:
        return set()
    return {cls.__call__.__code__ for cls in (OpOverload, OpOverloadPacket) if hasattr(cls.__call__, "__code__")}


_OP_CALL_CODES = frozenset(_op_call_codes() if "torch" in sys.modules else ())


class CallMonitor:
    """Context manager recording forbidden calls made on any thread while it is active.

    ``CallMonitor(forbidden_set)`` watches with the profile hook alone; ``prepare`` builds monitors that
    take the whole set and a task's names, and also arm the dispatcher's check (``arm``/``disarm``).
    """

    def __init__(self, forbidden: ForbiddenSet, names: list[str] | None = None, arm: Any = None, disarm: Any = None):
        if names is not None:
            forbidden.resolve_deferred()
            forbidden = forbidden.subset(names)
        self.forbidden = forbidden
        self.names, self._arm, self._disarm = names, arm, disarm
        self.seen: list[str] = [f"{n} (replaced by the notebook)" for n in forbidden.replaced]
        self.tampered = False
        self._tensor_type = sys.modules["torch"].Tensor if "torch" in sys.modules else None
        self._active = bool(forbidden.codes or forbidden.builtins or forbidden.methods or forbidden.ops)
        self._bound_hook = self._hook  # one bound-method object, so identity checks work
        self._closing = False  # set while __exit__ removes the hook itself

    def _hook(self, frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "call":
            name = self.forbidden.codes.get(frame.f_code)
            if name is None and frame.f_code in _OP_CALL_CODES:
                name = self.forbidden.op_name(frame.f_locals.get("self"))
        elif event == "c_call":
            if (arg is _setprofile or arg is _thread_setprofile) and not self._closing:
                self.tampered = True  # even if it puts the hook back before returning
                return
            name = self.forbidden.builtins.get(id(arg))
            if name is None and self.forbidden.methods:
                owner = getattr(arg, "__self__", None)
                if self._tensor_type is not None and isinstance(owner, self._tensor_type):
                    name = self.forbidden.methods.get(getattr(arg, "__name__", ""))
        else:
            return
        if name is not None and name not in self.seen:
            self.seen.append(name)

    def __enter__(self) -> "CallMonitor":
        if self._arm is not None:
            self._arm(self.names)
        if self._active:
            _thread_setprofile(self._bound_hook)
            _setprofile(self._bound_hook)
        return self

    def __exit__(self, *exc: Any) -> None:
        # A student function that switched the hook off cannot be trusted to have obeyed the rules.
        if self._active and _getprofile() is not self._bound_hook:
            self.tampered = True
        self._closing = True
        _setprofile(None)
        _thread_setprofile(None)
        if self._disarm is not None:
            at_dispatch = self._disarm()
            if not self.seen:  # the hook names calls as written; the dispatcher adds what it could not see
                self.seen += at_dispatch


def prepare(names: list[str]) -> tuple[Any, list[str]]:
    """Resolve the forbidden ``names`` and install the dispatcher's check, before any student code runs.

    Returns ``monitor_for(task_names)``, which builds the monitor of one call, and the names not resolved.
    Everything it uses is a private copy taken now (``_sealed``) or a closure cell: replacing this module's
    classes, methods or globals later (``sys.modules['gradeworker.monitor']``) changes none of it.
    """
    sealed_set, sealed_monitor = _sealed()
    forbidden = sealed_set.from_names(names)  # type: ignore[attr-defined]
    arm, disarm = dispatch.install(names)

    def monitor_for(task_names: list[str]) -> CallMonitor:
        return sealed_monitor(forbidden, list(task_names), arm, disarm)

    return monitor_for, list(forbidden.unresolved)


def _sealed() -> tuple[type, type]:
    """Copies of ForbiddenSet and CallMonitor whose methods read a snapshot of this module's globals."""
    snapshot = dict(globals())
    copies = {}
    for cls in (ForbiddenSet, CallMonitor):
        body = {}
        for key, value in vars(cls).items():
            if key in ("__dict__", "__weakref__"):
                continue
            if isinstance(value, (classmethod, staticmethod)):
                value = type(value)(_rebound(value.__func__, snapshot))  # type: ignore[arg-type]
            elif isinstance(value, types.FunctionType):
                value = _rebound(value, snapshot)
            body[key] = value
        copies[cls.__name__] = type(cls.__name__, cls.__bases__, body)
    snapshot.update(copies)
    return copies["ForbiddenSet"], copies["CallMonitor"]


def _rebound(fn: types.FunctionType, namespace: dict) -> types.FunctionType:
    copy = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    return copy

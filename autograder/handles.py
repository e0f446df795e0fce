"""Proxies for student code in the worker: functions called with plain data, objects behind handles.

Graders see them through ``student`` (a ``remote.Submission``): ``student.linreg(X, w, b)`` is a
``RemoteFunction`` call; a module the student builds comes back as a ``RemoteObject``. An object
inherits the forbidden calls of the task whose code made it, so every method of it that the grader
calls (``net(X)``, ``opt.call("step")``) is monitored as that task's function is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import torch

from gradeworker import codec
from gradeworker.protocol import Op

from .errors import WorkerLost

if TYPE_CHECKING:
    from .remote import Submission


@dataclass
class CallResult:
    value: Any
    grads: list | None = None
    grad_error: str | None = None
    args_after: list | None = None
    seconds: float = 0.0
    exhausted: bool | None = None
    cut_short: bool = False  # stopped at its soft time budget (``run(..., soft_timeout=S)``)


class RemoteFunction:
    """A student's function (or a remote object's method), called with plain data."""

    def __init__(self, submission: Submission, target: Any, forbidden: list[str], timeout: float | None = None,
                 method: str | None = None, label: str | None = None, device_probe: bool = True):
        self.submission, self.target, self.forbidden, self.timeout = submission, target, forbidden, timeout
        self.method = method
        self.label = label or (target if isinstance(target, str) else f"{method}")
        self.device_probe = device_probe

    def with_timeout(self, seconds: float) -> "RemoteFunction":
        return RemoteFunction(self.submission, self.target, self.forbidden, seconds, self.method, self.label,
                              self.device_probe)

    def without_device_probe(self) -> "RemoteFunction":
        """The same function, its calls never repeated on the meta device: for a grader's calls it knows to be long
        training loops, whose repeat there never ends within its allowance (the function's shorter calls in the
        other tests are probed)."""
        return RemoteFunction(self.submission, self.target, self.forbidden, self.timeout, self.method, self.label,
                              False)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.run(args, kwargs).value

    def handle(self, *args: Any, **kwargs: Any) -> "RemoteObject":
        """Call, and keep the result in the worker (e.g. a list of parameters to pass on later)."""
        return self.run(args, kwargs, ret="handle").value

    def collect(self, *args: Any, limit: int = 10_000, **kwargs: Any) -> tuple[list, bool]:
        """Call, then iterate the result in the worker: (up to ``limit`` items, whether it ran out)."""
        result = self.run(args, kwargs, collect=limit)
        return result.value, bool(result.exhausted)

    def collect_repeated(self, times: int, *args: Any, limit: int = 10_000, **kwargs: Any) -> tuple[list[list], bool]:
        """``collect`` made ``times`` times in one request (each call on fresh copies of the arguments):
        the lists of items, and whether every call ran out. For graders that need many draws."""
        result = self.run(args, kwargs, collect=limit, repeat=times)
        return result.value, bool(result.exhausted)

    def run(self, args: tuple = (), kwargs: dict | None = None, *, ret: str = "value", wrt: list[int] | None = None,
            grad_output: Any = None, return_args: bool = False, collect: int | None = None,
            soft_timeout: float | None = None, repeat: int | None = None,
            on_progress: Callable[[Any], None] | None = None) -> CallResult:
        """Call with every option: gradients w.r.t. positional args ``wrt``, the arguments after the call
        (``return_args``), the result iterated in the worker (``collect`` items at most), or a time budget
        after which the student's code is interrupted and the call reported ``cut_short`` (``soft_timeout``;
        give ``timeout`` some seconds more); ``on_progress`` receives the call's interim replies (a training
        run's weights from ``toolbox.WeightSnapshots``)."""
        # The first plain call of each function in a test is made again on the meta device (device_probe).
        probe = (self.device_probe and ret == "value"
                 and not (wrt or return_args or collect or soft_timeout or repeat or on_progress)
                 and self.submission.wants_device_probe(self.label, probe_key(args, kwargs)))
        reply = self.submission.request(
            Op.CALL, self.label, timeout=self.timeout, inherit=self.forbidden, forbidden=self.forbidden,
            target=self.target, method=self.method, args=list(args), kwargs=kwargs or {}, ret=ret, wrt=wrt,
            grad_output=grad_output, return_args=return_args, collect=collect, soft_timeout=soft_timeout,
            repeat=repeat, on_progress=on_progress,
            **({"probe_device": True} if probe else {}))
        self.submission.raise_for(self.label, reply)
        if probe:
            self.submission.record_device_probe(self.label, reply.device_probe, probe_key(args, kwargs))
        return CallResult(reply.value, reply.grads, reply.grad_error, reply.args_after, float(reply.seconds),
                          reply.exhausted, reply.cut_short)


def probe_key(args: tuple, kwargs: dict | None) -> tuple:
    """What a device probe's verdict may depend on, besides the code: each tensor's number of dimensions, dtype and
    emptiness (a 0-d CPU tensor mixes with any device; an empty one skips loops), and every plain value as it is
    (``dropout == 1`` branches). Calls alike in these get the same verdict (``Submission.device_verdicts``)."""
    def key(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return ("tensor", value.dim(), str(value.dtype), value.numel() == 0)
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (list, tuple)):
            return (type(value).__name__, len(value), *(key(v) for v in value[:8]))
        if isinstance(value, dict):
            return ("dict", *sorted((str(k), key(v)) for k, v in list(value.items())[:8]))
        return type(value).__name__
    return key(tuple(args)), key(dict(kwargs or {}))


class RemoteObject:
    """An object that lives in the worker (a module, a generator, a list of parameters...)."""

    def __init__(self, submission: Submission, handle: codec.Handle, generation: int, forbidden: list[str]):
        self.submission, self.handle, self.generation = submission, handle, generation
        self.forbidden = list(forbidden)  # the calls its methods must not make (its task's)

    @property
    def type(self) -> str:
        return self.handle.type

    def __repr__(self) -> str:
        return f"<remote {self.handle.type}: {self.handle.repr[:80]}>"

    def _request(self, op: Op, label: str, **fields: Any) -> Any:
        reply = self.submission.request(op, label, inherit=self.forbidden, **fields)
        self.submission.raise_for(label, reply)
        return reply

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.method("__call__", label=self.handle.type.rsplit(".", 1)[-1])(*args, **kwargs)

    def method(self, name: str, forbidden: list[str] | None = None, label: str | None = None,
               timeout: float | None = None) -> RemoteFunction:
        short = self.handle.type.rsplit(".", 1)[-1]
        chosen = self.forbidden if forbidden is None else forbidden
        return RemoteFunction(self.submission, self, chosen, timeout, name, label or f"{short}.{name}")

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.method(name)(*args, **kwargs)

    def get(self) -> Any:
        return self._request(Op.GET, f"reading {self.handle.type}", handle=self).value

    def attr(self, name: str, handle: bool = False) -> Any:
        return self._request(Op.GETATTR, f"reading .{name}", handle=self, name=name,
                             ret="handle" if handle else "value").value

    def set(self, name: str, value: Any) -> None:
        self._request(Op.SETATTR, f"setting .{name}", handle=self, name=name, value=value)

    def __getitem__(self, key: Any) -> "RemoteObject":
        return self._request(Op.GETITEM, "indexing", handle=self, key=key).value

    def describe(self) -> dict:
        return self._request(Op.DESCRIBE, f"describing {self.handle.type}", handle=self).value

    def iterate(self, limit: int, forbidden: list[str] | None = None, label: str = "iterating") -> tuple[list, bool]:
        """Up to ``limit`` items from iterating the object (monitored as its task); whether it ran out."""
        reply = self.submission.request(Op.ITERATE, label, inherit=self.forbidden, handle=self, limit=limit,
                                        forbidden=self.forbidden if forbidden is None else forbidden)
        self.submission.raise_for(label, reply)
        return reply.value, bool(reply.exhausted)


def unwrap(value: Any, generation: int) -> Any:
    if isinstance(value, RemoteObject):
        if value.generation != generation:
            raise WorkerLost("a value from an earlier worker", "the worker was restarted since it was made")
        return value.handle
    if isinstance(value, list):
        return [unwrap(v, generation) for v in value]
    if isinstance(value, tuple):
        return tuple(unwrap(v, generation) for v in value)
    if isinstance(value, dict):
        return {k: unwrap(v, generation) for k, v in value.items()}
    return value


def wrap(value: Any, submission: Submission, generation: int, forbidden: list[str]) -> Any:
    """Handles in a reply become RemoteObjects that keep the forbidden calls of the code that made them."""
    if isinstance(value, codec.Handle):
        return RemoteObject(submission, value, generation, forbidden)
    if isinstance(value, list):
        return [wrap(v, submission, generation, forbidden) for v in value]
    if isinstance(value, tuple):
        return tuple(wrap(v, submission, generation, forbidden) for v in value)
    if isinstance(value, dict):
        return {k: wrap(v, submission, generation, forbidden) for k, v in value.items()}
    return value

"""Proxies for student code in the worker: functions called with plain data, objects behind handles.

Graders see them through ``student`` (a ``remote.Submission``): ``student.linreg(X, w, b)`` is a
``RemoteFunction`` call; a module the student builds comes back as a ``RemoteObject``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gradeworker import codec

from .failures import WorkerLost

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


class RemoteFunction:
    """A student's function (or a remote object's method), called with plain data."""

    def __init__(self, submission: Submission, target: Any, forbidden: list[str], timeout: float | None = None,
                 method: str | None = None, label: str | None = None):
        self.submission, self.target, self.forbidden, self.timeout = submission, target, forbidden, timeout
        self.method = method
        self.label = label or (target if isinstance(target, str) else f"{method}")

    def with_timeout(self, seconds: float) -> "RemoteFunction":
        return RemoteFunction(self.submission, self.target, self.forbidden, seconds, self.method, self.label)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.run(args, kwargs).value

    def handle(self, *args: Any, **kwargs: Any) -> "RemoteObject":
        """Call, and keep the result in the worker (e.g. a list of parameters to pass on later)."""
        return self.run(args, kwargs, ret="handle").value

    def collect(self, *args: Any, limit: int = 10_000, **kwargs: Any) -> tuple[list, bool]:
        """Call, then iterate the result in the worker: (up to ``limit`` items, whether it ran out)."""
        result = self.run(args, kwargs, collect=limit)
        return result.value, bool(result.exhausted)

    def run(self, args: tuple = (), kwargs: dict | None = None, *, ret: str = "value", wrt: list[int] | None = None,
            grad_output: Any = None, return_args: bool = False, collect: int | None = None) -> CallResult:
        """Call with every option: gradients w.r.t. positional args ``wrt``, the arguments after the call
        (``return_args``), or the result iterated in the worker (``collect`` items at most)."""
        reply = self.submission.request(
            "call", self.label, timeout=self.timeout, target=self.target, method=self.method, args=list(args),
            kwargs=kwargs or {}, ret=ret, wrt=wrt, grad_output=grad_output, forbidden=self.forbidden,
            return_args=return_args, collect=collect)
        self.submission.raise_for(self.label, reply)
        return CallResult(reply["value"], reply.get("grads"), reply.get("grad_error"), reply.get("args_after"),
                          float(reply.get("seconds") or 0.0), reply.get("exhausted"))


class RemoteObject:
    """An object that lives in the worker (a module, a generator, a list of parameters...)."""

    def __init__(self, submission: Submission, handle: codec.Handle, generation: int):
        self.submission, self.handle, self.generation = submission, handle, generation

    @property
    def type(self) -> str:
        return self.handle.type

    def __repr__(self) -> str:
        return f"<remote {self.handle.type}: {self.handle.repr[:80]}>"

    def _request(self, op: str, label: str, **fields: Any) -> dict:
        reply = self.submission.request(op, label, **fields)
        self.submission.raise_for(label, reply)
        return reply

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.method("__call__", label=self.handle.type.rsplit(".", 1)[-1])(*args, **kwargs)

    def method(self, name: str, forbidden: list[str] | None = None, label: str | None = None,
               timeout: float | None = None) -> RemoteFunction:
        short = self.handle.type.rsplit(".", 1)[-1]
        return RemoteFunction(self.submission, self, forbidden or [], timeout, name, label or f"{short}.{name}")

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.method(name)(*args, **kwargs)

    def get(self) -> Any:
        return self._request("get", f"reading {self.handle.type}", handle=self)["value"]

    def attr(self, name: str, handle: bool = False) -> Any:
        return self._request("getattr", f"reading .{name}", handle=self, name=name,
                             ret="handle" if handle else "value")["value"]

    def set(self, name: str, value: Any) -> None:
        self._request("setattr", f"setting .{name}", handle=self, name=name, value=value)

    def __getitem__(self, key: Any) -> "RemoteObject":
        return self._request("getitem", "indexing", handle=self, key=key)["value"]

    def describe(self) -> dict:
        return self._request("describe", f"describing {self.handle.type}", handle=self)["value"]

    def iterate(self, limit: int, forbidden: list[str] | None = None, label: str = "iterating") -> tuple[list, bool]:
        """Up to ``limit`` items from iterating the object; and whether it was exhausted."""
        reply = self._request("iterate", label, handle=self, limit=limit, forbidden=forbidden or [])
        return reply["value"], bool(reply["exhausted"])


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


def wrap(value: Any, submission: Submission, generation: int) -> Any:
    if isinstance(value, codec.Handle):
        return RemoteObject(submission, value, generation)
    if isinstance(value, list):
        return [wrap(v, submission, generation) for v in value]
    if isinstance(value, tuple):
        return tuple(wrap(v, submission, generation) for v in value)
    if isinstance(value, dict):
        return {k: wrap(v, submission, generation) for k, v in value.items()}
    return value

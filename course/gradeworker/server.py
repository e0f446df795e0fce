"""The worker: runs a student's notebook code and answers the grader's requests.

Everything in this process is untrusted once the first student cell has run. It never sees the
hidden tests or the reference solutions, only the inputs the grader chooses to send; it answers with
plain data (see ``codec``) and keeps every other object behind a handle.
"""
from __future__ import annotations

import inspect
import os
import random
import signal
import socket
import sys
import time
import traceback
import types
from typing import Any

import torch

from . import codec, toolbox
from .monitor import CallMonitor, ForbiddenSet
from .sandbox import apply_limits, isolation_report, reachable


class CellTimeout(BaseException):
    """A notebook cell ran longer than the load budget allows (BaseException: not caught by accident)."""


def _error(exc: BaseException, skip_frames: int = 0) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)[skip_frames:]
    # Only the student's frames matter to a student: those of code compiled from notebook cells (none
    # when a library call or a missing attribute failed directly; the message says enough then).
    student = [f for f in frames if f.filename.startswith("<cell ")]
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "traceback": "".join(traceback.format_list(student))[-4000:],
    }


class Worker:
    def __init__(self, chan: socket.socket, config: dict):
        self.chan = chan
        self.config = config
        self.ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
        self.handles: dict[int, Any] = {}
        self.handle_of: dict[int, int] = {}  # id(obj) -> handle id; objects are kept alive by `handles`
        self.forbidden = ForbiddenSet()

    # ----- handles -------------------------------------------------------------------------
    def to_handle(self, obj: Any) -> codec.Handle:
        hid = self.handle_of.get(id(obj))
        if hid is None or self.handles.get(hid) is not obj:
            hid = len(self.handles) + 1
            while hid in self.handles:
                hid += 1
            self.handles[hid] = obj
            self.handle_of[id(obj)] = hid
        try:
            text = repr(obj)[:500]
        except Exception:  # a student's __repr__ may raise; it is only a label
            text = "<unprintable>"
        return codec.Handle(hid, f"{type(obj).__module__}.{type(obj).__qualname__}", text)

    def resolve(self, value: Any) -> Any:
        """Replace handles in a decoded request by the objects they stand for."""
        if isinstance(value, codec.Handle):
            if value.id not in self.handles:
                raise KeyError(f"unknown handle {value.id}")
            return self.handles[value.id]
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def send(self, message: dict) -> None:
        try:
            data = codec.encode(message, self.to_handle)
        except Exception as exc:  # a result we cannot send (odd dtype, a student __repr__ raising, ...)
            data = codec.encode({"ok": False, "error": {"type": "ReturnValueError", "traceback": "",
                                                        "message": f"the result could not be sent back: {exc}"}})
        self.chan.sendall(data)

    # ----- requests ------------------------------------------------------------------------
    def serve(self) -> None:
        self.send({"ok": True, "pid": os.getpid(), "isolation": isolation_report()})
        while True:
            try:
                request = codec.read_message(self.chan.recv)
            except EOFError:
                return
            op = request.get("op") if isinstance(request, dict) else None
            handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
            if handler is None:
                self.send({"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}",
                                                  "traceback": ""}})
                continue
            try:
                reply = handler(**{k: v for k, v in request.items() if k != "op"})
            except Exception as exc:  # a bad request or a student object misbehaving in a query
                reply = {"ok": False, "error": _error(exc)}
            self.send(reply)

    def op_prepare(self, forbidden: list[str], private_modules: list[str] = ()) -> dict:
        # Resolve the forbidden functions before any student code can replace them.
        self.forbidden = ForbiddenSet.from_names(forbidden)
        return {"ok": True, "unresolved": self.forbidden.unresolved, "reachable": reachable(list(private_modules))}

    def op_load(self, cells: list[dict], cell_timeout: float) -> dict:
        report = []
        signal.signal(signal.SIGALRM, _raise_cell_timeout)
        for cell in cells:
            started = time.perf_counter()
            entry = {"index": cell["index"], "ok": True, "error": None}
            try:
                code = compile(cell["source"], f"<cell {cell['index']}>", "exec")
                signal.setitimer(signal.ITIMER_REAL, cell_timeout)
                try:
                    exec(code, self.ns)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except CellTimeout:
                entry.update(ok=False, error={"type": "CellTimeout", "traceback": "",
                                              "message": f"the cell ran for more than {cell_timeout:g} s"})
            except BaseException as exc:  # SystemExit and KeyboardInterrupt included: note it, go on
                entry.update(ok=False, error=_error(exc))
            entry["seconds"] = round(time.perf_counter() - started, 3)
            report.append(entry)
        return {"ok": True, "cells": report}

    def op_reseed(self, seed: int) -> dict:
        random.seed(seed)
        torch.manual_seed(seed)
        try:
            import numpy
            numpy.random.seed(seed % 2**32)
        except ImportError:
            pass
        return {"ok": True}

    def lookup(self, target: Any) -> Any:
        if isinstance(target, codec.Handle):
            return self.resolve(target)
        if target not in self.ns:
            raise LookupError(target)
        return self.ns[target]

    def op_call(self, target: Any, args: list, kwargs: dict, method: str | None = None, ret: str = "value",
                wrt: list[int] | None = None, grad_output: Any = None, forbidden: list[str] = (),
                return_args: bool = False, collect: int | None = None) -> dict:
        """Call a student function (or a method of a handle); ``collect``: iterate the result up to N items."""
        try:
            fn = self.lookup(target)
        except LookupError:
            return {"ok": False, "error": {"type": "MissingName", "message": str(target), "traceback": ""}}
        if method is not None:
            fn = getattr(fn, method)
        args, kwargs = self.resolve(args), self.resolve(kwargs)
        for i in wrt or []:
            args[i] = args[i].detach().requires_grad_(True)
        bind_error = _check_binding(fn, args, kwargs)
        if bind_error:
            return {"ok": False, "error": bind_error}
        monitor = CallMonitor(self.forbidden.subset(list(forbidden)))
        started = time.perf_counter()
        grads, grad_error = None, None
        exhausted = None
        try:
            with monitor:
                value = fn(*args, **kwargs)
                if wrt:
                    grads, grad_error = _grads(value, [args[i] for i in wrt], grad_output)
                if collect is not None:
                    value, exhausted = _collect(value, collect)
        except BaseException as exc:
            return {"ok": False, "error": _error(exc, skip_frames=1), "forbidden": monitor.seen,
                    "tampered": monitor.tampered}
        reply = {"ok": True, "forbidden": monitor.seen, "tampered": monitor.tampered, "exhausted": exhausted,
                 "seconds": time.perf_counter() - started, "grads": grads, "grad_error": grad_error,
                 "args_after": list(args) if return_args else None}
        reply["value"] = self.to_handle(value) if ret == "handle" else value
        return reply

    def op_put(self, value: Any, requires_grad: bool = False) -> dict:
        value = self.resolve(value)
        if requires_grad:
            value = value.detach().requires_grad_(True)
        return {"ok": True, "value": self.to_handle(value)}

    def op_get(self, handle: codec.Handle) -> dict:
        return {"ok": True, "value": self.resolve(handle)}

    def op_getattr(self, handle: codec.Handle, name: str, ret: str = "value") -> dict:
        value = getattr(self.resolve(handle), name)
        return {"ok": True, "value": self.to_handle(value) if ret == "handle" else value}

    def op_setattr(self, handle: codec.Handle, name: str, value: Any) -> dict:
        setattr(self.resolve(handle), name, self.resolve(value))
        return {"ok": True}

    def op_getitem(self, handle: codec.Handle, key: Any, ret: str = "handle") -> dict:
        value = self.resolve(handle)[key]
        return {"ok": True, "value": self.to_handle(value) if ret == "handle" else value}

    def op_construct(self, name: str, args: list, kwargs: dict) -> dict:
        """Build a helper object in the worker: ``toolbox.X``, or a class/function under ``gradeworker.``
        or ``torch.`` (never a student's name: the grader decides what it hands to student code)."""
        from .monitor import _resolve
        if name.startswith("toolbox."):
            factory = getattr(toolbox, name.split(".", 1)[1])
        elif name.startswith(("torch.", "gradeworker.")):
            factory = _resolve(name)
        else:
            raise ValueError(f"cannot construct {name!r} in the worker")
        return {"ok": True, "value": self.to_handle(factory(*self.resolve(args), **self.resolve(kwargs)))}

    def op_iterate(self, handle: codec.Handle, limit: int, forbidden: list[str] = ()) -> dict:
        monitor = CallMonitor(self.forbidden.subset(list(forbidden)))
        try:
            with monitor:
                items, exhausted = _collect(self.resolve(handle), limit)
        except BaseException as exc:
            return {"ok": False, "error": _error(exc), "forbidden": monitor.seen}
        return {"ok": True, "value": items, "exhausted": exhausted, "forbidden": monitor.seen,
                "tampered": monitor.tampered}

    def op_describe(self, handle: codec.Handle) -> dict:
        return {"ok": True, "value": toolbox.describe(self.resolve(handle))}

    def op_signature(self, name: str) -> dict:
        fn = self.lookup(name)
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return {"ok": True, "value": None}
        return {"ok": True, "value": {"text": f"{name}{sig}", "params": [
            [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)[:200]]
            for p in sig.parameters.values()]}}

    def op_names(self) -> dict:
        return {"ok": True, "value": {k: type(v).__name__ for k, v in self.ns.items() if not k.startswith("__")}}

    def op_drop(self, handles: list[codec.Handle]) -> dict:
        for h in handles:
            obj = self.handles.pop(h.id, None)
            if obj is not None:
                self.handle_of.pop(id(obj), None)
        return {"ok": True}


def _collect(iterable: Any, limit: int) -> tuple[list, bool]:
    """Up to ``limit`` items of ``iterable``, and whether it ran out (an endless generator is cut off)."""
    items, iterator = [], iter(iterable)
    for _ in range(limit):
        try:
            items.append(next(iterator))
        except StopIteration:
            return items, True
    return items, False


def _raise_cell_timeout(signum: int, frame: types.FrameType | None) -> None:
    raise CellTimeout()


def _check_binding(fn: Any, args: list, kwargs: dict) -> dict | None:
    """Say so plainly when the grader's call does not fit the student's signature."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        name = getattr(fn, "__name__", "the function")
        return {"type": "SignatureError", "traceback": "",
                "message": f"{name}{sig} cannot be called with {len(args)} positional argument(s)"
                           f"{' and ' + ', '.join(kwargs) if kwargs else ''}: {exc}"}
    return None


def _grads(value: Any, inputs: list[torch.Tensor], grad_output: Any) -> tuple[list | None, str | None]:
    if not isinstance(value, torch.Tensor):
        return None, f"the result is a {type(value).__name__}, not a tensor"
    if not value.requires_grad:
        return None, ("the result is not connected to the inputs' autograd graph (was .detach(), .item(), "
                      ".numpy(), torch.no_grad() or a new tensor used on the way?)")
    if grad_output is None:
        grad_output = torch.ones_like(value)
    grads = torch.autograd.grad(value, inputs, grad_outputs=grad_output, allow_unused=True)
    return list(grads), None


def run_worker(chan_fd: int, config: dict) -> None:
    """Entry point of one worker process (after the fork server forked it, or started directly)."""
    os.chdir(config["workdir"])
    os.environ.update(HOME=config["workdir"], TMPDIR=config["workdir"])
    apply_limits(config.get("limits", {}))
    if config.get("threads"):
        torch.set_num_threads(int(config["threads"]))
    # Same arithmetic as the reference: TF32 would blur float32 results on recent GPUs.
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    chan = socket.socket(fileno=chan_fd)
    Worker(chan, config).serve()
    sys.stdout.flush()

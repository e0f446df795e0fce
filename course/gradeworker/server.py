"""The worker: runs a student's notebook code and answers the grader's requests.

Everything in this process is untrusted once the first student cell has run. It never sees the
hidden tests or the reference solutions, only the inputs the grader chooses to send; it answers with
plain data (see ``codec``) and keeps every other object behind a handle.
"""
from __future__ import annotations

import importlib
import inspect
import os
import random
import signal
import socket
import sys
import tempfile
import time
import traceback
import types
from typing import Any, Callable, Iterable

import torch

from . import codec, deviceprobe, jail, lazydynamo, toolbox
from .monitor import CallMonitor, ForbiddenSet
from .monitor import prepare as prepare_monitor
from .protocol import ErrorKind, Op, Reply, error_reply
from .reach import reachable, whereabouts
from .seeding import seed_torch
from .walls import Wall

# What SERVE may be asked to import (and imports when not told: what every loaded worker imported before).
SERVE_IMPORTS = ("torch._dynamo",)
PROBE_BASE_SECONDS = 0.25  # the device probe's allowance beyond 3x the call's own time (_probe_device)


class CellTimeout(BaseException):
    """A notebook cell ran longer than the load budget allows (BaseException: not caught by accident)."""


def _error(exc: BaseException, skip_frames: int = 0) -> dict:
    """An exception as the protocol's error fields: class name, message, the student's frames."""
    frames = traceback.extract_tb(exc.__traceback__)[skip_frames:]
    # Only the student's frames matter to a student: those of code compiled from notebook cells (none
    # when a library call or a missing attribute failed directly; the message says enough then).
    student = [f for f in frames if f.filename.startswith("<cell ")]
    try:
        message = str(exc)[:2000]
    except Exception:  # a student's exception whose __str__ raises
        message = "<unprintable>"
    return {"exc_type": type(exc).__name__, "message": message,
            "traceback": "".join(traceback.format_list(student))[-4000:]}


class BudgetExceeded(BaseException):
    """A call ran past its soft time budget (a training run); raised inside the student's code."""


class Worker:
    """Serves one channel: loads the notebook cell by cell (``load``), then serves the tests (``serve``)."""

    def __init__(self, chan: socket.socket, config: dict):
        self.chan = chan
        self.config = config
        self.ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
        self.handles: dict[int, Any] = {}
        self.handle_of: dict[int, int] = {}  # id(obj) -> handle id; objects are kept alive by `handles`
        self.monitor_for = lambda names: CallMonitor(ForbiddenSet())  # replaced in `prepare`
        self.request_id = 0
        toolbox.progress_sink = self.send_progress  # how the harness's instruments report during a call

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

    def reply(self, ok: bool = True, **fields: Any) -> Reply:
        return Reply(self.request_id, ok, **fields)

    def send(self, reply: Reply) -> None:
        try:
            data = codec.encode(reply.to_wire(), self.to_handle)
        except Exception as exc:  # a result we cannot send (odd dtype, a student __repr__ raising, ...)
            failed = error_reply(reply.id, ErrorKind.UNSENDABLE, type(exc).__name__,
                                 f"the result could not be sent back: {exc}", forbidden=reply.forbidden,
                                 tampered=reply.tampered)
            data = codec.encode(failed.to_wire())
        self.chan.sendall(data)

    def send_progress(self, value: Any) -> None:
        """An interim reply to the request being served (the caller reads it before the final one)."""
        self.send(self.reply(value=value, progress=True))

    # ----- requests ------------------------------------------------------------------------
    def serve(self) -> None:
        self.send(self.reply(value={"pid": os.getpid(),
                                    "isolation": {**whereabouts(),
                                                  "walls": [w.value for w in self.config.get("walls", [])]}}))
        while True:
            try:
                request = codec.read_message(self.chan.recv)
            except EOFError:
                return
            op = request.get("op") if isinstance(request, dict) else None
            self.request_id = request.get("id", -1) if isinstance(request, dict) else -1
            try:
                handler = getattr(self, f"op_{Op(op).value}")
            except ValueError:
                self.send(error_reply(self.request_id, ErrorKind.BAD_REQUEST, "ProtocolError", f"unknown op {op!r}"))
                continue
            try:
                if request.get("reseed") is not None:  # a test's seed rides on its first request
                    self.op_reseed(int(request["reseed"]))
                reply = handler(**{k: v for k, v in request.items() if k not in ("op", "id", "reseed")})
            except Exception as exc:  # a bad request or a student object misbehaving in a query
                reply = error_reply(self.request_id, ErrorKind.STUDENT_EXCEPTION, **_error(exc))
            self.send(reply)

    def op_prepare(self, forbidden: list[str], private_modules: tuple[str, ...] | list[str] = ()) -> Reply:
        # Resolve the forbidden functions and install the dispatcher's check before any student code runs.
        self.monitor_for, unresolved = prepare_monitor(list(forbidden))
        return self.reply(value={"unresolved": unresolved,
                                 "reachable": reachable(list(private_modules))})

    def op_load(self, cells: list[dict], cell_timeout: float) -> Reply:
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
                entry.update(ok=False, timed_out=True, error={
                    "type": "CellTimeout", "traceback": "",
                    "message": f"the cell ran for more than {cell_timeout:g} s"})
            except BaseException as exc:  # SystemExit and KeyboardInterrupt included: note it, go on
                entry.update(ok=False, error=_error(exc))
            entry["seconds"] = round(time.perf_counter() - started, 3)
            report.append(entry)
        return self.reply(value={"cells": report})

    def op_serve(self, imports: Iterable[str] = SERVE_IMPORTS) -> Reply:
        """The notebook is loaded: from here on this process runs the tests itself, and starts no process.

        Serving in place rather than forking a copy per worker saves a fork and its exit (~17 ms of
        page tables for a process that holds torch) and the copy's second round of copy-on-write faults;
        a test that loses this process gets a new one that loads the notebook again (its good cells).
        ``imports``: modules torch imports lazily that the grader expects the tests to need (``torch.compile``
        needs the real torch._dynamo, ~1.5 s, in place of the fork server's stand-in: ``lazydynamo``), imported
        now, outside any timed call and before the last wall."""
        for name in imports:
            if name not in SERVE_IMPORTS:
                raise ValueError(f"SERVE imports only {', '.join(SERVE_IMPORTS)}, not {name!r}")
            if name == lazydynamo.NAME:
                lazydynamo.real_dynamo()
            elif name not in sys.modules:
                importlib.import_module(name)
        if not self.config.get("allow_fork"):
            jail.install_seccomp(deny_fork=True)
        return self.reply()

    def op_reseed(self, seed: int) -> Reply:
        random.seed(seed)
        seed_torch(seed)
        try:
            import numpy
            numpy.random.seed(seed % 2**32)
        except ImportError:
            pass
        return self.reply()

    def lookup(self, target: Any) -> Any:
        if isinstance(target, codec.Handle):
            return self.resolve(target)
        if target not in self.ns:
            raise LookupError(target)
        return self.ns[target]

    def op_call(self, target: Any, args: list, kwargs: dict, method: str | None = None, ret: str = "value",
                wrt: list[int] | None = None, grad_output: Any = None, forbidden: tuple[str, ...] | list[str] = (),
                return_args: bool = False, collect: int | None = None, soft_timeout: float | None = None,
                repeat: int | None = None, probe_device: bool = False) -> Reply:
        """Call a student function (or a method of a handle); ``collect``: iterate the result up to N items;
        ``soft_timeout``: interrupt the student's code after that many seconds and report it cut short;
        ``repeat``: make the call that many times, each with fresh copies of the tensor arguments, in this one
        request (the value is the list of results; ``exhausted`` whether every one ran out);
        ``probe_device``: after the call, make it once more with its tensors on the meta device (``deviceprobe``) and
        reply what that gave as ``device_probe``."""
        if repeat is not None and (wrt or return_args or ret != "value" or not 0 < int(repeat) <= 100_000):
            return error_reply(self.request_id, ErrorKind.BAD_REQUEST, "ValueError",
                               "repeat takes 1..100000 calls returning values, without wrt or return_args")
        try:
            fn = self.lookup(target)
        except LookupError:
            return error_reply(self.request_id, ErrorKind.MISSING_NAME, "NameError", str(target))
        owner = fn if method is not None else None  # the object whose method is called (a module, an optimizer)
        if method is not None:
            fn = getattr(fn, method)
        sent = (args, kwargs)  # as decoded: a repeated call gets fresh copies of these tensors, not of handles
        args, kwargs = self.resolve(args), self.resolve(kwargs)
        for i in wrt or []:
            args[i] = args[i].detach().requires_grad_(True)
        bind_error = _check_binding(fn, args, kwargs)
        if bind_error:
            return error_reply(self.request_id, ErrorKind.SIGNATURE_MISMATCH, "TypeError", bind_error)
        monitor = self.monitor_for(forbidden)
        started = time.perf_counter()
        grads, grad_error, exhausted, cut_short = None, None, None, False
        value: Any = None
        device_probe = None
        try:
            with _budget(soft_timeout), monitor:
                if repeat is not None:
                    value, exhausted = _repeated(fn, lambda: self.resolve(_fresh_copies(sent)), int(repeat), collect)
                else:
                    value = fn(*args, **kwargs)
                if wrt:
                    grads, grad_error = _grads(value, [args[i] for i in wrt], grad_output)
                if collect is not None and repeat is None:
                    value, exhausted = _collect(value, collect)
        except BudgetExceeded:
            cut_short, value = True, None
        except BaseException as exc:
            return error_reply(self.request_id, ErrorKind.STUDENT_EXCEPTION, **_error(exc, skip_frames=1),
                               forbidden=monitor.seen, tampered=monitor.tampered)
        seconds = time.perf_counter() - started  # the student's call alone: the probe below is not timed
        if probe_device and not (wrt or cut_short) and repeat is None and collect is None:
            device_probe = self._probe_device(fn, sent, owner, method, monitor, seconds)
        value = self.to_handle(value) if ret == "handle" and not cut_short else value
        return self.reply(value=value, forbidden=monitor.seen, tampered=monitor.tampered, exhausted=exhausted,
                          seconds=seconds, grads=grads, grad_error=grad_error,
                          args_after=list(args) if return_args else None, cut_short=cut_short,
                          device_probe=device_probe)

    def _probe_device(self, fn: Any, sent: tuple, owner: Any, method: str | None, monitor: Any,
                      seconds: float) -> dict:
        """The call once more with its tensors on the meta device (``deviceprobe``), watched by the same monitor, and
        given a few times the call's own time: a slow loop is left unchecked, never made to time out. Meta runs
        each operator through Python (~50 us): a whole training loop there costs a second, for a device slip
        that shows in its first steps if anywhere, so the base allowance is a quarter of a second."""
        args, kwargs = self.resolve(_fresh_copies(sent))
        try:
            with _budget(PROBE_BASE_SECONDS + 3 * seconds), monitor:
                return deviceprobe.probe(fn, args, kwargs, owner, method)
        except BudgetExceeded:
            return {"outcome": "unsupported", "why": "too slow to repeat on the meta device"}
        except BaseException as exc:  # the student's code raising out of the probe's own guard
            return {"outcome": "unsupported", "why": f"{type(exc).__name__} outside the call"}

    def op_put(self, value: Any, requires_grad: bool = False) -> Reply:
        value = self.resolve(value)
        if requires_grad:
            value = value.detach().requires_grad_(True)
        return self.reply(value=self.to_handle(value))

    def op_get(self, handle: codec.Handle) -> Reply:
        return self.reply(value=self.resolve(handle))

    def op_getattr(self, handle: codec.Handle, name: str, ret: str = "value") -> Reply:
        value = getattr(self.resolve(handle), name)
        return self.reply(value=self.to_handle(value) if ret == "handle" else value)

    def op_setattr(self, handle: codec.Handle, name: str, value: Any) -> Reply:
        setattr(self.resolve(handle), name, self.resolve(value))
        return self.reply()

    def op_getitem(self, handle: codec.Handle, key: Any, ret: str = "handle") -> Reply:
        value = self.resolve(handle)[key]
        return self.reply(value=self.to_handle(value) if ret == "handle" else value)

    def op_construct(self, name: str, args: list, kwargs: dict) -> Reply:
        """Build a helper object in the worker: ``toolbox.X``, or a class/function under ``gradeworker.``
        or ``torch.`` (never a student's name: the grader decides what it hands to student code)."""
        from .monitor import _resolve
        if name.startswith("toolbox."):  # toolbox.Name, or toolbox.<assignment id>.Name
            factory: Any = toolbox
            for part in name.split(".")[1:]:
                factory = getattr(factory, part)
        elif name.startswith(("torch.", "gradeworker.")):
            factory = _resolve(name)
        else:
            return error_reply(self.request_id, ErrorKind.BAD_REQUEST, "ValueError",
                               f"cannot construct {name!r} in the worker")
        return self.reply(value=self.to_handle(factory(*self.resolve(args), **self.resolve(kwargs))))

    def op_iterate(self, handle: codec.Handle, limit: int, forbidden: tuple[str, ...] | list[str] = ()) -> Reply:
        monitor = self.monitor_for(forbidden)
        try:
            with monitor:
                items, exhausted = _collect(self.resolve(handle), limit)
        except BaseException as exc:
            return error_reply(self.request_id, ErrorKind.STUDENT_EXCEPTION, **_error(exc), forbidden=monitor.seen,
                               tampered=monitor.tampered)
        return self.reply(value=items, exhausted=exhausted, forbidden=monitor.seen, tampered=monitor.tampered)

    def op_describe(self, handle: codec.Handle) -> Reply:
        return self.reply(value=toolbox.describe(self.resolve(handle)))

    def op_signature(self, name: str) -> Reply:
        fn = self.lookup(name)
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return self.reply(value=None)
        return self.reply(value={"text": f"{name}{sig}", "params": [
            [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)[:200]]
            for p in sig.parameters.values()]})

    def op_names(self) -> Reply:
        return self.reply(value={k: type(v).__name__ for k, v in self.ns.items() if not k.startswith("__")})

    def op_drop(self, handles: list[codec.Handle]) -> Reply:
        for h in handles:
            obj = self.handles.pop(h.id, None)
            if obj is not None:
                self.handle_of.pop(id(obj), None)
        return self.reply()


class _budget:
    """Raise BudgetExceeded in the main thread after ``seconds`` (none when None)."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds

    def __enter__(self) -> None:
        if self.seconds:
            signal.signal(signal.SIGALRM, _raise_budget)
            signal.setitimer(signal.ITIMER_REAL, float(self.seconds))

    def __exit__(self, *exc: Any) -> None:
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _raise_budget(signum: int, frame: types.FrameType | None) -> None:
    # Never inside the call monitor's own hook: Python drops a profile hook that raises, which would read
    # as the student switching the monitor off. Try again a millisecond later, in the student's code.
    if frame is not None and frame.f_globals.get("__name__", "").startswith("gradeworker."):
        signal.setitimer(signal.ITIMER_REAL, 0.001)
        return
    raise BudgetExceeded()


def _repeated(fn: Any, arguments: Callable[[], tuple[list, dict]], times: int,
              collect: int | None) -> tuple[list, bool | None]:
    """``times`` calls, each on arguments as a separate request would have them: fresh copies of the tensors
    that came with the request (a call changing its inputs in place cannot change the next one's), the very
    objects behind handles (as every request resolves them)."""
    values, all_ran_out = [], True
    for _ in range(times):
        fresh_args, fresh_kwargs = arguments()
        value = fn(*fresh_args, **fresh_kwargs)
        if collect is not None:
            value, ran_out = _collect(value, collect)
            all_ran_out = all_ran_out and ran_out
        values.append(value)
    return values, (all_ran_out if collect is not None else None)


def _fresh_copies(value: Any) -> Any:
    """A decoded request's values with every tensor copied (handles stay handles)."""
    if isinstance(value, torch.Tensor):
        return value.clone()  # decoded from the wire: a plain leaf
    if isinstance(value, list):
        return [_fresh_copies(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_fresh_copies(v) for v in value)
    if isinstance(value, dict):
        return {k: _fresh_copies(v) for k, v in value.items()}
    return value


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


def _check_binding(fn: Any, args: list, kwargs: dict) -> str | None:
    """Say so plainly when the grader's call does not fit the student's signature."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        name = getattr(fn, "__name__", "the function")
        return (f"{name}{sig} cannot be called with {len(args)} positional argument(s)"
                f"{' and ' + ', '.join(kwargs) if kwargs else ''}: {exc}")
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


def _point_writes_at_workdir(workdir: str) -> None:
    """Every folder the worker (and torch on its behalf) writes to derives from its work dir, never from
    the environment it inherited. That names the grader's folders on the host: inside the jail the work dir
    moves to its private /tmp, and a host TMPDIR outside /tmp (a cluster's job-local /scratch/job42, or one
    beside the course checkout) is either missing from the jail's read-only root or under a folder the jail
    made, as root, to hold a bind. torch._dynamo, imported lazily by the first optimizer, creates its cache
    folder at import; failing there leaves torch half-registered and every later optimizer raising
    "Artifact of type=precompile already registered", charged to a correct submission."""
    cache = os.path.join(os.path.dirname(os.path.abspath(workdir)), "inductor-cache")
    os.environ.update(HOME=workdir, TMPDIR=workdir, TORCHINDUCTOR_CACHE_DIR=cache)
    tempfile.tempdir = None  # the fork server may have cached its own TMPDIR
    for folder in (workdir, os.path.dirname(cache)):
        if not os.access(folder, os.W_OK | os.X_OK):  # a harness fault, before any student code runs
            raise PermissionError(f"the worker cannot write to {folder}, where its temporary files go")


def _limit_gpu_memory() -> None:
    """A pool slot sharing its GPU with others (``autograder batch --gpu-slots N``, autograder.gpuslots) caps
    this worker's CUDA memory at its share, before any student code runs."""
    fraction = os.environ.get("AUTOGRADER_GPU_MEMORY_FRACTION")
    if fraction and torch.cuda.is_available():
        torch.cuda.set_per_process_memory_fraction(min(1.0, max(0.01, float(fraction))), 0)


def run_worker(chan_fd: int, config: dict, walls: tuple[Wall, ...] | list[Wall] = ()) -> None:
    """Entry point of one worker process (after the fork server forked it, or started directly: see
    ``boot``); ``walls`` are the operating-system walls raised around it, reported to the grader."""
    os.chdir(config["workdir"])
    _point_writes_at_workdir(config["workdir"])
    jail.apply_limits(config.get("limits", {}))
    if config.get("threads"):
        torch.set_num_threads(int(config["threads"]))
    # Same arithmetic as the reference: TF32 would blur float32 results on recent GPUs.
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    _limit_gpu_memory()
    chan = socket.socket(fileno=chan_fd)
    Worker(chan, {**config, "walls": list(walls)}).serve()
    sys.stdout.flush()

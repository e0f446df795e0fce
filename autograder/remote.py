"""Drive a student's code in a worker process from the trusted side.

``Submission`` owns one student's notebook code and the worker running it: it starts the worker on
first use, loads the code, and starts a fresh one after a crash or a timeout, so one bad call costs
one test. Graders see it as ``student``: ``student.linreg(X, w, b)`` runs the student's ``linreg``
in the worker and returns plain data; objects that are not data come back as ``RemoteObject``.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Any

from gradeworker import codec

from .failures import ForbiddenCallUsed, MissingFunction, SignatureMismatch, StudentCodeError, WorkerLost
from .handles import RemoteFunction, RemoteObject, unwrap, wrap
from .launcher import HarnessError, Launcher, WorkerProcess
from .notebook import CodeCell


@dataclass
class LoadReport:
    cells: list[dict] = field(default_factory=list)  # index, ok, error, seconds
    names: list[str] = field(default_factory=list)
    isolation: dict = field(default_factory=dict)

    def problems(self) -> list[str]:
        out = []
        for cell in self.cells:
            if not cell["ok"]:
                err = cell["error"]
                out.append(f"cell {cell['index']} raised {err['type']}: {err['message']}")
        return out


class Submission:
    """One student's notebook code, loaded into a (replaceable) worker."""

    def __init__(self, launcher: Launcher, cells: list[CodeCell], forbidden: dict[str, list[str]],
                 private_modules: list[str] = ("autograder", "solutions")):
        self.launcher = launcher
        self.cells = cells
        self.forbidden = forbidden
        self.private_modules = list(private_modules)  # the worker must not be able to import these
        self.worker: WorkerProcess | None = None
        self.generation = 0
        self.load_report: LoadReport | None = None
        self.good: list[CodeCell] = []  # cells a worker survived, replayed into each new worker
        self.timed_out: set[str] = set()  # functions that overran their time once
        self.restarts = 0

    # ----- worker lifecycle ----------------------------------------------------------------------
    def ensure_worker(self) -> None:
        if self.worker is not None:
            return
        self.worker = self.launcher.start()
        self.generation += 1
        hello = self._exchange(None, self.launcher.limits.load_seconds, "starting the worker")
        all_forbidden = sorted({name for names in self.forbidden.values() for name in names})
        prepared = self.request("prepare", "preparing the worker", forbidden=all_forbidden,
                                private_modules=self.private_modules)
        if prepared.get("reachable"):
            self.close()
            raise HarnessError(f"student code could import {', '.join(prepared['reachable'])}; refusing to grade. "
                               "Install the project with `make env` (pip's editable_mode=compat) or non-editable.")
        if self.load_report is None:
            self.load_report = LoadReport(isolation=hello.get("isolation", {}))
            self._load_first_time()
        else:
            self._load_known_good()

    def _load_first_time(self) -> None:
        """Run the cells one by one; one that kills or hangs the worker is skipped on the next worker."""
        report, limits = self.load_report, self.launcher.limits
        started = time.monotonic()
        for cell in self.cells:
            if time.monotonic() - started > limits.load_seconds:
                report.cells.append(_skipped(cell, f"not run: loading took over {limits.load_seconds:g} s in total"))
                continue
            self.ensure_worker()  # after a cell killed it: a new one, good cells reloaded
            try:
                reply = self.request("load", "loading your notebook", timeout=limits.cell_seconds * 1.5 + 2,
                                     cells=[{"index": cell.index, "source": cell.source}],
                                     cell_timeout=limits.cell_seconds)
            except WorkerLost as lost:
                report.cells.append(_skipped(cell, f"ended the worker process ({lost.reason}; {lost.status}); "
                                                   "the cell was skipped"))
                continue
            report.cells += reply["cells"]
            self.good.append(cell)
        self.ensure_worker()  # after a cell killed it: a new one, good cells reloaded
        report.names = sorted(self.defined_names())

    def _load_known_good(self) -> None:
        cells = [{"index": c.index, "source": c.source} for c in self.good]
        limits = self.launcher.limits
        self.request("load", "loading your notebook", timeout=limits.load_seconds, cells=cells,
                     cell_timeout=limits.cell_seconds)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def _lose_worker(self, function: str, reason: str) -> WorkerLost:
        worker, self.worker = self.worker, None
        worker.kill()
        self.restarts += 1
        return WorkerLost(function, reason, worker.exit_status(), worker.output_tail())

    def _exchange(self, message: dict | None, timeout: float, function: str) -> dict:
        """Send ``message`` (if any) and read the reply within ``timeout`` seconds."""
        worker = self.worker
        deadline = time.monotonic() + timeout

        def recv(n: int) -> bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout()
            worker.chan.settimeout(remaining)
            return worker.chan.recv(n)
        try:
            if message is not None:
                worker.chan.settimeout(timeout)
                worker.chan.sendall(codec.encode(message))
            reply = codec.read_message(recv)
        except socket.timeout:
            raise self._lose_worker(function, f"did not finish within {timeout:g} s") from None
        except (EOFError, OSError):
            raise self._lose_worker(function, "the worker process ended") from None
        except codec.ProtocolError as exc:
            raise self._lose_worker(function, f"the worker sent an invalid reply ({exc})") from None
        if not isinstance(reply, dict) or "ok" not in reply:
            raise self._lose_worker(function, "the worker sent an invalid reply")
        return reply

    def request(self, op: str, function: str, timeout: float | None = None, **fields: Any) -> dict:
        self.ensure_worker()
        generation = self.generation
        fields = {k: unwrap(v, generation) for k, v in fields.items()}
        timeout = timeout or self.launcher.limits.call_seconds
        if function in self.timed_out:
            # It hung once already: later checks of it still run, but wait less, so one endless loop
            # cannot hold a whole batch up.
            timeout = min(timeout, self.launcher.limits.retry_seconds)
        try:
            reply = self._exchange({"op": op, **fields}, timeout, function)
        except WorkerLost as lost:
            if "did not finish" in lost.reason:
                self.timed_out.add(function)
            raise
        return wrap(reply, self, generation)

    def reset(self, seed: int) -> None:
        """Before each test: a live worker with the student's code loaded, reseeded."""
        self.request("reseed", "reseeding the worker", seed=seed)

    # ----- what graders use ----------------------------------------------------------------------
    def __getattr__(self, name: str) -> "RemoteFunction":
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self, name, self.forbidden.get(name, []))

    def function(self, name: str, timeout: float | None = None) -> "RemoteFunction":
        return RemoteFunction(self, name, self.forbidden.get(name, []), timeout)

    def put(self, value: Any, requires_grad: bool = False) -> "RemoteObject":
        """Send data to the worker and keep it there (e.g. parameters a student's ``sgd`` updates)."""
        return self.request("put", "storing a value", value=value, requires_grad=requires_grad)["value"]

    def construct(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> "RemoteObject":
        """Build a ``gradeworker.toolbox`` helper or a ``torch`` object in the worker."""
        label = f"building {name}"
        reply = self.request("construct", label, timeout=timeout, name=name, args=list(args), kwargs=kwargs)
        self.raise_for(label, reply)
        return reply["value"]

    def signature(self, name: str) -> dict | None:
        return self.request("signature", name, name=name)["value"]

    def defined_names(self) -> dict[str, str]:
        return self.request("names", "listing names")["value"]

    def raise_for(self, function: str, reply: dict) -> None:
        """Turn a worker reply into the student-facing exception it stands for."""
        if reply.get("forbidden") or reply.get("tampered"):
            raise ForbiddenCallUsed(function, list(reply.get("forbidden") or []), bool(reply.get("tampered")))
        if reply["ok"]:
            return
        error = reply["error"]
        if error["type"] == "MissingName":
            raise MissingFunction(function, sorted(self.load_report.names if self.load_report else []))
        if error["type"] == "SignatureError":
            raise SignatureMismatch(function, error["message"])
        raise StudentCodeError(function, error)


def _skipped(cell: CodeCell, why: str) -> dict:
    return {"index": cell.index, "ok": False, "seconds": 0.0,
            "error": {"type": "WorkerLost", "message": why, "traceback": ""}}

"""Drive a student's code in worker processes from the trusted side.

``Submission`` owns one student's notebook code and the process running it. It loads the notebook
into a new sandboxed process cell by cell (a cell that hangs is stopped, one that kills its process is
skipped), then that process serves the tests, with every definition in place. A crash, a timeout or
garbage on the channel costs one test: the next one gets a new process that loads only the good cells.
Graders see it as ``student``: ``student.linreg(X, w, b)`` runs the student's ``linreg`` in the worker
and returns plain data; objects that are not data come back as ``RemoteObject``.
"""
from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gradeworker import codec
from gradeworker.protocol import ErrorKind, Op, Reply
from gradeworker.walls import Wall

from .errors import ForbiddenCallUsed, HarnessError, MissingFunction, SignatureMismatch, StudentCodeError, WorkerLost
from .handles import RemoteFunction, RemoteObject, unwrap, wrap
from .launcher import Launcher, WorkerProcess
from .notebook import CodeCell

# The id of a PREPARE sent to a spare worker ahead of its submission (Launcher.start); never one of _new_id's.
PREPARED_AHEAD = 2**31 - 1
# torch imports torch._dynamo (~1.5 s) lazily, at the first use of what these names name: a torch.optim
# optimizer, torch.compile, torch.utils.checkpoint, flex attention (whole words: not "optimiser").
DYNAMO_USERS = re.compile(r"(?<![A-Za-z0-9_])(compile|checkpoint|flex_attention|_dynamo)(?![A-Za-z0-9_])")


def serve_imports(texts: list[str]) -> list[str]:
    """What a loaded worker imports before its last wall goes up (SERVE), read from the code it serves and
    its graders: the real torch._dynamo when they name what compiles. Otherwise it is not paid at all
    (optimizers do not need it: ``gradeworker.lazydynamo``); code that reaches the compiler by another name
    pays the import inside that one call."""
    return ["torch._dynamo"] if any(DYNAMO_USERS.search(text) for text in texts) else []


@dataclass
class LoadReport:
    cells: list[dict] = field(default_factory=list)  # index, ok, error, seconds, timed_out
    names: list[str] = field(default_factory=list)
    isolation: dict = field(default_factory=dict)

    def problems(self) -> list[str]:
        out = []
        for cell in self.cells:
            if not cell["ok"]:
                err = cell["error"] or {}
                out.append(f"cell {cell['index']} raised {err.get('type', 'an error')}: {err.get('message', '')}")
        return out


class Submission:
    """One student's notebook code: the process it is loaded into, which then serves the tests."""

    def __init__(self, launcher: Launcher, cells: list[CodeCell], forbidden: dict[str, list[str]],
                 private_modules: tuple[str, ...] | list[str] = ("solutions",), allow_fork: bool = False,
                 grader_text: str = ""):
        self.launcher = launcher
        self.grader_text = grader_text  # the graders' source, read only to decide what the worker preloads
        self.allow_fork = allow_fork  # whether a test's worker may start processes (DataLoader workers)
        self.cells = cells
        self.forbidden = forbidden
        self.private_modules = list(private_modules)  # the worker must not be able to import these
        self.loaded: WorkerProcess | None = None  # a process loading the notebook (it becomes ``worker``)
        self.worker: WorkerProcess | None = None  # the process serving the tests
        self.generation = 0
        self.load_report: LoadReport | None = None
        self.good: list[CodeCell] = []  # cells that neither hung nor killed their process
        self.timed_out: set[str] = set()  # functions that overran their time once
        self.restarts = 0
        self._next_id = 0
        self.pending_seed: int | None = None
        # Device faithfulness on the meta device: None = off (grading on a GPU, where the real device is
        # checked); else the functions left out. Per test, what each probed function's repeat there gave
        # (the plugin judges it with compare.device_probe_failure).
        self.device_probe_skip: set[str] | None = None
        self.device_probes: dict[str, object] = {}
        # Probes that ran to the end ("ok": every output's device seen), kept for the whole grading by function and
        # kind of call (handles.probe_key): the same code on alike inputs gives the same verdict, so a later test
        # reuses it instead of repeating the call on meta. Probes that concluded nothing (too slow, .item()) are
        # tried again in the next test, with its inputs.
        self.device_verdicts: dict[tuple[str, object], object] = {}

    # ----- processes -------------------------------------------------------------------------------
    def ensure_worker(self) -> None:
        if self.worker is not None:
            return
        if self.loaded is None:
            self._load()
        self._ask("loaded", Op.SERVE, "starting the worker", self.launcher.limits.load_seconds,
                  imports=serve_imports([c.source for c in self.good] + [self.grader_text]))
        self.worker, self.loaded = self.loaded, None
        self.generation += 1

    def _launch(self) -> None:
        """A new process with nothing loaded yet, prepared: the forbidden calls resolved before student code."""
        fields: dict[str, Any] = {"forbidden": sorted({n for names in self.forbidden.values() for n in names}),
                                  "private_modules": list(self.private_modules)}
        ahead = codec.encode({"op": Op.PREPARE.value, "id": PREPARED_AHEAD, **fields})
        self.loaded = self.launcher.start(self.allow_fork, ahead=ahead)
        hello = self._ask("loaded", Op.PREPARE, "starting the worker", self.launcher.limits.load_seconds,
                          expect_hello=True)
        isolation = (hello.value or {}).get("isolation") or {}
        walls = Wall.parse(isolation.get("walls"))  # only declared walls: a worker cannot make one up
        missing = self.launcher.missing_walls(walls)
        if self.launcher.strict and missing:
            self.close()
            raise HarnessError(f"--strict: this host did not allow {', '.join(missing)}; refusing to grade. "
                               "Run `autograder probe` to see which walls hold here.")
        # A spare was sent this same request while the last submission ran: its reply only needs reading.
        op = None if self.loaded.prepared_ahead else Op.PREPARE
        prepared = self._ask("loaded", op, "preparing the worker", self.launcher.limits.load_seconds,
                             request_id=PREPARED_AHEAD, **fields).value
        if prepared.get("reachable"):
            self.close()
            raise HarnessError(f"student code could import {', '.join(prepared['reachable'])}; refusing to grade. "
                               "Install the project with `make env` (pip's editable_mode=compat) or non-editable.")
        if self.load_report is None:
            self.load_report = LoadReport(isolation={**isolation, "walls": walls,
                                                     "layers": self.launcher.describe(walls)})

    def _load(self) -> None:
        limits = self.launcher.limits
        first_time = self.load_report is None
        self._launch()
        if not first_time:
            self._run_cells(self.good, limits.load_seconds)
            return
        report = self.load_report
        if report is None:
            raise HarnessError("the worker started without a load report")  # the first _launch makes it
        started = time.monotonic()
        for cell in self.cells:
            if time.monotonic() - started > limits.load_seconds:
                report.cells.append(_skipped(cell, f"not run: loading took over {limits.load_seconds:g} s"))
                continue
            if self.loaded is None:  # the previous cell killed it: a new one, with the good cells so far
                self._launch()
                self._run_cells(self.good, limits.load_seconds)
            try:
                entry = self._run_cells([cell], limits.cell_seconds * 1.5 + 2)[0]
            except WorkerLost as lost:
                report.cells.append(_skipped(cell, f"ended the worker process ({lost.reason}; "
                                                   f"{lost.status}); the cell was skipped"))
                continue
            report.cells.append(entry)
            if not entry.get("timed_out"):
                self.good.append(cell)
        if self.loaded is None:
            self._launch()
            self._run_cells(self.good, limits.load_seconds)
        report.names = sorted(self._ask("loaded", Op.NAMES, "listing names").value)

    def _run_cells(self, cells: list[CodeCell], timeout: float) -> list[dict]:
        reply = self._ask("loaded", Op.LOAD, "loading your notebook", timeout,
                          cells=[{"index": c.index, "source": c.source} for c in cells],
                          cell_timeout=self.launcher.limits.cell_seconds)
        return reply.value["cells"]

    def protections(self) -> list[str]:
        """The walls that held around this submission's processes, as its first process reported them."""
        missing = self.launcher.missing_walls(self.walls())
        return [*self.launcher.describe(self.walls()), *(f"NOT in force: {m}" for m in missing)]

    def walls(self) -> list[Wall]:
        """The walls that held around this submission's processes, as its first process reported them."""
        return list(self.load_report.isolation.get("walls") or []) if self.load_report else []

    def close(self) -> None:
        for role in ("worker", "loaded"):
            proc = getattr(self, role)
            if proc is not None:
                proc.kill()
                setattr(self, role, None)

    def _drop(self, role: str) -> WorkerProcess:
        proc = getattr(self, role)
        setattr(self, role, None)
        proc.kill()
        return proc

    # ----- the exchange --------------------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _ask(self, role: str, op: Op | None, function: str, timeout: float | None = None, *,
             expect_hello: bool = False, request_id: int | None = None,
             on_progress: Callable[[Any], None] | None = None, **fields: Any) -> Reply:
        """Send a request to the worker or the process still loading (``op`` None: only read) and read its reply.

        Any way the exchange can go wrong (a timeout, the process gone, bytes that are not a reply to
        this request) ends that process and raises ``WorkerLost`` with the kind of failure. Interim replies
        (``progress``) go to ``on_progress`` as they come, all within the one ``timeout``; without
        ``on_progress`` one is not a valid reply.
        """
        proc = getattr(self, role)
        timeout = timeout or self.launcher.limits.call_seconds
        if expect_hello:
            op, request_id = None, 0
        elif request_id is None:
            request_id = self._new_id()
        try:
            if op is not None:
                proc.chan.settimeout(timeout)
                proc.chan.sendall(codec.encode({"op": op.value, "id": request_id, **fields}))
            recv = _receiver(proc.chan, timeout)
            while True:
                reply = Reply.from_wire(codec.read_message(recv), request_id)
                if not reply.progress:
                    return reply
                if on_progress is None:
                    raise codec.ProtocolError("an interim reply to a request that takes none")
                on_progress(reply.value)
        except socket.timeout:
            reason, kind = f"did not finish within {timeout:g} s", ErrorKind.TIMED_OUT
        except (EOFError, OSError):
            reason, kind = "the worker process ended", ErrorKind.WORKER_LOST
        except codec.ProtocolError as exc:
            reason, kind = f"the worker sent an invalid reply ({str(exc)[:200]})", ErrorKind.INVALID_REPLY
        # A process that ended on its own is asked how before it is killed (after, it would read "signal 9").
        ended = proc.exit_status() if kind is ErrorKind.WORKER_LOST else None
        lost = self._drop(role)
        self.restarts += 1
        raise WorkerLost(function, reason, ended or lost.exit_status(), lost.output_tail(), kind=kind)

    def request(self, op: Op | str, function: str, timeout: float | None = None,
                inherit: list[str] | None = None, on_progress: Callable[[Any], None] | None = None,
                **fields: Any) -> Reply:
        """One request to the current test's worker; objects in the reply inherit the forbidden calls
        ``inherit`` (those of the task whose code made them); interim replies go to ``on_progress``."""
        self.ensure_worker()
        generation = self.generation
        fields = {k: unwrap(v, generation) for k, v in fields.items()}
        if self.pending_seed is not None:  # the test's seed, applied by the worker before this request
            fields["reseed"], self.pending_seed = self.pending_seed, None
        timeout = timeout or self.launcher.limits.call_seconds
        if function in self.timed_out:
            # It hung once already: later checks of it still run, but wait less, so one endless loop
            # cannot hold a whole batch up.
            timeout = min(timeout, self.launcher.limits.retry_seconds)
        try:
            reply = self._ask("worker", Op(op), function, timeout, on_progress=on_progress, **fields)
        except WorkerLost as lost:
            if lost.timed_out:
                self.timed_out.add(function)
            raise
        reply.value = wrap(reply.value, self, generation, inherit or [])
        return reply

    def fresh_worker(self) -> None:
        """End the process serving the tests: the next request gets a new one, with the notebook's good cells
        loaded again and nothing a test did before (an open part evaluates its trained weights there)."""
        if self.worker is not None:
            self._drop("worker")

    def reset(self, seed: int) -> None:
        """Before each test: a live worker with the student's code loaded, reseeded. The seed goes with the
        test's first request (one round trip fewer per test; a test that asks nothing needs none)."""
        self.ensure_worker()
        self.pending_seed = seed
        self.device_probes = {}

    def wants_device_probe(self, label: str, key: object = None) -> bool:
        """Whether this call of ``label`` is to be made again on the meta device: its first in the test, unless an
        earlier test's probe of a call alike (``key``: ``handles.probe_key``) ran to the end: that verdict is this
        test's too."""
        skip = self.device_probe_skip
        if skip is None or "*" in skip or label.split(".")[0] in skip or label in self.device_probes:
            return False
        known = self.device_verdicts.get((label, key))
        if known is not None:
            self.device_probes[label] = known
            return False
        return True

    def record_device_probe(self, label: str, probe: object, key: object = None) -> None:
        if isinstance(probe, dict) and probe.get("per_call") is True:
            return  # this call's arguments cannot go to meta (a closure...): the function's next call may
        self.device_probes[label] = probe
        if isinstance(probe, dict) and probe.get("outcome") == "ok":
            self.device_verdicts[(label, key)] = probe

    # ----- what graders use ----------------------------------------------------------------------
    def __getattr__(self, name: str) -> RemoteFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self, name, self.forbidden.get(name, []))

    def function(self, name: str, timeout: float | None = None) -> RemoteFunction:
        return RemoteFunction(self, name, self.forbidden.get(name, []), timeout)

    def put(self, value: Any, requires_grad: bool = False) -> RemoteObject:
        """Send data to the worker and keep it there (e.g. parameters a student's ``sgd`` updates)."""
        return self.request(Op.PUT, "storing a value", value=value, requires_grad=requires_grad).value

    def construct(self, name: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> RemoteObject:
        """Build a ``gradeworker.toolbox`` helper or a ``torch`` object in the worker. It inherits the
        forbidden calls of the student objects it is given (a probe around a student's net is monitored)."""
        label = f"building {name}"
        inherited = sorted({n for v in [*args, *kwargs.values()] if isinstance(v, RemoteObject) for n in v.forbidden})
        reply = self.request(Op.CONSTRUCT, label, timeout=timeout, inherit=inherited, name=name, args=list(args),
                             kwargs=kwargs)
        self.raise_for(label, reply)
        return reply.value

    def signature(self, name: str) -> dict | None:
        return self.request(Op.SIGNATURE, name, name=name).value

    def defined_names(self) -> dict[str, str]:
        return self.request(Op.NAMES, "listing names").value

    def raise_for(self, function: str, reply: Reply) -> None:
        """Turn a worker reply into the student-facing exception it stands for."""
        if reply.forbidden or reply.tampered:
            raise ForbiddenCallUsed(function, list(reply.forbidden), reply.tampered)
        if reply.ok:
            return
        error = reply.error
        if error is None:  # from_wire never builds a failed reply without one; a worker cannot send it either
            raise HarnessError(f"the worker's reply for {function} failed without an error")
        if error.kind is ErrorKind.MISSING_NAME:
            raise MissingFunction(function, sorted(self.load_report.names if self.load_report else []))
        if error.kind is ErrorKind.SIGNATURE_MISMATCH:
            raise SignatureMismatch(function, error.message)
        if error.kind is ErrorKind.BAD_REQUEST:
            raise HarnessError(f"the worker refused a request for {function}: {error.message}")
        raise StudentCodeError(function, error.type, error.message, error.traceback, error.kind)


def _receiver(chan: socket.socket, timeout: float):
    """``recv`` for one message, all of it within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout

    def recv(n: int) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        chan.settimeout(remaining)
        return chan.recv(n)
    return recv


def _skipped(cell: CodeCell, why: str) -> dict:
    return {"index": cell.index, "ok": False, "seconds": 0.0,
            "error": {"type": "WorkerLost", "message": why, "traceback": ""}}

"""The grading protocol, declared once: its operations, its reply shape and its error kinds.

Both sides import this module: the trusted grader (``autograder.remote``) and the untrusted worker
(``gradeworker.server``). It imports nothing from ``autograder``. Messages travel as ``codec`` frames;
a request is ``{"op": Op, "id": int, **fields}`` (any request may also carry ``"reseed": int``, which the
worker applies first, as ``RESEED`` would: a test's seed rides on its first request) and its reply is a
``Reply`` carrying the same id. Before it, a call may send interim replies (``progress=True``, same id: the
weights of a training run as it goes, sent by the harness's ``toolbox.WeightSnapshots``); only a caller that
asked for them accepts them. The trusted side rebuilds every reply with ``Reply.from_wire``, which
refuses anything not of this shape: a worker can send garbage, never an object the grader would trust.

It imports no torch (``codec`` does): the grader's CLI reaches it through ``errors`` before it starts the
fork server, whose own ``import torch`` must not wait for the grader's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any


class ProtocolError(Exception):
    """The other side sent something that is not a valid message."""


class Op(str, Enum):
    """What the grader can ask of a worker."""

    PREPARE = "prepare"  # resolve the forbidden calls and check the private modules are out of reach
    LOAD = "load"  # run notebook cells
    SERVE = "serve"  # (a loaded worker) serve the tests from now on: no new process from here
    RESEED = "reseed"  # seed random, torch (and NumPy) for the next test
    CALL = "call"  # call a student function, or a method of an object behind a handle
    PUT = "put"  # keep a value in the worker, behind a handle
    GET = "get"
    GETATTR = "getattr"
    SETATTR = "setattr"
    GETITEM = "getitem"
    CONSTRUCT = "construct"  # build a toolbox helper or a torch object
    ITERATE = "iterate"
    DESCRIBE = "describe"
    SIGNATURE = "signature"
    NAMES = "names"
    DROP = "drop"


class ErrorKind(str, Enum):
    """Why a request did not give a value. The first group is reported by the worker, the second decided
    by the trusted side; who is at fault and what it costs is ``autograder.errors.FAULTS``."""

    MISSING_NAME = "missing_name"  # the notebook defines no such name
    SIGNATURE_MISMATCH = "signature_mismatch"  # the grader's call does not fit the student's signature
    STUDENT_EXCEPTION = "student_exception"  # student code raised
    UNSENDABLE = "unsendable"  # the student's result cannot travel as plain data
    BAD_REQUEST = "bad_request"  # the grader asked for something the worker cannot do
    FORBIDDEN_CALL = "forbidden_call"
    MONITOR_TAMPERED = "monitor_tampered"
    TIMED_OUT = "timed_out"
    WORKER_LOST = "worker_lost"
    INVALID_REPLY = "invalid_reply"


WORKER_REPORTED = frozenset({ErrorKind.MISSING_NAME, ErrorKind.SIGNATURE_MISMATCH, ErrorKind.STUDENT_EXCEPTION,
                             ErrorKind.UNSENDABLE, ErrorKind.BAD_REQUEST})


@dataclass
class WorkerError:
    kind: ErrorKind
    type: str = ""  # the exception's class name, where there was one
    message: str = ""
    traceback: str = ""  # the student's frames only


@dataclass
class Reply:
    """One answer to one request."""

    id: int
    ok: bool
    value: Any = None
    error: WorkerError | None = None
    forbidden: list[str] = field(default_factory=list)  # forbidden calls seen while student code ran
    tampered: bool = False  # the student's code switched the call monitor off
    seconds: float = 0.0  # time in the student's code
    grads: list | None = None
    grad_error: str | None = None
    args_after: list | None = None
    exhausted: bool | None = None  # an iterated result ran out (False: cut off at the limit)
    cut_short: bool = False  # stopped at its soft time budget, objects kept as they were then
    progress: bool = False  # an interim reply: more follow for this request, the last one without it
    device_probe: dict | None = None  # the call made again on the meta device (gradeworker.deviceprobe)

    def to_wire(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}  # shallow: values are sent, never copied
        if self.error is not None:
            data["error"] = {**asdict(self.error), "kind": self.error.kind.value}
        return data

    @classmethod
    def from_wire(cls, data: Any, expected_id: int) -> "Reply":
        """Rebuild a reply, or raise ProtocolError: wrong shape, wrong types, or an answer to another request."""
        if not isinstance(data, dict) or set(data) - _FIELDS:
            raise ProtocolError("a reply must be a dict of the protocol's fields")
        if data.get("id") != expected_id:
            raise ProtocolError(f"reply to request {data.get('id')!r} where {expected_id} was awaited")
        _check_types(data)
        error = data.get("error")
        if error is not None:
            try:
                kind = ErrorKind(error.get("kind"))
            except ValueError:
                raise ProtocolError(f"unknown error kind {error.get('kind')!r}") from None
            if kind not in WORKER_REPORTED:
                raise ProtocolError(f"a worker cannot report {kind.value}")
            error = WorkerError(kind, *(str(error.get(k, ""))[:_TEXT] for k in ("type", "message", "traceback")))
        return cls(**{**data, "error": error})


_FIELDS = {"id", "ok", "value", "error", "forbidden", "tampered", "seconds", "grads", "grad_error", "args_after",
           "exhausted", "cut_short", "progress", "device_probe"}
_TEXT = 8000  # characters kept of any text the worker sends (messages, tracebacks)
_TYPES: dict[str, tuple[type, ...]] = {
    "ok": (bool,), "tampered": (bool,), "cut_short": (bool,), "progress": (bool,), "seconds": (int, float),
    "forbidden": (list,),
    "grads": (list, type(None)), "grad_error": (str, type(None)), "args_after": (list, type(None)),
    "exhausted": (bool, type(None)), "error": (dict, type(None)), "device_probe": (dict, type(None)),
}


def _check_types(data: dict) -> None:
    for name, types in _TYPES.items():
        if name in data and not isinstance(data[name], types):
            raise ProtocolError(f"reply field {name} has type {type(data[name]).__name__}")
    if not all(isinstance(f, str) for f in data.get("forbidden", [])):
        raise ProtocolError("forbidden calls must be named by strings")
    data["forbidden"] = [f[:200] for f in data.get("forbidden", [])][:50]
    if isinstance(data.get("grad_error"), str):
        data["grad_error"] = data["grad_error"][:_TEXT]


def error_reply(request_id: int, kind: ErrorKind, exc_type: str = "", message: str = "", traceback: str = "",
                **fields: Any) -> Reply:
    return Reply(request_id, False, error=WorkerError(kind, exc_type, message, traceback), **fields)

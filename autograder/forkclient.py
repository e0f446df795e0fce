"""The grader's side of the fork server (``gradeworker/forkserver.py`` is the other): start it, ask it for
workers, ask how they ended.

Requests and answers go in order over one SEQPACKET socket; a spawn request carries the worker's channel
and log as file descriptors. ``spawn_later`` asks without waiting, so that a spare worker's fork overlaps
the grading of the submission before it; ``answer`` reads the pid when it is needed.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import defaults
from .errors import HarnessError
from .provision import boot


@dataclass
class PendingSpawn:
    chan: socket.socket
    pid: int | None = None


class ForkServerClient:
    """One fork server, started with the workers' base config; ``close`` ends it and every worker it forked."""

    def __init__(self, path: list[str], tmp: Path, base: dict, timeout: float = 120.0):
        self.ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        workdir = Path(tempfile.mkdtemp(prefix="forkserver-", dir=tmp))
        # The cache folder's name goes to the fork server alone, never into a worker's configuration.
        config = {**base, "mode": "forkserver", "ctl_fd": theirs.fileno(), "workdir": str(workdir),
                  "cache_dir": str(defaults.cache_dir())}
        self.log = workdir.with_suffix(".log")
        self.proc = boot(config, theirs.fileno(), self.log, workdir)
        theirs.close()
        self.timeout = timeout
        self._ready = False
        self.preload: list = []  # [step, seconds] of the fork server's imports, once it is ready
        self._unanswered: list[PendingSpawn] = []

    def _recv(self) -> dict:
        self.ctl.settimeout(self.timeout)
        try:
            data = self.ctl.recv(1 << 16)
        except socket.timeout:
            raise HarnessError("the fork server did not answer") from None
        if not data:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise HarnessError(f"the fork server exited: {tail}")
        return json.loads(data)

    def wait_ready(self) -> None:
        """Until the fork server says it is ready: torch and the rest are imported over there."""
        if not self._ready:
            ready = self._recv()
            self.preload = list(ready.get("preload") or [])
            self._ready = True

    def spawn(self, config: dict, log: Path) -> tuple[int, socket.socket]:
        pending = self.spawn_later(config, log)
        return self.answer(pending), pending.chan

    def spawn_later(self, config: dict, log: Path) -> "PendingSpawn":
        """Ask for a worker without waiting for the answer (``answer`` reads it)."""
        if not self._ready:
            self.wait_ready()
        ours, theirs = socket.socketpair()
        with open(log, "wb") as out:
            message = json.dumps({"cmd": "spawn", "config": {**config, "mode": "worker"}}).encode()
            socket.send_fds(self.ctl, [message], [theirs.fileno(), out.fileno()])
        theirs.close()
        pending = PendingSpawn(ours)
        self._unanswered.append(pending)
        return pending

    def answer(self, pending: "PendingSpawn") -> int:
        """The pid of an asked-for worker (answers come in the order asked)."""
        self._read_answers(until=pending)
        if pending.pid is None:
            raise HarnessError("the fork server did not start the worker")
        return pending.pid

    def _read_answers(self, until: "PendingSpawn | None" = None) -> None:
        while self._unanswered and (until is None or until.pid is None):
            first = self._unanswered.pop(0)
            first.pid = int(self._recv()["pid"])

    def status(self, pid: int) -> str:
        try:
            self._read_answers()  # the spawn answers still on the way come first
            self.ctl.send(json.dumps({"cmd": "status", "pid": pid}).encode())
            return str(self._recv()["status"])
        except (OSError, HarnessError, ValueError, KeyError):
            return "unknown"

    def close(self) -> None:
        self.ctl.close()  # the server exits on EOF and kills the workers it still has
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

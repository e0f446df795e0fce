"""Start worker processes for student code, through a fork server when possible.

The worker runs ``python -I -S`` with an import path built here: the standard library, the
environment's site-packages (read directly, without the ``.pth`` files that an editable install of
this project uses to expose ``autograder``), and the folder holding ``gradeworker`` and
``d2lcourse``. Its working directory is a fresh empty folder outside the course. The worker checks
for itself that ``autograder`` and ``solutions`` cannot be imported and reports it; grading refuses
to go on otherwise.

This module must not import torch: the CLI starts the fork server first so that its ``import torch``
overlaps with the grader's own.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import HarnessError

BOOT = """
import json, sys
config = json.loads(sys.argv[1])
sys.path[:] = config["path"]
if config["mode"] == "forkserver":
    from gradeworker.forkserver import main
    main(config)
else:
    from gradeworker.server import run_worker
    run_worker(int(config["chan_fd"]), config)
"""
PASSED_ENV = ("CUDA_VISIBLE_DEVICES", "D2L_DATA_ROOT", "LANG", "LC_ALL", "OMP_NUM_THREADS", "NVIDIA_VISIBLE_DEVICES")


@dataclass
class Limits:
    """Per-worker limits. Wall-clock limits are enforced by the grader, the rest by the kernel."""

    call_seconds: float = 10.0  # one call of a student function (graders may give a training call more)
    retry_seconds: float = 2.0  # a later call of a function that already overran once
    load_seconds: float = 120.0  # running all of a notebook's definition cells
    cell_seconds: float = 10.0  # one of those cells: definitions take milliseconds
    cpu_seconds: int = 900  # whole worker
    file_bytes: int = 64 << 20  # any file the worker writes, its stdout log included
    open_files: int = 512
    address_space_bytes: int = 0  # 0: no RLIMIT_AS (it breaks CUDA); the OS hardening adds a cgroup

    def for_worker(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.endswith("_seconds") or k == "cpu_seconds"}


def _exposes_hidden_code(path: str) -> bool:
    p = Path(path)
    return any((p / name).exists() for name in ("autograder", "solutions", "autograder.py", "solutions.py"))


def worker_import_path() -> list[str]:
    """The worker's sys.path: ours minus anything that leads to the hidden tests or references."""
    spec = importlib.util.find_spec("gradeworker")
    if spec is None or spec.origin is None:
        raise HarnessError("the package gradeworker is not installed: run `make env` (pip install -e ./course)")
    home = str(Path(spec.origin).resolve().parent.parent)
    if _exposes_hidden_code(home):
        raise HarnessError(f"gradeworker lives beside autograder/ or solutions/ in {home}; the worker would "
                           "see them. Install the course package from its own folder (course/).")
    keep = [p for p in sys.path if p and os.path.isdir(p) and not _exposes_hidden_code(p)]
    return [home] + [p for p in keep if os.path.realpath(p) != os.path.realpath(home)]


def _worker_env(workdir: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update(PATH="/usr/local/bin:/usr/bin:/bin", HOME=workdir, TMPDIR=workdir, MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", TQDM_DISABLE="1",
               # torch._dynamo's import makes a cache folder in TMPDIR; keep the work dir empty
               TORCHINDUCTOR_CACHE_DIR=str(Path(workdir).parent / "inductor-cache"))
    return env


@dataclass
class WorkerProcess:
    """A started worker: its pid (a process group leader), its channel and its output log."""

    pid: int
    chan: socket.socket
    log: Path
    workdir: Path
    status_of: object = field(repr=False, default=None)  # callable(pid) -> str, where known

    def kill(self) -> None:
        for kill in (os.killpg, os.kill):
            try:
                kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.chan.close()

    def exit_status(self) -> str:
        """How the worker ended, for messages only (never for scoring)."""
        if self.status_of is None:
            return "unknown"
        for _ in range(20):
            status = self.status_of(self.pid)
            if status != "running":
                return status
            time.sleep(0.05)
        return "running"

    def output_tail(self, limit: int = 4000) -> str:
        try:
            with open(self.log, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - limit))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Launcher:
    """Starts workers for one grading process; reuse it across submissions to amortise start-up."""

    def __init__(self, limits: Limits | None = None, use_forkserver: bool = True, threads: int | None = None):
        self.limits = limits or Limits()
        self.threads = threads
        self.path = worker_import_path()
        self.tmp = Path(tempfile.mkdtemp(prefix="autograder-"))
        self.count = 0
        self.forkserver: _ForkServerClient | None = None
        self.protections = ["separate worker process", "hidden code not on the import path",
                            "private empty working directory", "wall-time limit per call",
                            "rlimits: cpu, file size, open files, no core dumps", "forbidden-call monitor"]
        if use_forkserver:
            try:
                self.forkserver = _ForkServerClient(self.path, self.tmp, self._base_config())
            except (OSError, HarnessError) as exc:
                print(f"autograder: fork server unavailable ({exc}); starting workers directly", file=sys.stderr)

    def _base_config(self) -> dict:
        return {"path": self.path, "limits": self.limits.for_worker(), "threads": self.threads}

    def start(self) -> WorkerProcess:
        self.count += 1
        workdir = self.tmp / f"work-{self.count}"
        workdir.mkdir()
        log = self.tmp / f"worker-{self.count}.log"
        config = {**self._base_config(), "workdir": str(workdir)}
        for attempt in (1, 2):
            if self.forkserver is None:
                break
            try:
                pid, chan = self.forkserver.spawn(config, log)
                return WorkerProcess(pid, chan, log, workdir, self.forkserver.status)
            except (OSError, HarnessError, ValueError) as exc:
                # A worker may have killed its parent; start a new fork server once, then go direct.
                print(f"autograder: fork server failed ({exc})", file=sys.stderr)
                self.forkserver.close()
                self.forkserver = None
                if attempt == 1:
                    self.forkserver = _ForkServerClient(self.path, self.tmp, self._base_config())
        return self._start_direct(config, log, workdir)

    def _start_direct(self, config: dict, log: Path, workdir: Path) -> WorkerProcess:
        ours, theirs = socket.socketpair()
        config = {**config, "mode": "worker", "chan_fd": theirs.fileno()}
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", BOOT, json.dumps(config)],
                                    pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=workdir, env=_worker_env(str(workdir)),
                                    start_new_session=True)
        theirs.close()

        def status(pid: int) -> str:
            code = proc.poll()
            return "running" if code is None else (f"signal {-code}" if code < 0 else f"exit {code}")
        return WorkerProcess(proc.pid, ours, log, workdir, status)

    def close(self) -> None:
        if self.forkserver is not None:
            self.forkserver.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "Launcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ForkServerClient:
    def __init__(self, path: list[str], tmp: Path, base: dict, timeout: float = 120.0):
        self.ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        workdir = Path(tempfile.mkdtemp(prefix="forkserver-", dir=tmp))
        config = {**base, "mode": "forkserver", "ctl_fd": theirs.fileno(), "workdir": str(workdir)}
        self.log = workdir.with_suffix(".log")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", BOOT, json.dumps(config)],
                                         pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=workdir, env=_worker_env(str(workdir)),
                                         start_new_session=True)
        theirs.close()
        self.timeout = timeout
        self._ready = False

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

    def spawn(self, config: dict, log: Path) -> tuple[int, socket.socket]:
        if not self._ready:
            self._recv()  # {"ready": true}: torch is imported over there
            self._ready = True
        ours, theirs = socket.socketpair()
        with open(log, "wb") as out:
            message = json.dumps({"cmd": "spawn", "config": {**config, "mode": "worker"}}).encode()
            socket.send_fds(self.ctl, [message], [theirs.fileno(), out.fileno()])
        theirs.close()
        return int(self._recv()["pid"]), ours

    def status(self, pid: int) -> str:
        try:
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

"""Start worker processes for student code, through a fork server when possible, and end them.

A ``Launcher`` serves one grading process: it hands each submission a worker in a cgroup of its own
(started ahead as a spare, when a batch slot asks for it), and kills it, its cgroup and everything in it
afterwards. What a worker gets (import path, environment, limits, jail settings) is ``provision.py``'s;
the fork server's client is ``forkclient.py``.

This module must not import torch: the CLI starts the fork server first so that its ``import torch``
overlaps with the grader's own.
"""
from __future__ import annotations

import contextlib
import gc
import os
import queue
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from gradeworker.walls import JailSettings, Wall, describe, missing_for_strict

from .cgroups import Cgroup, CgroupFactory
from .errors import HarnessError
from .forkclient import ForkServerClient, PendingSpawn
from .provision import Limits, boot, give_folder, jail_spec, torch_threads, worker_import_path


def not_dumpable() -> None:
    """No core dumps, no ptrace and no /proc/<pid>/mem of the grader by other processes of its user (a
    worker that runs as the grader's user, where no uid drop is possible)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


@dataclass
class WorkerProcess:
    """A started worker: its pid (a process group leader), its channel and its output log."""

    pid: int  # as the fork server sees it: the pid namespace's pid 1, or its keeper (jail.PidNamespaces)
    chan: socket.socket
    log: Path
    workdir: Path
    status_of: Callable[[int], str] | None = field(repr=False, default=None)  # how a pid ended, where known
    cgroup: Cgroup | None = field(repr=False, default=None)  # owned: emptied and removed on kill
    reaper: "Reaper | None" = field(repr=False, default=None)  # finishes emptying the cgroup, off the grading's time
    prepared_ahead: bool = False  # a spare that was sent this submission's PREPARE while the last one was graded

    def kill(self) -> None:
        self.chan.close()
        for kill in (os.killpg, os.kill):
            try:
                kill(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.cgroup is not None:
            if self.reaper is not None:
                self.cgroup.signal_all()  # every process in it is killed now; waiting for them is the reaper's
                self.reaper.put(self.cgroup)
            else:
                self.cgroup.kill_all()
                self.cgroup.remove()

    def exit_status(self) -> str:
        """How the worker ended, for messages only (never for scoring)."""
        status = "unknown"
        if self.status_of is not None:
            for _ in range(20):
                status = self.status_of(self.pid)
                if status != "running":
                    break
                time.sleep(0.05)
        if self.cgroup is not None and self.cgroup.out_of_memory():
            status += f"; out of memory (limit {self.cgroup.memory_bytes / 2**30:g} GiB)"
        return status

    def output_tail(self, limit: int = 4000) -> str:
        try:
            with open(self.log, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - limit))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Reaper:
    """Empties and removes the cgroups of killed workers in a thread of its own: the kernel takes some
    milliseconds to end a process that holds torch, and no grading has to wait for that. ``close`` waits
    until every cgroup handed over is gone."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Cgroup | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def put(self, cgroup: Cgroup) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="autograder-reaper", daemon=True)
            self.thread.start()
        self.queue.put(cgroup)

    def _run(self) -> None:
        while (cgroup := self.queue.get()) is not None:
            cgroup.kill_all()
            cgroup.remove()

    def close(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None


@dataclass
class _Spare:
    """A worker started ahead of need (``Launcher(spares=True)``): forked, placed in its cgroup and behind
    its walls while the previous submission is still being graded. It has run nothing of a student's."""

    pending: "PendingSpawn"
    log: Path
    workdir: Path
    cgroup: Cgroup | None
    ahead: bytes | None = None  # the request already sent to it (see Launcher.start), if any


class Launcher:
    """Starts workers for one grading process; reuse it across submissions to amortise start-up.

    ``spares=True`` (a batch's slots) keeps one worker started ahead for the next submission, so its fork,
    cgroup and walls overlap the grading before it instead of adding to its time. ``threads``: torch's
    intra-op threads in the workers (default ``provision.torch_threads()``, one slot's)."""

    def __init__(self, limits: Limits | None = None, use_forkserver: bool = True, threads: int | None = None,
                 slot: int = 0, jail: bool = True, strict: bool = False, spares: bool = False):
        self.limits = limits or Limits()
        self.keep_spares = spares
        self._spares: dict[bool, _Spare] = {}
        self.reaper = Reaper()
        # torch's threads in each worker (and, through grade_submission, in the grading process): one slot's share
        # of the cores unless told (provision.torch_threads; None there: torch's own, from OMP_NUM_THREADS)
        self.threads = threads if threads is not None else torch_threads()
        # refuse to grade without the filesystem, pid and network walls (--strict sets this for pool processes too)
        self.strict = strict or os.environ.get("AUTOGRADER_STRICT") == "1"
        self.path = worker_import_path()
        self.jail = jail_spec(self.path, self.limits, slot) if jail else JailSettings(enabled=False)
        self.tmp = Path(tempfile.mkdtemp(prefix="autograder-"))
        os.chmod(self.tmp, 0o700)  # the logs and work dirs of this grader's workers: nobody else's business
        self.work_root = self._work_root()
        self.count = 0
        self.cgroups = CgroupFactory(self.limits.memory_bytes, self.limits.max_pids)
        self.forkserver: ForkServerClient | None = None
        self.protections = ["separate worker process", "hidden code not on the import path",
                            "wall-time limit per call", "rlimits: cpu, file size, open files, no core dumps",
                            "forbidden-call monitor", "plain-data protocol with size and depth limits"]
        if self.cgroups.available:
            self.protections.append(f"cgroup per submission: memory {self.limits.memory_bytes / 2**30:g} GiB, "
                                    f"{self.limits.max_pids} processes, everything killed afterwards")
        if use_forkserver:
            try:
                self.forkserver = ForkServerClient(self.path, self.tmp, self._base_config())
            except (OSError, HarnessError) as exc:
                print(f"autograder: fork server unavailable ({exc}); starting workers directly", file=sys.stderr)

    def _work_root(self) -> Path:
        """Where the workers' work dirs (and torch's cache beside them) go. Behind the private filesystem
        they move to its own /tmp; but where a container refuses the namespaces (Docker's default: root
        without CAP_SYS_ADMIN, so Gradescope's) a worker dropped to the slot's uid works on the host's
        folders, and this grader's 0700 folder is closed to it. So, as root, the work dirs get a folder of
        their own, owned by the slot's uid: the logs beside them (other students' output) stay closed."""
        if not self.jail.enabled or os.getuid() != 0 or self.jail.uid is None:
            return self.tmp
        root = Path(tempfile.mkdtemp(prefix="autograder-work-"))
        give_folder(root, self.jail)
        return root

    def _base_config(self) -> dict:
        return {"path": self.path, "limits": self.limits.for_worker(), "threads": self.threads,
                "jail": self.jail.to_wire()}

    def describe(self, walls: list[Wall]) -> list[str]:
        """The walls that held around a worker, as a result's protections list them."""
        return describe(walls, self.jail)

    def missing_walls(self, walls: list[Wall]) -> list[str]:
        """The walls --strict needs that did not hold around a worker (``walls``: what it reported)."""
        return missing_for_strict(walls)

    def _prepare_start(self, allow_fork: bool) -> tuple[dict, Path, Path, Cgroup | None]:
        self.count += 1
        workdir = self.work_root / f"work-{self.count}"
        workdir.mkdir()
        if self.work_root != self.tmp:
            give_folder(workdir, self.jail)
        log = self.tmp / f"worker-{self.count}.log"
        cgroup = self.cgroups.create()
        config = {**self._base_config(), "workdir": str(workdir), "allow_fork": allow_fork,
                  "cgroup_procs": cgroup.procs_files if cgroup else []}
        return config, log, workdir, cgroup

    def start(self, allow_fork: bool = False, ahead: bytes | None = None) -> WorkerProcess:
        """A submission's first process, in a cgroup of its own, behind the walls this host allows.

        ``ahead`` (an encoded request: the submission's PREPARE) is sent to the next spare as soon as it
        is started, so that it works on it while this submission is graded; a spare taken here that was sent the
        same request comes back with ``prepared_ahead`` set: its reply is waiting to be read."""
        worker = self._take_spare(allow_fork, ahead)
        if worker is None:
            worker = self._start_now(allow_fork)
        if self.keep_spares and self.forkserver is not None:
            self._start_spare(allow_fork, ahead)
        return worker

    def _start_spare(self, allow_fork: bool, ahead: bytes | None) -> None:
        config, log, workdir, cgroup = self._prepare_start(allow_fork)
        try:
            pending = self.forkserver.spawn_later(config, log)  # type: ignore[union-attr]
        except OSError:
            if cgroup is not None:
                cgroup.remove()
            return
        spare = _Spare(pending, log, workdir, cgroup)
        if ahead is not None:
            try:  # read by the worker once it is up, after its hello
                pending.chan.sendall(ahead)
                spare.ahead = ahead
            except OSError:
                pass  # a spare that died early: _take_spare finds out and starts one now
        self._spares[allow_fork] = spare

    def _take_spare(self, allow_fork: bool, ahead: bytes | None = None, any_kind: bool = False
                    ) -> WorkerProcess | None:
        """The spare, answered; None if there is none or it died. One sent another request ahead (another
        assignment's PREPARE: a second one would wrap the dispatcher's check twice) is ended, unless ``any_kind``."""
        spare = self._spares.pop(allow_fork, None)
        if spare is None or self.forkserver is None:
            return None
        try:
            pid = self.forkserver.answer(spare.pending)
        except (OSError, HarnessError, ValueError, KeyError):
            if spare.cgroup is not None:
                spare.cgroup.kill_all()
                spare.cgroup.remove()
            return None
        worker = WorkerProcess(pid, spare.pending.chan, spare.log, spare.workdir, self.forkserver.status,
                               cgroup=spare.cgroup, reaper=self.reaper, prepared_ahead=spare.ahead is not None)
        if not any_kind and spare.ahead is not None and spare.ahead != ahead:
            worker.kill()
            return None
        return worker

    def _start_now(self, allow_fork: bool) -> WorkerProcess:
        config, log, workdir, cgroup = self._prepare_start(allow_fork)
        for attempt in (1, 2):
            if self.forkserver is None:
                break
            try:
                pid, chan = self.forkserver.spawn(config, log)
                return WorkerProcess(pid, chan, log, workdir, self.forkserver.status, cgroup=cgroup,
                                     reaper=self.reaper)
            except (OSError, HarnessError, ValueError) as exc:
                # A worker may have killed its parent; start a new fork server once, then go direct.
                print(f"autograder: fork server failed ({exc})", file=sys.stderr)
                self.forkserver.close()
                self.forkserver = None
                if attempt == 1:
                    self.forkserver = ForkServerClient(self.path, self.tmp, self._base_config())
        return self._start_direct(config, log, workdir, cgroup)

    def _start_direct(self, config: dict, log: Path, workdir: Path, cgroup: Cgroup | None) -> WorkerProcess:
        ours, theirs = socket.socketpair()
        config = {**config, "mode": "worker", "chan_fd": theirs.fileno()}
        proc = boot(config, theirs.fileno(), log, workdir)
        theirs.close()
        for procs in config.get("cgroup_procs", []):
            Path(procs).write_text(str(proc.pid))

        def status(pid: int) -> str:
            code = proc.poll()
            return "running" if code is None else (f"signal {-code}" if code < 0 else f"exit {code}")
        return WorkerProcess(proc.pid, ours, log, workdir, status, cgroup=cgroup, reaper=self.reaper)

    def drop_spares(self) -> None:
        """End the workers started ahead (a batch is over): nothing of ours stays running."""
        for allow_fork in list(self._spares):
            spare = self._take_spare(allow_fork, any_kind=True)
            if spare is not None:
                spare.reaper = None  # wait for it here
                spare.kill()

    def close(self) -> None:
        self.drop_spares()
        if self.forkserver is not None:
            self.forkserver.close()
        self.reaper.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.work_root != self.tmp:
            shutil.rmtree(self.work_root, ignore_errors=True)

    def __enter__(self) -> "Launcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def imports_without_gc() -> Iterator[None]:
    """torch, pytest and the graders' modules imported with Python's cyclic collector off: they build a few
    hundred thousand objects that stay, and the collector's passes over them cost a fresh grading ~15 % of its
    import time (0.2-0.3 s of CPU here). On again afterwards, for everything that runs."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

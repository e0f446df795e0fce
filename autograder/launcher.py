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
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import defaults
from .cgroups import Cgroup, CgroupFactory
from .errors import HarnessError

BOOT = """
import json, sys
config = json.loads(sys.argv[1])
sys.path[:] = config["path"]
if config["mode"] == "forkserver":
    from gradeworker.forkserver import main
    main(config)
else:
    from gradeworker.jail import enter, inside, preload
    preload()
    layers = enter(config.get("jail", {}), 1)
    from gradeworker.server import run_worker
    run_worker(int(config["chan_fd"]), {**config, **inside(config, layers)}, layers)
"""
# Not D2L_DATA_ROOT: the worker never reads the course data (the test set's labels are there); graders send data.
PASSED_ENV = ("CUDA_VISIBLE_DEVICES", "LANG", "LC_ALL", "OMP_NUM_THREADS", "NVIDIA_VISIBLE_DEVICES")
# Data files shipped inside installed packages that the worker must not read: scikit-learn's digits are the
# course's fallback data set (d2lcourse.data.fallback_datasets), test labels included. Covered in its filesystem.
HIDDEN_PACKAGE_DATA = ("sklearn/datasets/data",)
SLOT_UID_BASE = 61000  # worker uid = base + slot, when the grader runs as root
NEEDED_LAYERS = ("mount, network, IPC, UTS and pid namespaces", "minimal read-only filesystem")


@dataclass
class Limits:
    """Per-worker limits. Wall-clock limits are enforced by the grader, the rest by the kernel."""

    call_seconds: float = 10.0  # one call of a student function (graders may give a training call more)
    retry_seconds: float = 2.0  # a later call of a function that already overran once
    load_seconds: float = 120.0  # running all of a notebook's definition cells
    cell_seconds: float = 10.0  # one of those cells: definitions take milliseconds
    train_seconds: float | None = None  # caps the time budget of parts graded by training (None: the assignment's)
    cpu_seconds: int = 900  # whole worker
    file_bytes: int = 64 << 20  # any file the worker writes, its stdout log included
    open_files: int = 512
    address_space_bytes: int = 0  # 0: no RLIMIT_AS (it breaks CUDA); the cgroup limits memory instead
    memory_bytes: int = 4 << 30  # one submission's processes together (cgroup)
    max_pids: int = 512  # one submission's processes and threads together (cgroup)
    tmpfs_bytes: int = 1 << 30  # its private /tmp (the work dir) and /dev/shm, each

    def for_worker(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.endswith("_seconds") or k == "cpu_seconds"}


def gpu_devices() -> list[str]:
    """The NVIDIA device files a worker needs for the GPUs it is assigned (CUDA_VISIBLE_DEVICES), no others."""
    if not os.path.exists("/dev/nvidiactl"):
        return []
    shared = [d for d in ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset") if os.path.exists(f"/dev/{d}")]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    if visible and all(v.strip().isdigit() for v in visible.split(",")):
        cards = [f"nvidia{int(v)}" for v in visible.split(",")]
    else:  # all of them, or UUIDs we cannot map to device files here
        cards = sorted(d for d in os.listdir("/dev") if d.startswith("nvidia") and d[6:].isdigit())
    return shared + [c for c in cards if os.path.exists(f"/dev/{c}")]


def jail_spec(path: list[str], limits: Limits, slot: int) -> dict:
    """What the worker's private filesystem holds (read-only binds), and whom it runs as."""
    home, rest = path[0], path[1:]
    binds = [(home, "/opt/course"), (sys.base_prefix, sys.base_prefix)]
    binds += [(p, p) for p in rest if not p.startswith(sys.base_prefix + os.sep)]
    hidden = [os.path.join(p, d) for p in rest for d in HIDDEN_PACKAGE_DATA if os.path.isdir(os.path.join(p, d))]
    return {"enabled": True, "binds": binds, "hidden": hidden, "uid": SLOT_UID_BASE + slot, "gid": SLOT_UID_BASE + slot,
            "devices": gpu_devices(), "tmpfs_bytes": limits.tmpfs_bytes}


def _exposes_hidden_code(path: str) -> bool:
    """Whether a folder on the path would lead to the hidden graders or the references."""
    p = Path(path)
    return any((p / name).exists() for name in ("graders", "solutions", "solutions.py"))


def worker_import_path() -> list[str]:
    """The worker's sys.path: ours minus anything that leads to the hidden tests or references."""
    spec = importlib.util.find_spec("gradeworker")
    if spec is None or spec.origin is None:
        raise HarnessError("the package gradeworker is not installed: run `make env` (pip install -e ./course)")
    home = str(Path(spec.origin).resolve().parent.parent)
    if _exposes_hidden_code(home):
        raise HarnessError(f"gradeworker lives beside graders/ or solutions/ in {home}; the worker would "
                           "see them. Install the course package from its own folder (course/).")
    # Only the standard library and installed packages: never a folder that happens to be on our own path
    # (pytest's rootdir, the checkout, a tests/ folder full of example solutions).
    keep = [p for p in sys.path if p and os.path.isdir(p) and not _exposes_hidden_code(p)
            and (p.startswith(sys.base_prefix + os.sep) or Path(p).name in ("site-packages", "dist-packages"))]
    return [home] + [p for p in keep if os.path.realpath(p) != os.path.realpath(home)]


def _give(folder: Path, jail: dict) -> None:
    """``folder`` to the worker's uid (0700), or, where chown is refused (no CAP_CHOWN), writable by any uid
    but listable by none (1733): the worker still writes there, and nobody finds what another left."""
    try:
        os.chown(folder, jail["uid"], jail["gid"])
        os.chmod(folder, 0o700)
    except OSError:
        os.chmod(folder, 0o1733)


def not_dumpable() -> None:
    """No core dumps, no ptrace and no /proc/<pid>/mem of the grader by other processes of its user (a
    worker that runs as the grader's user, where no uid drop is possible)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def _worker_env(workdir: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update(PATH="/usr/local/bin:/usr/bin:/bin", HOME=workdir, TMPDIR=workdir, MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", TQDM_DISABLE="1",
               # torch._dynamo's import makes a cache folder (the fork server's; a worker sets its own: server.py)
               TORCHINDUCTOR_CACHE_DIR=str(Path(workdir).parent / "inductor-cache"))
    return env


@dataclass
class WorkerProcess:
    """A started worker: its pid (a process group leader), its channel and its output log."""

    pid: int  # as the fork server sees it (with a pid namespace: the namespace's keeper)
    chan: socket.socket
    log: Path
    workdir: Path
    status_of: object = field(repr=False, default=None)  # callable(pid) -> str, where known
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
        for _ in range(20 if self.status_of is not None else 0):
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

    pending: "_PendingSpawn"
    log: Path
    workdir: Path
    cgroup: Cgroup | None
    ahead: bytes | None = None  # the request already sent to it (see Launcher.start), if any


class Launcher:
    """Starts workers for one grading process; reuse it across submissions to amortise start-up.

    ``spares=True`` (a batch's slots) keeps one worker started ahead for the next submission, so its fork,
    cgroup and walls overlap the grading before it instead of adding to its time."""

    def __init__(self, limits: Limits | None = None, use_forkserver: bool = True, threads: int | None = None,
                 slot: int = 0, jail: bool = True, strict: bool = False, spares: bool = False):
        self.limits = limits or Limits()
        self.keep_spares = spares
        self._spares: dict[bool, _Spare] = {}
        self.reaper = Reaper()
        self.threads = threads
        # refuse to grade without the filesystem, pid and network walls (--strict sets this for pool processes too)
        self.strict = strict or os.environ.get("AUTOGRADER_STRICT") == "1"
        self.path = worker_import_path()
        self.jail = jail_spec(self.path, self.limits, slot) if jail else {"enabled": False}
        self.tmp = Path(tempfile.mkdtemp(prefix="autograder-"))
        os.chmod(self.tmp, 0o700)  # the logs and work dirs of this grader's workers: nobody else's business
        self.work_root = self._work_root()
        self.count = 0
        self.cgroups = CgroupFactory(self.limits.memory_bytes, self.limits.max_pids)
        self.forkserver: _ForkServerClient | None = None
        self.protections = ["separate worker process", "hidden code not on the import path",
                            "wall-time limit per call", "rlimits: cpu, file size, open files, no core dumps",
                            "forbidden-call monitor", "plain-data protocol with size and depth limits"]
        if self.cgroups.available:
            self.protections.append(f"cgroup per submission: memory {self.limits.memory_bytes / 2**30:g} GiB, "
                                    f"{self.limits.max_pids} processes, everything killed afterwards")
        if use_forkserver:
            try:
                self.forkserver = _ForkServerClient(self.path, self.tmp, self._base_config())
            except (OSError, HarnessError) as exc:
                print(f"autograder: fork server unavailable ({exc}); starting workers directly", file=sys.stderr)

    def _work_root(self) -> Path:
        """Where the workers' work dirs (and torch's cache beside them) go. Behind the private filesystem
        they move to its own /tmp; but where a container refuses the namespaces (Docker's default: root
        without CAP_SYS_ADMIN, so Gradescope's) a worker dropped to the slot's uid works on the host's
        folders, and this grader's 0700 folder is closed to it. So, as root, the work dirs get a folder of
        their own, owned by the slot's uid: the logs beside them (other students' output) stay closed."""
        if not self.jail.get("enabled") or os.getuid() != 0 or self.jail.get("uid") is None:
            return self.tmp
        root = Path(tempfile.mkdtemp(prefix="autograder-work-"))
        _give(root, self.jail)
        return root

    def starting(self) -> bool:
        """Whether the fork server is still importing (a fresh grading's first moments): time the grader
        would only spend waiting for its first worker."""
        return self.forkserver is not None and not self.forkserver.ready_now()

    def _base_config(self) -> dict:
        return {"path": self.path, "limits": self.limits.for_worker(), "threads": self.threads, "jail": self.jail}

    def missing_walls(self, layers: list[str]) -> list[str]:
        """The walls --strict needs that did not hold for a worker that reported ``layers``."""
        return [need for need in NEEDED_LAYERS if not any(layer.startswith(need) for layer in layers)]

    def _prepare_start(self, allow_fork: bool) -> tuple[dict, Path, Path, Cgroup | None]:
        self.count += 1
        workdir = self.work_root / f"work-{self.count}"
        workdir.mkdir()
        if self.work_root != self.tmp:
            _give(workdir, self.jail)
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
                    self.forkserver = _ForkServerClient(self.path, self.tmp, self._base_config())
        return self._start_direct(config, log, workdir, cgroup)

    def _start_direct(self, config: dict, log: Path, workdir: Path, cgroup: Cgroup | None) -> WorkerProcess:
        ours, theirs = socket.socketpair()
        config = {**config, "mode": "worker", "chan_fd": theirs.fileno()}
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", BOOT, json.dumps(config)],
                                    pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=workdir, env=_worker_env(str(workdir)),
                                    start_new_session=True)
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


@dataclass
class _PendingSpawn:
    chan: socket.socket
    pid: int | None = None


class _ForkServerClient:
    def __init__(self, path: list[str], tmp: Path, base: dict, timeout: float = 120.0):
        self.ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        workdir = Path(tempfile.mkdtemp(prefix="forkserver-", dir=tmp))
        # The cache folder's name goes to the fork server alone, never into a worker's configuration.
        config = {**base, "mode": "forkserver", "ctl_fd": theirs.fileno(), "workdir": str(workdir),
                  "cache_dir": str(defaults.cache_dir())}
        self.log = workdir.with_suffix(".log")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", BOOT, json.dumps(config)],
                                         pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=workdir, env=_worker_env(str(workdir)),
                                         start_new_session=True)
        theirs.close()
        self.timeout = timeout
        self._ready = False
        self.preload: list = []  # [step, seconds] of the fork server's imports, once it is ready
        self._unanswered: list[_PendingSpawn] = []

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

    def ready_now(self) -> bool:
        """Whether the fork server has said it is ready, without waiting for it."""
        if not self._ready and select.select([self.ctl], [], [], 0)[0]:
            self.wait_ready()
        return self._ready

    def wait_ready(self) -> None:
        """Until the fork server says it is ready: torch and the rest are imported over there."""
        if not self._ready:
            ready = self._recv()
            self.preload = list(ready.get("preload") or [])
            self._ready = True

    def spawn(self, config: dict, log: Path) -> tuple[int, socket.socket]:
        pending = self.spawn_later(config, log)
        return self.answer(pending), pending.chan

    def spawn_later(self, config: dict, log: Path) -> "_PendingSpawn":
        """Ask for a worker without waiting for the answer (``answer`` reads it)."""
        if not self._ready:
            self.wait_ready()
        ours, theirs = socket.socketpair()
        with open(log, "wb") as out:
            message = json.dumps({"cmd": "spawn", "config": {**config, "mode": "worker"}}).encode()
            socket.send_fds(self.ctl, [message], [theirs.fileno(), out.fileno()])
        theirs.close()
        pending = _PendingSpawn(ours)
        self._unanswered.append(pending)
        return pending

    def answer(self, pending: "_PendingSpawn") -> int:
        """The pid of an asked-for worker (answers come in the order asked)."""
        self._read_answers(until=pending)
        if pending.pid is None:
            raise HarnessError("the fork server did not start the worker")
        return pending.pid

    def _read_answers(self, until: "_PendingSpawn | None" = None) -> None:
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

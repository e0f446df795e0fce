"""A fork server: pays for ``import torch`` once, then forks a fresh worker per request in ~10 ms.

It never initialises CUDA (a forked child may, once), never runs student code itself, and exits when
the grader that started it goes away (its control socket closes), killing the workers it forked.

Control protocol, one JSON object per message on an AF_UNIX stream socket:
  grader -> server  {"cmd": "spawn", "config": {...}} with two file descriptors attached:
                    the worker's end of its channel and the file its stdout/stderr go to.
  server -> grader  {"ready": true, "pid": ..., "preload": [[step, seconds], ...]} once, first
  server -> grader  {"pid": 1234}
  grader -> server  {"cmd": "status", "pid": 1234}  ->  {"status": "running" | "exit 3" | "signal 9"}
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

from .cache import MATPLOTLIB, read_bytes, usable_folder, write_bytes

_MAX_MSG = 1 << 20


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status)}"


class ForkServer:
    def __init__(self, ctl: socket.socket, deferred: tuple[Callable[[], object], ...] | list[Callable[[], object]] = (),
                 preloaded: tuple[list, ...] | list[list] = (), pid_namespaces: bool = False):
        self.ctl = ctl
        self.preloaded = list(preloaded)  # [step, seconds] of the preload, told the grader with "ready"
        self.children: dict[int, str] = {}
        self.deferred = list(deferred)  # what to preload once the first worker is on its way
        from .jail import PidNamespaces
        self.pid_namespaces = PidNamespaces(pid_namespaces)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.children:
                self.children[pid] = _describe(status)

    def reply(self, obj: dict) -> None:
        self.ctl.sendall(json.dumps(obj).encode() + b"\n")

    def serve(self) -> None:
        self.reply({"ready": True, "pid": os.getpid(), "preload": self.preloaded})
        while True:
            msg, fds, _flags, _addr = socket.recv_fds(self.ctl, _MAX_MSG, 2)
            if not msg:
                break
            request = json.loads(msg)
            self.reap()
            if request["cmd"] == "spawn":
                self.reply({"pid": self.spawn(request["config"], fds)})
                while self.deferred:  # a worker never sees a half-imported module: it was forked before
                    self.deferred.pop(0)()
            elif request["cmd"] == "status":
                self.reply({"status": self.children.get(int(request["pid"]), "unknown")})
            for fd in fds:
                os.close(fd)
        for pid, status in self.children.items():
            if status == "running":
                _kill_group(pid)

    def spawn(self, config: dict, fds: list[int]) -> int:
        """Fork a submission's first process. Before it runs anything it waits until this server (still
        the grader's own user) has put it into the submission's cgroups; then it raises its walls."""
        chan_fd, out_fd = fds
        ready_r, ready_w = os.pipe()
        pid_one = self.pid_namespaces.before_fork()
        try:
            pid = os.fork()
        except OSError:
            if pid_one:
                self.pid_namespaces.after_fork()
            raise
        if pid != 0 and pid_one:
            # Raises if it cannot: this server then exits (and the grader starts another) rather than fork the
            # next worker into this one's pid namespace. The child below then reads no byte, and exits too.
            self.pid_namespaces.after_fork()
        if pid == 0:
            code = 1
            try:
                self.ctl.close()
                os.close(ready_w)
                placed = os.read(ready_r, 1)
                os.close(ready_r)
                if not placed:  # this server ended before it put the child in its cgroups: run nothing
                    os._exit(1)
                os.setsid()  # its own session and process group
                os.dup2(out_fd, 1)
                os.dup2(out_fd, 2)
                _close_fds_except({0, 1, 2, chan_fd})
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                from .boot import start_worker
                start_worker(config, chan_fd, pid_one)  # the same boot as a worker started without this server
                code = 0
            except BaseException:
                traceback.print_exc()  # into the worker's log, for the instructor detail
            finally:
                sys.stdout.flush()
                os._exit(code)
        os.close(ready_r)
        for procs in config.get("cgroup_procs", []):
            try:
                with open(procs, "w") as fh:
                    fh.write(str(pid))
            except OSError as exc:
                print(f"forkserver: could not join {procs}: {exc}", file=sys.stderr)
        os.write(ready_w, b"x")
        os.close(ready_w)
        self.children[pid] = "running"
        return pid


def _close_fds_except(keep: set[int]) -> None:
    for fd in sorted(int(n) for n in os.listdir("/proc/self/fd") if int(n) not in keep):
        try:
            os.close(fd)
        except OSError:
            pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def preload(cache_dir: str | None = None) -> list[list]:
    """Import what every worker needs, once, before the first fork; returns ``[step, seconds]`` for each step
    (the grader's benchmark prints them). ``cache_dir``: where what is built once per installed library is
    kept between gradings (``cache``): matplotlib's font list and the ATen operator table. What only some
    workers need is in ``later``, done after the first fork."""
    steps: list[list] = []
    started = time.perf_counter()

    def done(step: str) -> None:
        nonlocal started
        now = time.perf_counter()
        steps.append([step, round(now - started, 4)])
        started = now

    cache = usable_folder(cache_dir)
    # The cyclic collector off while importing: its passes over the objects torch and the rest build (which all
    # stay) cost ~15 % of the preload. At the end those objects are frozen out of every later collection, so that
    # a worker's collections never walk them (nor touch their pages: fewer copy-on-write faults after a fork).
    gc.disable()
    import torch  # noqa: F401  (the point of a fork server: imported once, shared by every fork)
    done("import torch")
    # Imported lazily by torch itself, and costly in every worker that would import it anew:
    # autograd.grad(..., grad_outputs=...) pulls in sympy (~0.7 s), and every meta-device kernel of the device
    # probe imports sympy itself (torch._prims_common.elementwise_dtypes): a worker needs it, unlike the grader
    # process (gradeworker.lazyshapes). It does not initialise CUDA.
    import torch.fx.experimental.symbolic_shapes  # noqa: F401
    done("import torch.fx.experimental.symbolic_shapes (sympy)")
    import numpy  # noqa: F401

    import d2lcourse
    # Its submodules too, now: d2lcourse imports them when a name is first used (PEP 562), and inside a worker's
    # walls its __path__ (the host's folder, as imported here) is not there: the import would fail.
    for module in sorted(set(d2lcourse._WHERE.values())):
        importlib.import_module(f"d2lcourse.{module}")
    from . import server  # noqa: F401
    done("import numpy, d2lcourse, gradeworker.server")
    from .dispatch import operator_index
    operator_index(cache)  # the table every worker's forbidden-operator check looks names up in
    done("ATen operator table")
    from .jail import preload as preload_jail
    preload_jail()
    done("jail preload (pyseccomp)")
    # Last, once every module with torch's never-compile markers is imported: a worker's first optimizer step
    # or meta-device call no longer imports torch._dynamo (1.5-2.5 s), unless its code compiles.
    from .lazydynamo import defer
    defer()
    done("torch._dynamo deferred until something compiles")
    gc.freeze()
    gc.enable()
    return steps


def later(cache_dir: str | None = None) -> list[Callable[[], object]]:
    """What the fork server imports once its first worker is forked (on the core that worker's grader leaves
    idle while it waits): matplotlib, which graded code seldom imports (the notebooks' plots are in demo
    cells, which grading skips). The first worker, if it plots, imports it itself; later ones inherit it."""
    return [lambda: _import_matplotlib(usable_folder(cache_dir))]


def _import_matplotlib(cache: Path | None) -> None:
    """matplotlib.pyplot on Agg, its font list copied in from the cache first (and out to it when new).

    Without it the list is built from the system's fonts each time (~0.5 s), since the fork server's HOME is
    a new folder. matplotlib itself only ever sees its usual cache folder under that HOME (it remembers it
    for good): the cache's own name reaches no worker."""
    import matplotlib
    matplotlib.use("Agg")
    kept = cache / f"{MATPLOTLIB}-{matplotlib.__version__}" if cache is not None else None
    own = Path(matplotlib.get_cachedir())
    if kept is not None:
        for path in kept.glob("fontlist-*.json"):
            data = read_bytes(path)
            if data is not None:  # matplotlib builds the list again from one that does not parse
                (own / path.name).write_bytes(data)
    import matplotlib.pyplot  # noqa: F401  (reads the font list, or builds and writes it)
    if kept is not None and usable_folder(kept) is not None:
        for path in own.glob("fontlist-*.json"):
            if not (kept / path.name).exists():
                write_bytes(kept / path.name, path.read_bytes())


def main(config: dict) -> None:
    """Preload what every worker needs, then serve spawn requests on the inherited control socket."""
    os.chdir(config["workdir"])
    from .jail import PidNamespaces
    from .walls import JailSettings
    # Tried before torch is imported, while a fork of this process is cheap; every worker has the base config's walls.
    pid_namespaces = JailSettings.from_wire(config.get("jail")).enabled and PidNamespaces.works_here()
    steps = preload(config.get("cache_dir"))
    ctl = socket.socket(fileno=int(config["ctl_fd"]))
    ForkServer(ctl, deferred=later(config.get("cache_dir")), preloaded=steps, pid_namespaces=pid_namespaces).serve()
    sys.stdout.flush()
    os._exit(0)  # skip the interpreter's teardown of torch: the grader waits for this exit

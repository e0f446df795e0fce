"""One cgroup per submission: a memory limit, a process limit, and a way to end everything it started.

cgroup v2 is used where its memory and pids controllers are delegated to us, else the v1 hierarchies
(what these machines have). Without write access (an ordinary user on a laptop) there is no cgroup
and the result records it. Folders are named ``autograder/<grader pid>-<n>``: a grader removes what
its own dead predecessors left behind, never a living grader's.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PARENT = "autograder"


def _writable(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def hierarchies() -> dict[str, Path] | None:
    """Where our cgroups go: {"memory": dir, "pids": dir}, or None when we cannot make any."""
    unified = ROOT / "cgroup.controllers"
    if unified.is_file() and {"memory", "pids"} <= set(unified.read_text().split()) and _writable(ROOT):
        return {"v2": ROOT / PARENT}
    v1 = {name: ROOT / name / PARENT for name in ("memory", "pids")}
    if all(_writable(ROOT / name) for name in ("memory", "pids")):
        return v1
    return None


@dataclass
class Cgroup:
    dirs: list[Path]
    memory_bytes: int

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def out_of_memory(self) -> bool:
        """Whether the memory limit was hit (so a killed worker can be labelled out-of-memory)."""
        for d in self.dirs:
            for name, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
                try:
                    for line in (d / name).read_text().splitlines():
                        k, _, v = line.partition(" ")
                        if k == key and int(v) > 0:
                            return True
                except (OSError, ValueError):
                    continue
            try:
                if int((d / "memory.failcnt").read_text()) > 0:
                    return True
            except (OSError, ValueError):
                continue
        return False

    def signal_all(self) -> None:
        """SIGKILL every process in it once, without waiting for them to end."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in it until none is left (a fork loop cannot outrun this for long)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still busy while the kernel finishes the kills
                    time.sleep(0.02)


class CgroupFactory:
    """Makes the cgroups of one grader process."""

    def __init__(self, memory_bytes: int, max_pids: int):
        self.memory_bytes, self.max_pids = memory_bytes, max_pids
        self.where = hierarchies()
        self.count = 0
        if self.where:
            for parent in self.where.values():
                try:
                    parent.mkdir(exist_ok=True)
                    if parent.name == PARENT and "v2" in self.where:
                        (parent.parent / "cgroup.subtree_control").write_text("+memory +pids")
                        (parent / "cgroup.subtree_control").write_text("+memory +pids")
                except OSError:
                    self.where = None
                    break
        if self.where:
            self._remove_stale()

    @property
    def available(self) -> bool:
        return self.where is not None

    def _remove_stale(self) -> None:
        for parent in (self.where or {}).values():
            for child in parent.iterdir() if parent.is_dir() else []:
                owner = child.name.split("-")[0]
                if child.is_dir() and owner.isdigit() and not _alive(int(owner)):
                    Cgroup([child], 0).kill_all(1.0)
                    Cgroup([child], 0).remove()

    def create(self) -> Cgroup | None:
        if not self.where:
            return None
        self.count += 1
        name = f"{os.getpid()}-{self.count}"
        dirs = []
        try:
            for kind, parent in self.where.items():
                d = parent / name
                d.mkdir()
                dirs.append(d)
                if kind in ("v2", "memory"):
                    limit = "memory.max" if kind == "v2" else "memory.limit_in_bytes"
                    (d / limit).write_text(str(self.memory_bytes))
                    if kind == "v2":
                        (d / "memory.swap.max").write_text("0") if (d / "memory.swap.max").exists() else None
                if kind in ("v2", "pids"):
                    (d / "pids.max").write_text(str(self.max_pids))
        except OSError:
            Cgroup(dirs, 0).remove()
            return None
        return Cgroup(dirs, self.memory_bytes)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

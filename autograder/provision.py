"""What a worker gets: its interpreter and import path, its environment, its limits and its jail's settings.

The worker runs ``python -I -S`` with an import path built here: the standard library, the
environment's site-packages (read directly, without the ``.pth`` files that an editable install of
this project uses to expose ``autograder``), and the folder holding ``gradeworker`` and
``d2lcourse``. Its working directory is a fresh empty folder outside the course. The worker checks
for itself that ``autograder`` and ``solutions`` cannot be imported and reports it; grading refuses
to go on otherwise. Nothing here starts a process (``launcher.py`` does, directly or through the fork
server's client in ``forkclient.py``); everything here is data or a pure function of the host.

This module must not import torch: the CLI starts the fork server first so that its ``import torch``
overlaps with the grader's own.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from gradeworker.walls import JailSettings

from .errors import HarnessError


def torch_threads(slots: int = 1, cores: int | None = None) -> int | None:
    """torch's intra-op threads for a grading process and each of its workers, where ``slots`` of them grade at
    once on this host: half a slot's share of the cores (at least one), since a slot is two processes that use
    torch, its grader and its worker, taking turns; None where the course set ``OMP_NUM_THREADS`` (torch reads it,
    and workers are passed it).

    torch's default, one thread per core in every process, makes the two wait on each other's threads: an operator
    split over threads waits at its end for the one the scheduler gave to the other process, spinning after its
    own last operator (3.5 or 7 ms a call on this 2-core VM, against 0.15 ms). One thread each took a warm hw2
    grading from 0.76 to 0.26 s here, hw5 from 1.0 to 0.69 s (benchmarks/grade_speed.py)."""
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    cores = cores or os.cpu_count() or 1
    return max(1, cores // (2 * max(1, slots)))


# Only what must run before gradeworker can be imported (-I -S: no path of ours yet); the boot itself is
# gradeworker.boot's, the same for a worker the fork server forks.
BOOT = """
import json, sys
config = json.loads(sys.argv[1])
sys.path[:] = config["path"]
if config["mode"] == "forkserver":
    from gradeworker.forkserver import main
else:
    from gradeworker.boot import main
main(config)
"""
# Not D2L_DATA_ROOT: the worker never reads the course data (the test set's labels are there); graders send data.
PASSED_ENV = ("CUDA_VISIBLE_DEVICES", "AUTOGRADER_GPU_MEMORY_FRACTION", "LANG", "LC_ALL", "OMP_NUM_THREADS",
              "NVIDIA_VISIBLE_DEVICES")
# Data files shipped inside installed packages that the worker must not read: scikit-learn's digits are the
# course's fallback data set (d2lcourse.data.fallback_datasets), test labels included. Covered in its filesystem.
HIDDEN_PACKAGE_DATA = ("sklearn/datasets/data",)
SLOT_UID_BASE = 61000  # worker uid = base + slot, when the grader runs as root


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
    shared = [d for d in ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")
              if os.path.exists(f"/dev/{d}")]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    if visible and all(v.strip().isdigit() for v in visible.split(",")):
        cards = [f"nvidia{int(v)}" for v in visible.split(",")]
    else:  # all of them, or UUIDs we cannot map to device files here
        cards = sorted(d for d in os.listdir("/dev") if d.startswith("nvidia") and d[6:].isdigit())
    return shared + [c for c in cards if os.path.exists(f"/dev/{c}")]


def jail_spec(path: list[str], limits: Limits, slot: int) -> JailSettings:
    """What the worker's private filesystem holds (read-only binds), and whom it runs as."""
    home, rest = path[0], path[1:]
    binds = [(home, "/opt/course"), (sys.base_prefix, sys.base_prefix)]
    binds += [(p, p) for p in rest if not p.startswith(sys.base_prefix + os.sep)]
    hidden = [os.path.join(p, d) for p in rest for d in HIDDEN_PACKAGE_DATA if os.path.isdir(os.path.join(p, d))]
    return JailSettings(enabled=True, binds=binds, hidden=hidden, uid=SLOT_UID_BASE + slot, gid=SLOT_UID_BASE + slot,
                        devices=gpu_devices(), tmpfs_bytes=limits.tmpfs_bytes)


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


def give_folder(folder: Path, jail: JailSettings) -> None:
    """``folder`` to the worker's uid (0700), or, where chown is refused (no CAP_CHOWN), writable by any uid
    but listable by none (1733): the worker still writes there, and nobody finds what another left."""
    try:
        os.chown(folder, jail.uid if jail.uid is not None else -1, jail.gid if jail.gid is not None else -1)
        os.chmod(folder, 0o700)
    except OSError:
        os.chmod(folder, 0o1733)


def worker_env(workdir: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update(PATH="/usr/local/bin:/usr/bin:/bin", HOME=workdir, TMPDIR=workdir, MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", TQDM_DISABLE="1",
               # torch._dynamo's import makes a cache folder (the fork server's; a worker sets its own: server.py)
               TORCHINDUCTOR_CACHE_DIR=str(Path(workdir).parent / "inductor-cache"))
    return env


def boot(config: dict, pass_fd: int, log: Path, workdir: Path) -> subprocess.Popen:
    """Start ``python -I -S`` on ``BOOT`` with ``config``: a worker, or the fork server (``config["mode"]``),
    in its own session, its output into ``log``, holding ``pass_fd`` (its channel) and nothing else of ours."""
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-I", "-S", "-c", BOOT, json.dumps(config)], pass_fds=[pass_fd],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
                                env=worker_env(str(workdir)), start_new_session=True)

"""Grade a batch on a Ray cluster: the same per-submission jobs as the local pool, as Ray tasks.

    autograder batch hw7_... submitted/ --out graded/ --engine ray [--address HEAD:6379]

What runs where:
  - the driver (this process) decides what to grade (resume records), sends each job, and alone writes
    every result file, atomically, as each result comes back: an interrupted batch loses nothing, and a
    rerun regrades nothing that was written;
  - a Ray task on some node runs ``jobs.grade_job`` in Ray's worker process (trusted: it holds the
    graders and the reference); the student's code runs in the sandboxed child that grade_job starts
    through the Launcher, as on one machine, never in Ray's own worker process;
  - the graders, references and harness reach the node as the task's runtime environment (a private
    copy of just those files, made here), and the notebook travels as bytes inside the job. The node
    extracts them under Ray's session folder, which the worker's sandbox does not mount; the task also
    closes that folder to other users (0700) for hosts where the mount wall does not hold;
  - a job asks for ``num_cpus=1``, and ``num_gpus=1`` when it grades on CUDA (Ray then sets
    ``CUDA_VISIBLE_DEVICES`` for the task, and the Launcher passes only that card to the sandbox);
  - a worker or node that dies mid-job costs that job a retry (Ray's ``max_retries``); a job that fails
    every try gets a harness-error result, like the pool's.

Access: the driver turns on Ray's token authentication (``RAY_AUTH_MODE=token``, Ray 2.52+) before it
starts or joins a cluster: every RPC to the GCS, raylets and workers must carry the token. A cluster it
starts itself (``ray start --head --node-ip-address 127.0.0.1``) gets a fresh random token for this
batch, in a file only this user can read (``RAY_AUTH_TOKEN_PATH``, which Ray's processes inherit).
To join a cluster (``--address``), start every
node with ``RAY_AUTH_MODE=token`` and the same token (``ray get-auth-token --generate``, then
``RAY_AUTH_TOKEN`` or ``~/.ray/auth_token`` on each node and on the driver).

Ray is an optional extra: ``pip install '.[ray]'``.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from .errors import NotebookError, UsageError
from .jobs import Job, claim_free_slot, grade_job, graders_version, slot
from .layout import Course, harness_files

INSTALL_HINT = ("--engine ray needs Ray, an optional extra: pip install '.[ray]' in the course folder "
                "(or pip install 'ray>=2.52'); without it, use the local pool (--engine pool, the default)")
SLOT_BASE = 100  # Ray tasks' sandbox uids start above the local pool's, so both can share a host
MAX_RETRIES = 2  # tries after the first, when the worker or its node dies mid-job


def import_ray():
    """Ray, with token authentication asked for; a UsageError that says how to install it otherwise."""
    # Read once, when ray is first imported, and inherited by every process it starts: so before the import.
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    try:
        import ray
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return ray


def stage_course(course: Course, assignment_ids: list[str], into: Path) -> Path:
    """A copy of what grading reads on a node, and nothing else: the harness (autograder/) and, for each
    assignment of the batch, what ``Assignment.grading_files`` lists (graders, reference, released notebook)."""
    into.mkdir(mode=0o700, parents=True, exist_ok=True)
    files = dict(harness_files())
    for assignment_id in assignment_ids:
        files.update(course.assignment(assignment_id).grading_files())
    for name, path in files.items():
        target = into / name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return into


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in socks]
    for sock in socks:
        sock.close()
    return ports


class LocalCluster:
    """A private one-node Ray cluster on loopback (``ray start --head --block``), ended with its process group.

    Its agents get fixed ports: with ports Ray picks itself, the raylet waits at most 30 s for the agents
    to report theirs, and on a loaded machine their imports alone can take longer (the node then dies)."""

    def __init__(self, cpus: int, gpus: int | None = None):
        gcs, grpc, runtime_env, listen, metrics = _free_ports(5)
        self.address = f"127.0.0.1:{gcs}"
        self.token: Path | None = None
        self.log = Path(tempfile.mkdtemp(prefix="autograder-ray-")) / "ray-start.log"
        command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
                   "--node-ip-address=127.0.0.1", f"--port={gcs}", f"--num-cpus={cpus}",
                   "--include-dashboard=false", "--include-log-monitor=false", "--disable-usage-stats",
                   f"--dashboard-agent-grpc-port={grpc}", f"--runtime-env-agent-port={runtime_env}",
                   f"--dashboard-agent-listen-port={listen}", f"--metrics-export-port={metrics}"]
        command += [f"--num-gpus={gpus}"] if gpus is not None else []
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while b"--block" not in self.log.read_bytes():  # printed once the head node is up
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]  # before stop(), which removes the log
                self.stop()
                raise RuntimeError(f"the local Ray cluster did not start; its log said:\n{tail}")
            time.sleep(0.2)

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)  # the group this class created: ray start and what it started
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                time.sleep(0.5)
            except subprocess.TimeoutExpired:
                continue
        shutil.rmtree(self.log.parent, ignore_errors=True)
        if self.token is not None:  # the token we made for it: gone with it
            shutil.rmtree(self.token, ignore_errors=True)
            os.environ.pop("RAY_AUTH_TOKEN_PATH", None)


_INIT = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)


def _private_token() -> Path | None:
    """A fresh secret for a private cluster, in a file only this user can read; Ray's processes inherit its
    path (the sandboxed workers do not: the Launcher passes them a short fixed list of variables)."""
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return None
    folder = Path(tempfile.mkdtemp(prefix="autograder-ray-auth-"))
    token = folder / "auth_token"
    token.touch(mode=0o600)
    token.write_text(secrets.token_hex(32))
    os.environ["RAY_AUTH_TOKEN_PATH"] = str(token)
    return folder


def start_local_cluster(cpus: int | None = None) -> LocalCluster:
    """A private cluster on loopback with its own token, ready to join at ``.address``; ``.stop()`` ends it."""
    token = _private_token()
    for attempt in (1, 2):  # the raylet gives Ray's agents 30 s to start: a busy machine can miss it once
        cluster = LocalCluster(cpus or max(1, (os.cpu_count() or 2) // 2))
        try:
            cluster.wait_ready()
        except RuntimeError:
            if attempt == 2:
                if token is not None:
                    shutil.rmtree(token, ignore_errors=True)
                    os.environ.pop("RAY_AUTH_TOKEN_PATH", None)
                raise
            continue
        cluster.token = token  # removed when the cluster stops
        return cluster
    raise AssertionError("unreachable")


def grade_on_node(job: Job, notebook: bytes, version: str, node_device: str) -> tuple[dict, dict, dict]:
    """Ray task body, in Ray's worker process on some node. The course arrived as the working dir."""
    root = Path.cwd()
    os.chmod(root, 0o700)  # the graders and references: for this (trusted) process only
    claim_free_slot(SLOT_BASE)  # once per Ray worker process: a slot no other grading process here holds
    course = Course.find(root)
    here = graders_version(course, job.assignment_id)
    if here != version:
        raise RuntimeError(f"graders on node {socket.gethostname()} are version {here}, the driver's {version}")
    scratch = Path(tempfile.mkdtemp(prefix="autograder-nb-"))  # 0700: the notebook is read by this process only
    try:
        local = scratch / Path(job.notebook).name
        local.write_bytes(notebook)
        on_node = Job(str(root), job.assignment_id, job.student, str(local), node_device, job.seed, str(scratch))
        result, attachments = grade_job(on_node)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result["submission"] = job.notebook
    info = {"node": socket.gethostname(), "pid": os.getpid(), "slot": slot(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
    return result, attachments, info


def _upload(job: Job) -> bytes:
    """The notebook's bytes, read as intake reads them (never through a link); the batch screened it already,
    so a failure here is a file changed since: the node then grades an empty file, which scores 0 and says so."""
    from .notebook import read_bytes
    try:
        return read_bytes(Path(job.notebook))
    except NotebookError:
        return b""


def run_ray(jobs: list[Job], done: Callable[[Job, dict, dict], None], course: Course, *, address: str | None = None,
            cpus: int | None = None, gpus_per_job: float | None = None, max_retries: int = MAX_RETRIES,
            on_info: Callable[[Job, dict], None] | None = None, stop=None) -> list[tuple[Job, str]]:
    """Grade ``jobs`` as Ray tasks; ``done`` (the driver's writer) is called here as each result arrives.
    Returns the jobs that failed every try, with why. When ``stop.signum`` is set (Ctrl-C, SIGTERM: see
    ``progress.StopSignals``) the tasks still running are cancelled and nothing more is written."""
    ray = import_ray()
    if not jobs:
        return []
    cluster = None if address else start_local_cluster(cpus)
    staging = Path(tempfile.mkdtemp(prefix="autograder-ray-course-"))
    try:
        stage_course(course, sorted({job.assignment_id for job in jobs}), staging / "course")
        env = {"AUTOGRADER_STRICT": os.environ["AUTOGRADER_STRICT"]} if "AUTOGRADER_STRICT" in os.environ else {}
        # The course goes with the job (Ray uploads the folder once and unpacks it on each node it uses).
        runtime_env = {"working_dir": str(staging / "course"), "env_vars": env}
        ray.init(address=cluster.address if cluster is not None else address, runtime_env=runtime_env, **_INIT)
        versions = {i: graders_version(course, i) for i in {job.assignment_id for job in jobs}}
        device = jobs[0].device
        if gpus_per_job is None:
            has_gpu = ray.cluster_resources().get("GPU", 0) > 0
            gpus_per_job = 1 if device == "cuda" or (device == "auto" and has_gpu) else 0
        node_device = "cuda" if gpus_per_job else "cpu"
        task = ray.remote(grade_on_node).options(
            num_cpus=1, num_gpus=gpus_per_job, max_retries=max_retries, retry_exceptions=False, name="autograder.grade")
        pending = {task.remote(job, _upload(job), versions[job.assignment_id], node_device): job for job in jobs}
        lost: list[tuple[Job, str]] = []
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            if stop is not None and stop.signum:
                for ref in pending:
                    ray.cancel(ref, force=True)  # ends the Ray worker, and with it its sandboxed children
                return lost
            for ref in ready:
                job = pending.pop(ref)
                try:
                    result, attachments, info = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker or node died every try, or the task raised
                    lost.append((job, f"{type(exc).__name__}: {exc}"[:4000]))
                    continue
                if on_info is not None:
                    on_info(job, info)
                done(job, result, attachments)
        return lost
    finally:
        ray.shutdown()  # this driver leaves; a cluster it joined goes on
        shutil.rmtree(staging, ignore_errors=True)
        if cluster is not None:
            cluster.stop()

"""One submission's grading as a job: what both engines share (the local pool, ``batch.py``, and Ray,
``ray_engine.py``), so that neither reaches into the other.

- ``Job``: one submission to grade, as plain data (it crosses process and machine boundaries);
- ``graders_version``: the digest a saved result must match to be reused, the same on every node;
- ``grade_job``: grade one job in this process's slot; a harness failure becomes ``harness_failure``'s result;
- this process's slot and launcher: a grading process takes one slot (``take_slot``, or ``claim_free_slot``
  where several engines share a host), which gives its workers their own uid; its one ``Launcher`` (and fork
  server) then serves every job the process grades, and is closed when the process exits.

Invariant: the slot and the launcher are this module's own state; engines set them only through the
functions here, before their first job.
"""
from __future__ import annotations

import atexit
import fcntl
import hashlib
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .layout import Course, harness_files
from .results import GradingResult

if TYPE_CHECKING:  # launcher is imported when the first job is graded: a driver that only plans needs none
    from .launcher import Launcher


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def graders_version(course: Course, assignment_id: str) -> str:
    """A digest of everything that decides a score: the harness and what grading this assignment reads."""
    files = {**harness_files(), **course.assignment(assignment_id).grading_files()}
    digest = hashlib.sha256()
    for name, f in sorted(files.items()):
        digest.update(name.encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Job:
    """One submission to grade: everything a grading process needs, as plain data."""

    course_root: str
    assignment_id: str
    student: str
    notebook: str
    device: str
    seed: int
    intake: str = ""  # the folder the upload was found in: it is checked as a student's upload (intake.py)

    def record_key(self, version: str) -> dict:
        """What a saved result must match to be reused on a rerun."""
        return {"notebook_sha256": _sha256(Path(self.notebook)), "seed": self.seed, "device_asked": self.device,
                "graders_version": version}


# ----- this process's slot and launcher -------------------------------------------------------------------
_slot = 0
_threads: int | None = None  # torch's threads for this process and its workers (share_cores); None: one slot's
_launcher: Launcher | None = None
_slot_lock: list[IO[str]] = []  # the lock file that holds a claimed slot, open as long as this process lives


def take_slot(n: int) -> None:
    """This process grades in slot ``n`` (its workers' uid derives from it); called before its first job."""
    global _slot
    if _launcher is not None:
        raise RuntimeError("the slot of a process that already graded cannot change")
    _slot = n


def claim_free_slot(first: int, count: int = 4096) -> int:
    """Take the first slot from ``first`` on that no other grading process on this host holds: the first
    free lock file; the lock lives as long as this process, and dies with it. Once per process."""
    if _slot_lock:
        return _slot
    folder = Path(tempfile.gettempdir()) / "autograder-ray-slots"
    folder.mkdir(mode=0o700, exist_ok=True)
    for n in range(first, first + count):
        handle = open(folder / f"{n}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        _slot_lock.append(handle)
        take_slot(n)
        return n
    raise RuntimeError("no free grading slot on this node")


def slot() -> int:
    return _slot


def share_cores(slots: int) -> None:
    """This process is one of ``slots`` grading at once on this host: it and its workers keep to their share of
    the cores (``provision.torch_threads``). Called before its first job; the grading code imports torch later."""
    global _threads
    if _launcher is not None:
        raise RuntimeError("the threads of a process that already graded cannot change")
    from .provision import torch_threads
    _threads = torch_threads(slots)


def launcher() -> Launcher:
    """This process's launcher, started on first use: a slot grades one submission after another."""
    global _launcher
    if _launcher is None:
        from .launcher import Launcher
        # None: one slot's share; grade_submission gives this process the same threads as its workers
        _launcher = Launcher(slot=_slot, spares=True, threads=_threads)
        atexit.register(_launcher.close)
    return _launcher


def drop_spares() -> None:
    """End the workers started ahead: this process goes on (a notebook, a test) and leaves nothing running."""
    if _launcher is not None:
        _launcher.drop_spares()


def close_launcher() -> None:
    global _launcher
    if _launcher is not None:
        _launcher.close()
        _launcher = None


# ----- grading one job ------------------------------------------------------------------------------------
def grade_job(job: Job) -> tuple[dict, dict[str, bytes]]:
    """Grade one submission in this (trusted) process; the driver writes the files."""
    from .grade import grade_submission
    workers = launcher()
    course = Course.find(job.course_root)
    intake = Path(job.intake) if job.intake else None
    try:
        result = grade_submission(job.assignment_id, job.notebook, course=course, device=job.device, seed=job.seed,
                                  launcher=workers, student=job.student, intake=intake)
    except Exception:  # the harness failed on this one; record it and go on with the others
        result = harness_failure(course, job, traceback.format_exc())
    return result.to_dict(), result.attachments


def harness_failure(course: Course, job: Job, detail: str) -> GradingResult:
    """The result of a job the harness could not grade: every part failed as a harness error, with why."""
    from .grade import whole_task_failures
    from .messages import internal_error
    assignment = course.assignment(job.assignment_id)
    claim = "the submission could be graded"
    tests = whole_task_failures(assignment, job.seed, claim, internal_error(claim), harness=True, detail=detail)
    return GradingResult(job.assignment_id, job.notebook, tests, sum(t.points for t in assignment.tasks), job.seed,
                         student=job.student)

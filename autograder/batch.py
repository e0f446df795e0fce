"""Grade many submissions: a local process pool, resumable, one student's failure never stops the batch.

What a job is and how one is graded are ``jobs.py``'s, shared with the Ray engine (``ray_engine.py``); this
module decides what to grade (resume records, late policy, uploads intake refuses), runs the pool, and writes
every file.

Output layout, per assignment: ``<out>/<id>/<student>/results.json`` (Gradescope's, what the student
may see), ``feedback.md`` (the student's report), ``result.json`` (everything, for staff and for
resuming), and ``<out>/<id>/grades.csv`` for the LMS.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

from . import defaults, gpuslots
from .intake import LatePolicy, one_per_student, screen, upload_base
from .jobs import Job, close_launcher, drop_spares, grade_job, graders_version, harness_failure, share_cores, take_slot
from .layout import Course
from .progress import Interrupted, Progress, StopSignals, guarded, pool_process_setup, stop_pool
from .results import GradingResult
from .safe import safe
from .writers import write_grades_csv, write_result_files


def find_submissions(assignment_id: str, paths: list[Path]) -> list[tuple[str, Path]]:
    """(student, notebook) pairs from notebooks, folders of notebooks, or nbgrader's submitted/ layout."""
    found: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_file():
            found.append((path.stem, path))
        elif path.is_dir():
            nbgrader_layout = sorted(path.glob(f"*/{assignment_id}/*.ipynb"))
            if nbgrader_layout:
                found += [(p.parent.parent.name, p) for p in nbgrader_layout]
            else:
                found += [(p.stem, p) for p in sorted(path.glob("*.ipynb"))]
    return found


def _done_before(folder: Path, key: dict) -> GradingResult | None:
    """A saved result for exactly this submission and graders, or None: anything unexpected means regrade."""
    try:
        saved = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        if any(saved.get(k) != v for k, v in key.items()):
            return None
        result = GradingResult.from_dict({k: v for k, v in saved.items() if k not in key})
        return None if result.harness_errors else result  # the harness failed on it last time: try again
    except Exception:  # unreadable, edited by hand, forged with an extra key: grade it again
        return None


def _init_slot(counter, slots: int) -> None:
    """Each pool process gets its own slot (and so its own worker uid), and its share of the cores."""
    pool_process_setup()
    with counter.get_lock():
        slot = counter.value
        take_slot(slot)
        counter.value += 1
    share_cores(slots)
    gpuslots.apply_in_pool_process(slot)  # --gpu-slots: this slot's GPU and its share of the memory


def _run_pool(jobs: list[Job], workers: int, done: Callable[[Job, dict, dict], None], attempts: int = 2,
              task: Callable[[Job], tuple[dict, dict]] = grade_job, stop: StopSignals | None = None) -> list[Job]:
    """Grade ``jobs`` on a local process pool. A pool process that dies costs its submissions a retry on a
    new pool, never the batch; returns the jobs that failed every attempt. On a stop signal the pool's
    processes end (with their workers) and no result that arrives after it is kept."""
    pending, tries = list(jobs), {job: 0 for job in jobs}
    while pending:
        counter = get_context("spawn").Value("i", 0)
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_init_slot,
                                 initargs=(counter, workers)) as pool:
            futures = {pool.submit(guarded, task, job): job for job in pending}
            pending = []
            for future in _completed(futures, pool, stop):
                job = futures[future]
                try:
                    result, attachments = future.result()
                except BrokenProcessPool:
                    tries[job] += 1
                    if tries[job] < attempts:
                        pending.append(job)
                    continue
                done(job, result, attachments)
        if stop is not None and stop.signum:
            return []
    return [job for job, n in tries.items() if n >= attempts]


def _completed(futures: dict, pool: ProcessPoolExecutor, stop: StopSignals | None):
    """Futures as they finish, until a stop signal: then the pool is stopped and nothing more is yielded."""
    left = set(futures)
    while left:
        finished, left = wait(left, timeout=0.2, return_when=FIRST_COMPLETED)
        for future in [*finished, None]:
            if stop is not None and stop.signum:
                stop_pool(pool)
                return
            if future is not None:
                yield future


def grade_batch(course: Course, assignment_id: str, submissions: list[tuple[str, Path]], out: Path,
                jobs: int = defaults.JOBS, device: str = defaults.DEVICE, seed: int = defaults.SEED,
                force: bool = False, engine: str = "pool", address: str | None = None,
                gpu_slots: int | None = None) -> list[GradingResult]:
    """Grade ``submissions`` (one per student), with progress on stderr; raises ``Interrupted`` on Ctrl-C or
    SIGTERM after stopping every grading process, having saved only submissions graded to the end."""
    course.assignment(assignment_id)  # fail fast on an unknown id
    submissions = one_per_student(assignment_id, submissions)
    late = LatePolicy.load(course.root, assignment_id)
    base = out / assignment_id
    version = graders_version(course, assignment_id)
    results: dict[str, GradingResult] = {}
    todo = []
    for student, notebook in submissions:
        job = Job(str(course.root), assignment_id, student, str(notebook), device, seed,
                  str(upload_base(assignment_id, student, Path(notebook))))
        previous = None if force else _done_before(base / student, job.record_key(version))
        if previous is not None:
            results[student] = previous
            _late(previous, job, late, base / student, version)
        else:
            todo.append(job)
    workers = jobs or max(1, (os.cpu_count() or 2) // 2)
    if gpu_slots:  # N slots per GPU, each with 1/N of its memory (gpuslots); pool processes inherit the setting
        workers = gpuslots.slots_for(gpu_slots)
        os.environ[gpuslots.SLOTS_ENV] = str(gpu_slots)
    progress = Progress(len(todo), reused=len(results), workers=1 if len(todo) <= 1 else workers)

    def done(job: Job, data: dict, attachments: dict[str, bytes]) -> None:
        result = GradingResult.from_dict(data)
        result.attachments = attachments
        late.apply(result, Path(job.notebook))
        folder = base / job.student
        _write(result, folder, job.record_key(version))
        results[job.student] = result
        status = "NOT GRADED (harness error: " + ", ".join(result.not_graded) + ")" if result.not_graded else ""
        progress.done(job.student, result.final_score, result.max_score, result.seconds, status=status)

    with StopSignals() as stop:
        todo = _grade_refused_here(course, todo, done)
        if engine == "ray":  # the same jobs as Ray tasks; this process still writes every file (see ray_engine)
            from .ray_engine import run_ray
            share = 1.0 / gpu_slots if gpu_slots and device == "cuda" else None  # Ray's fractional GPUs
            for job, why in run_ray(todo, done, course, address=address, cpus=jobs or None, stop=stop,
                                    gpus_per_job=share):
                done(job, harness_failure(course, job, f"the Ray task failed every try: {why}").to_dict(), {})
        elif workers == 1 or len(todo) <= 1:
            for job in todo:
                with stop.interruptible():
                    try:
                        graded = grade_job(job)
                    except KeyboardInterrupt:
                        pass
                if stop.signum:  # cut short (pytest swallows the interrupt): not a result
                    break
                done(job, *graded)
            drop_spares()  # this process goes on (a notebook, a test): leave nothing running
        else:
            for job in _run_pool(todo, workers, done, stop=stop):
                if not stop.signum:  # a process killed by the stop is no harness failure to record
                    failed = harness_failure(course, job, "the grading process died twice on this submission")
                    done(job, failed.to_dict(), {})
    if stop.signum:
        close_launcher()
        progress.finish()
        # --force regraded what was saved: run again with it, and it would regrade what this run just saved
        kept = [j for j in todo if j.student not in results and (base / j.student / "result.json").is_file()]
        note = (f"{len(kept)} submission(s) this --force run did not reach keep the results saved before it "
                "(--force again regrades everything)") if force and kept else ""
        raise Interrupted(stop.signum, progress.count, len(todo) - progress.count,
                          "the same command without --force" if force else "the same command", note)
    progress.finish()
    ordered = [results[s] for s, _ in submissions]
    write_grades_csv(base / "grades.csv", ordered)
    return ordered


def _write(result: GradingResult, folder: Path, key: dict) -> None:
    """A graded submission's files (a part the harness could not grade is no 0 in its results.json)."""
    write_result_files(result, results_json=folder / "results.json", feedback=folder / "feedback.md",
                       record=folder / "result.json", record_extra=key)


def _grade_refused_here(course: Course, todo: list[Job], done: Callable[[Job, dict, dict], None]) -> list[Job]:
    """Uploads intake refuses (links, unreadable files, the master notebook) are decided here, without a
    worker or an engine (a Ray node is sent bytes read here); returns the jobs left to grade."""
    from .grade import grade_submission
    assignment = course.assignment(todo[0].assignment_id) if todo else None
    left = []
    for job in todo:
        if assignment is None or screen(assignment, Path(job.notebook), Path(job.intake)) is None:
            left.append(job)
            continue
        result = grade_submission(job.assignment_id, job.notebook, course=course, device="cpu", seed=job.seed,
                                  student=job.student, intake=Path(job.intake))
        result.device = job.device
        done(job, result.to_dict(), {})
    return left


def _late(result: GradingResult, job: Job, late: LatePolicy, folder: Path, version: str) -> None:
    """A kept result under today's due date and policy; its files rewritten only when that changed them."""
    before = (result.due, result.late_penalty, result.submitted)
    late.apply(result, Path(job.notebook))
    if (result.due, result.late_penalty, result.submitted) != before:
        try:  # the attachments, for the rewritten feedback
            names = json.loads((folder / "result.json").read_text(encoding="utf-8")).get("attachments", [])
            result.attachments = {n: (folder / n).read_bytes() for n in names if (folder / n).is_file()}
        except (OSError, ValueError, TypeError):
            pass
        _write(result, folder, job.record_key(version))


def rewrite_outputs(out: Path, assignment_id: str, results: list[GradingResult]) -> None:
    """Rewrite the files of ``results`` (after the gradebook changed their final score) and the batch's
    grades.csv, keeping each saved record's resume key and attachments."""
    base = out / assignment_id
    for result in results:
        folder = base / result.student
        try:
            saved = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        key = {k: saved[k] for k in ("notebook_sha256", "seed", "device_asked", "graders_version") if k in saved}
        if not result.attachments:
            names = saved.get("attachments", []) if isinstance(saved.get("attachments"), list) else []
            result.attachments = {n: (folder / n).read_bytes() for n in names if (folder / n).is_file()}
        _write(result, folder, key)
    if (base / "grades.csv").is_file():
        from .exports import load_graded
        write_grades_csv(base / "grades.csv", _merged(load_graded(out, assignment_id), results))


def _merged(saved: list[GradingResult], fresh: list[GradingResult]) -> list[GradingResult]:
    by_student = {r.student: r for r in saved}
    by_student.update({r.student: r for r in fresh})
    return [by_student[s] for s in sorted(by_student)]


def print_table(results: list[GradingResult]) -> None:
    if not results:
        return
    names = {r.student: safe(r.student, "name") for r in results}  # the student's own folder names
    width = max(len(n) for n in names.values())
    print(f"{'student'.ljust(width)}  {'score':>7}  parts lost")
    for r in results:
        lost = [task for task, (got, most) in r.task_scores().items() if got < most and task not in r.not_graded]
        note = f" (NOT GRADED, harness error: {', '.join(r.not_graded)})" if r.not_graded else ""
        note += " (manual grades: " + ", ".join(r.manual) + ")" if r.manual else ""
        note += " (FLAGGED: " + "; ".join(r.flags) + ")" if r.flags else ""
        parts = ", ".join(c.removeprefix("test_") for c in lost) or "-"
        late = " (late)" if r.late_penalty else ""
        print(f"{names[r.student].ljust(width)}  {r.final_score:>7g}  {parts}{note}{late}")

"""A batch's progress on stderr with an ETA, and stopping it cleanly on Ctrl-C or SIGTERM.

Progress: on a terminal one line that updates in place; otherwise (a log, CI) one line per finished
submission. Stopping: the first SIGINT or SIGTERM asks the batch to stop. A submission whose grading
was interrupted is never written (a rerun grades it); submissions finished before the signal keep
their files. Pool processes end their fork servers and workers before they exit, and end themselves
when the driver dies (PR_SET_PDEATHSIG), so nothing is left grading.
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TextIO

from .safe import safe

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """``[3/12] alice 85/100 in 12.3 s; elapsed 0:40, ETA 1:52`` per finished submission."""

    def __init__(self, total: int, *, reused: int = 0, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, workers: int = 1):
        self.total, self.count, self.stream, self.clock = total, 0, stream or sys.stderr, clock
        self.started, self.workers = clock(), workers
        self.first_done: float | None = None
        self.first_seconds = 0.0
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        if reused:
            self._write(f"{reused} submission(s) already graded with the same notebook, seed and graders: kept")
        if total:  # at once, before the workers' start-up (torch's import) makes the first result wait
            self._write(f"grading {total} submission(s) with {workers} worker(s); starting them (the first result "
                        "takes longest)", end="\r" if self.live else "\n")

    def eta(self) -> float | None:
        """Seconds left, from measured times only: the wall time between finished submissions (the pool's start-up
        is not in it), or, after the first alone, its own grading time shared among the workers."""
        if not self.count or self.count >= self.total:
            return None
        left = self.total - self.count
        if self.count >= 2 and self.first_done is not None:
            return (self.clock() - self.first_done) / (self.count - 1) * left
        return self.first_seconds * left / max(1, min(self.workers, left))

    def line(self, student: str, score: float, max_score: float, seconds: float, status: str = "") -> str:
        eta = self.eta()
        left = f", ETA {_clock(eta)}" if eta is not None and self.count < self.total else ""
        shown = status or f"{score:g}/{max_score:g}"  # a harness error is no score: the line says so
        return (f"[{self.count}/{self.total}] {safe(student, 'name')} {shown} in {seconds:.1f} s; "
                f"elapsed {_clock(self.clock() - self.started)}{left}")

    def done(self, student: str, score: float, max_score: float, seconds: float, status: str = "") -> None:
        self.count += 1
        if self.count == 1:
            self.first_done, self.first_seconds = self.clock(), seconds
        self._write(self.line(student, score, max_score, seconds, status), end="\r" if self.live else "\n")

    def finish(self, note: str = "") -> None:
        if self.live and self.total:
            self._write("")
        if note:
            self._write(note)

    def _write(self, text: str, end: str = "\n") -> None:
        prefix = "\r\033[K" if self.live else ""
        try:
            self.stream.write(prefix + text + end)
            self.stream.flush()
        except (OSError, ValueError):
            pass


class Interrupted(Exception):
    """The batch stopped on a signal; ``left`` submissions were not graded (a rerun grades them)."""

    def __init__(self, signum: int, graded: int, left: int, again: str = "the same command", note: str = ""):
        self.signum, self.graded, self.left = signum, graded, left
        name = signal.Signals(signum).name
        super().__init__(f"stopped by {name}: {graded} submission(s) graded and saved, {left} not graded "
                         f"(none was saved half-graded); run {again} again to grade the rest (what is saved is "
                         "kept, not graded again)" + (f". {note}" if note else ""))

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopSignals:
    """In the driver: the first SIGINT/SIGTERM sets ``signum``; while ``interruptible()`` it also raises
    KeyboardInterrupt there (to cut short a submission graded in this process)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._raise = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "StopSignals":
        try:
            self._old = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        except ValueError:  # not the main thread: no handlers, nothing to stop
            self._old = {}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)

    def _handle(self, signum: int, frame: object) -> None:
        self.signum = self.signum or signum
        if self._raise:
            self._raise = False
            raise KeyboardInterrupt

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        self._raise = True
        try:
            yield
        finally:
            self._raise = False


def stop_pool(pool: Any, grace: float = 20.0) -> None:
    """Stop a ProcessPoolExecutor now: queued submissions are dropped, each pool process gets SIGTERM (it
    closes its fork server, whose workers die with it) and, after ``grace`` seconds, SIGKILL."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, TypeError):
            pass
    deadline = time.monotonic() + grace
    for proc in processes:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(5)
    pool.shutdown(wait=True, cancel_futures=True)


# ----- pool processes -----------------------------------------------------------------------------
_grading = False
_stopping = False


def pool_process_setup() -> None:
    """In each pool process: a stop signal ends it cleanly, and so does the driver's death."""
    for s in STOP_SIGNALS:
        signal.signal(s, _pool_signal)
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the driver died before we got here
        _quit()


def _quit() -> None:
    """Close this process's launcher (its fork server kills the workers it forked), then exit at once."""
    try:
        atexit._run_exitfuncs()
    finally:
        os._exit(0)


def _pool_signal(signum: int, frame: object) -> None:
    global _stopping
    _stopping = True
    if _grading:
        raise KeyboardInterrupt  # unwinds the grading: the submission's workers are closed on the way out
    _quit()


def guarded(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a pool process; after a stop signal return nothing at all, just exit."""
    global _grading
    try:
        try:
            _grading = True
            result = fn(*args)
        finally:
            _grading = False
    except KeyboardInterrupt:
        result = None
    if _stopping:
        _quit()
    return result

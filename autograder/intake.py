"""What was submitted and when: one notebook per student, and late penalties from nbgrader's timestamps.

One notebook per student. When a student's folder holds several notebooks, the batch grades one and
warns: the notebook named ``<id>.ipynb`` (nbgrader's name) if there is one, else the most recently
modified one (ties: the last by name).

Late penalties. The due dates and the policy live in the course's ``d2lcourse.toml``::

    [due]                       # ISO 8601; without a UTC offset the time is UTC
    hw2_softmax_regression = "2026-03-15T23:59:00+08:00"

    [late]
    penalty_per_day = 10        # percent of the maximum score, per day (or part of a day) late
    grace_minutes = 0           # submissions this close after the due date are on time (later ones
                                # count their days from the due date)
    max_penalty = 100           # percent of the maximum score, at most

When a submission was made: nbgrader's ``submitted/<student>/<id>/timestamp.txt`` (written by ``nbgrader
submit`` on the student's side, so the student controls it) is cross-checked against evidence the student
cannot forge (``submission_time``): the exchange's inbound folder for that submission (its ctime, the time
``nbgrader submit`` made it; the exchange is ``[late] exchange`` in ``d2lcourse.toml``, else nbgrader's
``Exchange.root``), and the notebook's own ctime in ``submitted/`` (set when ``nbgrader collect`` copied it:
the submission cannot be later). Where the two disagree the evidence wins, and a missing, unreadable,
future or back-dated timestamp is flagged to staff (``GradingResult.flags``), never silently on time.

A submission time before the assignment's release is flagged too (``release_time``). The release time comes
from evidence where there is some: the ctime of the exchange's outbound folder, ``<exchange>/<course
id>/outbound/<id>``, made by ``nbgrader release_assignment`` (the course id is nbgrader's
``CourseDirectory.course_id``). nbgrader's gradebook records no release time (an assignment has only a due
date), so it is no source. A setting stands in, or corrects it: ``[release]`` in ``d2lcourse.toml``, like
``[due]``. A re-release (``release_assignment --force``) remakes the outbound folder, so the folder only says
the assignment was out by then: where the setting is earlier, the setting is used. The flag names the source.

Trusting nothing a student uploads (``check_upload``, applied by ``autograder batch`` and the Gradescope
entry point, ``autograder grade --intake``): the notebook must be a regular file whose real path is its
path under the folder it was found in (no symbolic link anywhere below it, no hard link shared with
another file), read without following links and under the size limit. A notebook that is the
instructor's master notebook, byte for byte, or holds its solution blocks as they stand there (between
nbgrader's ``### BEGIN SOLUTION`` markers) is refused: it scores 0 and is flagged to staff. Where the
master notebook is not at hand (a Gradescope container), its digest, written into the bundle, stands in.
Solution code a student copied without the markers is a matter for the similarity report, not intake.
A notebook that defines none of the assignment's graded functions but those of another assignment is
named as that assignment's (``looks_like``) and graded 0 without running it.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .errors import NotebookError, UsageError
from .safe import safe

CONFIG = "d2lcourse.toml"
FINGERPRINTS = "fingerprints/{id}.json"  # in a Gradescope bundle's course root, where no master notebook is
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


# ----- what was uploaded ------------------------------------------------------------------------------
def check_upload(notebook: Path, base: Path) -> None:
    """Raise ``NotebookError`` unless ``notebook`` is a plain file reached from ``base`` without any link:
    its real path must be its path under ``base``'s real path, and no other name may share its inode."""
    notebook, base = Path(notebook), Path(base)
    try:
        relative = os.path.relpath(os.path.abspath(notebook), os.path.abspath(base))
    except ValueError:
        relative = ".."
    if relative.startswith(".."):
        raise NotebookError(f"{notebook.name} lies outside its submission folder {base}")
    if os.path.realpath(notebook) != os.path.join(os.path.realpath(base), relative):
        raise NotebookError(f"{notebook.name} is reached through a symbolic link; submit the notebook file itself "
                            "(links in a submission are never followed)")
    try:
        info = os.lstat(notebook)
    except OSError:
        raise NotebookError(f"{notebook} does not exist: submit the notebook file") from None
    if info.st_nlink > 1:
        raise NotebookError(f"{notebook.name} is a hard link shared with another file; submit a copy of your "
                            "notebook (links in a submission are never followed)")


def upload_base(assignment_id: str, student: str, notebook: Path) -> Path:
    """The folder a batch found this upload in: nbgrader's ``submitted/`` for ``submitted/<student>/<id>/x.ipynb``
    (so that a linked student or assignment folder counts as a link), else the notebook's own folder."""
    notebook = Path(notebook)
    if notebook.parent.name == assignment_id and notebook.parent.parent.name == student:
        return notebook.parent.parent.parent
    return notebook.parent


def screen(assignment, notebook: Path, base: Path) -> str | None:
    """Why intake refuses this upload before any grading (a link, unreadable, the master notebook), or None."""
    from .notebook import parse_notebook, read_bytes
    try:
        check_upload(notebook, base)
        data = read_bytes(notebook)
        return solution_leak(assignment, data, parse_notebook(data, Path(notebook).name))
    except NotebookError as exc:
        return str(exc)


def fingerprints(assignment) -> dict | None:
    """The master notebook's digest, from the notebook or (in a Gradescope bundle) the copy written for it."""
    source = assignment.source_notebook
    if source.is_file():
        return {"notebook_sha256": hashlib.sha256(source.read_bytes()).hexdigest()}
    stored = assignment.course.root / FINGERPRINTS.format(id=assignment.id)
    try:
        found = json.loads(stored.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def solution_leak(assignment, data: bytes, nb: dict) -> str | None:
    """Why this submission is the instructor's master notebook (for staff), or None: the same bytes, or
    nbgrader's solution markers, which ``generate_assignment`` removes from what students get (a master
    notebook re-saved by Jupyter still has them)."""
    if (fingerprints(assignment) or {}).get("notebook_sha256") == hashlib.sha256(data).hexdigest():
        return "it is the master (source) notebook, byte for byte"
    for index, cell in enumerate(nb.get("cells", []), start=1):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        if any(marker in text for marker in SOLUTION_MARKERS):
            return (f"cell {index} holds nbgrader's solution markers (### BEGIN SOLUTION), which only the master "
                    "notebook has")
    return None


def looks_like(assignment, defined: set[str]) -> tuple[str, list[str]] | None:
    """(another assignment's id, the names it shares) when the notebook defines none of this assignment's
    graded functions and some of another's; None otherwise."""
    if not defined or defined & {t.name for t in assignment.tasks}:
        return None
    best: tuple[int, str, list[str]] | None = None
    for other in assignment.course.assignment_ids():
        if other == assignment.id:
            continue
        try:
            shared = sorted(defined & {t.name for t in assignment.course.assignment(other).tasks})
        except Exception:  # an assignment half made (no release yet): it is no candidate
            continue
        if shared and (best is None or len(shared) > best[0]):
            best = (len(shared), other, shared)
    return (best[1], best[2]) if best else None


def one_per_student(assignment_id: str, found: list[tuple[str, Path]], warn=None) -> list[tuple[str, Path]]:
    """Keep one notebook per student (the rule above), warning about every student who had several."""
    warn = warn or (lambda text: print(f"autograder: warning: {safe(text, 'terminal')}", file=sys.stderr))
    by_student: dict[str, list[Path]] = {}
    for student, path in found:
        if path not in by_student.setdefault(student, []):
            by_student[student].append(path)
    chosen = []
    for student, paths in by_student.items():
        pick = paths[0]
        if len(paths) > 1:
            named = [p for p in paths if p.name == f"{assignment_id}.ipynb"]
            pick = named[0] if len(named) == 1 else max(paths, key=lambda p: (_mtime(p), p.name))
            why = f"named {assignment_id}.ipynb" if len(named) == 1 else "the most recently modified"
            others = ", ".join(str(p) for p in paths if p != pick)
            warn(f"{student} submitted {len(paths)} notebooks; grading {pick} ({why}), ignoring {others}")
        chosen.append((student, pick))
    return chosen


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def parse_time(text: str) -> datetime:
    """nbgrader's "2026-03-15 16:01:02.123456 UTC", or ISO 8601; a time without an offset is UTC."""
    text = text.strip()
    for suffix in (" UTC", "UTC", "Z"):
        if text.endswith(suffix):
            text = text[: -len(suffix)].strip() + "+00:00"
            break
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            from dateutil import parser  # nbgrader's own dependency, for the other formats it accepts
            when = parser.parse(text)
        except Exception:
            raise ValueError(f"not a date and time: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


TOLERANCE_SECONDS = 300  # clocks of the student's machine, the exchange and the grader disagree by this much


def _stamp_text(notebook: Path) -> str | None:
    from .notebook import read_bytes
    try:
        return read_bytes(Path(notebook).parent / "timestamp.txt", limit=4096).decode("utf-8", "replace").strip()
    except NotebookError:
        return None


def submitted_at(notebook: Path) -> datetime | None:
    """The time nbgrader recorded for this submission (``timestamp.txt`` beside the notebook), or None."""
    text = _stamp_text(notebook)
    try:
        return parse_time(text) if text is not None else None
    except ValueError:
        return None


def _ctime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(os.lstat(path).st_ctime, tz=timezone.utc)
    except OSError:
        return None


def _inbound(exchange: Path | None, student: str, assignment_id: str, stamp: str | None) -> datetime | None:
    """When ``nbgrader submit`` made this submission's inbound folder (``<student>+<id>+<timestamp>[+...]``)."""
    if exchange is None:
        return None
    found = [p for p in Path(exchange).glob(f"*/inbound/{student}+{assignment_id}+*") if p.is_dir()]
    same = [p for p in found if stamp is not None and p.name.split("+")[2:3] == [stamp]]
    times = [t for t in map(_ctime, same or found) if t is not None]
    return max(times) if times else None


def submission_time(notebook: Path, student: str, assignment_id: str,
                    exchange: Path | None = None) -> tuple[datetime | None, list[str]]:
    """The submission time to judge lateness by, and what staff should know about it (see the docstring)."""
    text = _stamp_text(notebook)
    flags: list[str] = []
    try:
        stamp = parse_time(text) if text is not None else None
    except ValueError:
        stamp = None
        flags.append(f"timestamp.txt is unreadable ({(text or '')[:60]!r})")
    if text is None:
        flags.append("no timestamp.txt")
    inbound = _inbound(exchange, student, assignment_id, text)
    collected = _ctime(notebook)  # the notebook cannot have been submitted after it was copied here
    evidence = inbound or collected
    tolerance = timedelta(seconds=TOLERANCE_SECONDS)
    if stamp is None:
        if evidence is not None:
            flags[-1] += f": the {'exchange' if inbound else 'collected file'}'s time {evidence.isoformat()} is used"
        return evidence, flags
    if inbound is not None and abs(stamp - inbound) > tolerance:
        flags.append(f"timestamp.txt says {stamp.isoformat()} but the exchange received it at {inbound.isoformat()}: "
                     "the exchange's time is used")
        return inbound, flags
    if collected is not None and stamp > collected + tolerance:
        flags.append(f"timestamp.txt says {stamp.isoformat()}, after the file was collected ({collected.isoformat()}):"
                     " the collection time is used")
        return collected, flags
    return stamp, flags


def _nbgrader_settings(course_root: Path) -> tuple[str | None, str | None]:
    """(``c.Exchange.root``, when the folder exists; ``c.CourseDirectory.course_id``) from the course's
    nbgrader_config.py, when nbgrader's settings can be read."""
    try:
        from traitlets.config.loader import PyFileConfigLoader
        config = PyFileConfigLoader("nbgrader_config.py", str(course_root)).load_config()
        root = config.Exchange.root if "root" in config.Exchange else "/srv/nbgrader/exchange"
        course_id = config.CourseDirectory.course_id if "course_id" in config.CourseDirectory else None
    except Exception:
        return None, None
    return (str(root) if os.path.isdir(str(root)) else None), (str(course_id) if course_id else None)


@dataclass(frozen=True)
class Release:
    """When an assignment was released, and where that was read (for the staff flag)."""

    when: datetime
    source: str


def _outbound(exchange: Path | None, course_id: str | None, assignment_id: str) -> Release | None:
    """When ``nbgrader release_assignment`` made the exchange's outbound folder of this assignment (its ctime:
    nbgrader copies the release there and sets its modes, and no copy keeps an older ctime)."""
    if exchange is None:
        return None
    found = ([Path(exchange) / course_id / "outbound" / assignment_id] if course_id
             else sorted(Path(exchange).glob(f"*/outbound/{assignment_id}")))
    times = [(t, p) for p in found if p.is_dir() and (t := _ctime(p)) is not None]
    if not times:
        return None
    when, path = min(times)
    return Release(when, f"the exchange's outbound folder {path}, made then by nbgrader release_assignment")


def release_time(evidence: Release | None, setting: datetime | None) -> Release | None:
    """The release time to judge by: the exchange's evidence, unless the course's setting is earlier (a
    re-release remade the outbound folder later), or the setting alone."""
    configured = Release(setting, "[release] in d2lcourse.toml") if setting else None
    if evidence is None or configured is None:
        return evidence or configured
    if configured.when < evidence.when:
        return Release(configured.when, f"{configured.source} (earlier than {evidence.source} at "
                       f"{evidence.when.isoformat()}: re-released?)")
    return evidence


def before_release(when: datetime | None, stamp: datetime | None, release: Release | None) -> str | None:
    """The staff flag for a submission time (the one judged by, or timestamp.txt's) before the release, or None."""
    if release is None:
        return None
    early = release.when - timedelta(seconds=TOLERANCE_SECONDS)
    said = [(label, t) for label, t in (("the submission time", when), ("timestamp.txt", stamp))
            if t is not None and t < early]
    if not said:
        return None
    label, t = said[0]
    return (f"{label} {t.isoformat()} is before the assignment's release at {release.when.isoformat()} "
            f"({release.source}): never on time by that alone; check this submission")


@dataclass(frozen=True)
class LatePolicy:
    due: datetime | None
    penalty_per_day: float = 10.0
    grace_minutes: float = 0.0
    max_penalty: float = 100.0
    exchange: Path | None = None  # nbgrader's exchange root: the evidence of when a submission came in
    release: Release | None = None  # when the assignment was released (release_time), for the pre-release flag

    @classmethod
    def load(cls, course_root: Path, assignment_id: str) -> "LatePolicy":
        path = Path(course_root) / CONFIG
        try:
            config = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path} is not valid TOML: {exc}") from None
        due = config.get("due", {}).get(assignment_id)
        released = config.get("release", {}).get(assignment_id)
        late = config.get("late", {})
        found_exchange, course_id = _nbgrader_settings(Path(course_root))
        exchange = late.get("exchange") or found_exchange
        try:
            setting = parse_time(str(released)) if released else None
        except ValueError as exc:
            raise UsageError(f"{path}: [release] {assignment_id}: {exc}") from None
        release = release_time(_outbound(Path(exchange) if exchange else None, course_id, assignment_id), setting)
        try:
            return cls(parse_time(str(due)) if due else None, float(late.get("penalty_per_day", 10)),
                       float(late.get("grace_minutes", 0)), float(late.get("max_penalty", 100)),
                       Path(exchange) if exchange else None, release)
        except ValueError as exc:
            raise UsageError(f"{path}: [due] {assignment_id}: {exc}") from None

    def penalty(self, when: datetime | None, max_score: float) -> tuple[float, float]:
        """(days late, rounded up; points lost) for a submission made at ``when``."""
        if self.due is None or when is None:
            return 0.0, 0.0
        late = (when - self.due).total_seconds()
        if late <= 60 * self.grace_minutes:  # on time, or within the grace: beyond it, days count from the due date
            return 0.0, 0.0
        days = math.ceil(late / 86400)
        percent = min(self.max_penalty, days * self.penalty_per_day)
        return float(days), round(max_score * percent / 100, 4)

    def apply(self, result, notebook: Path) -> None:
        """Record the submission time, the due date and the penalty on ``result`` (a GradingResult); what is
        doubtful about the time goes into its staff flags (only where a due date makes the time matter)."""
        when, doubts = submission_time(notebook, result.student, result.assignment, self.exchange)
        early = before_release(when, submitted_at(notebook), self.release)
        doubts += [early] if early else []
        if self.due is not None:
            result.flags = [f for f in result.flags if not f.startswith("submission time: ")]
            result.flags += [f"submission time: {d}" for d in doubts]
        days, points = self.penalty(when, result.max_score)
        result.submitted = when.isoformat() if when else ""
        result.due = self.due.isoformat() if self.due else ""
        result.days_late, result.late_penalty = days, points

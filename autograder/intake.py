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

When a submission was made is read from nbgrader's ``submitted/<student>/<id>/timestamp.txt``
(written by ``nbgrader submit`` / ``collect``); a submission without one is never late.
"""
from __future__ import annotations

import math
import sys
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import UsageError

CONFIG = "d2lcourse.toml"


def one_per_student(assignment_id: str, found: list[tuple[str, Path]], warn=None) -> list[tuple[str, Path]]:
    """Keep one notebook per student (the rule above), warning about every student who had several."""
    warn = warn or (lambda text: print(f"autograder: warning: {text}", file=sys.stderr))
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


def submitted_at(notebook: Path) -> datetime | None:
    """The time nbgrader recorded for this submission (``timestamp.txt`` beside the notebook), or None."""
    stamp = Path(notebook).parent / "timestamp.txt"
    try:
        return parse_time(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class LatePolicy:
    due: datetime | None
    penalty_per_day: float = 10.0
    grace_minutes: float = 0.0
    max_penalty: float = 100.0

    @classmethod
    def load(cls, course_root: Path, assignment_id: str) -> "LatePolicy":
        path = Path(course_root) / CONFIG
        try:
            config = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path} is not valid TOML: {exc}") from None
        due = config.get("due", {}).get(assignment_id)
        late = config.get("late", {})
        try:
            return cls(parse_time(str(due)) if due else None, float(late.get("penalty_per_day", 10)),
                       float(late.get("grace_minutes", 0)), float(late.get("max_penalty", 100)))
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
        """Record the submission time, the due date and the penalty on ``result`` (a GradingResult)."""
        when = submitted_at(notebook)
        days, points = self.penalty(when, result.max_score)
        result.submitted = when.isoformat() if when else ""
        result.due = self.due.isoformat() if self.due else ""
        result.days_late, result.late_penalty = days, points

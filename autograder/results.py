"""Grading results as data, and the files and text made from them.

A result is decided in the trusted process from values; nothing here reads a score from a
worker's output. Students see ``Message``; ``detail`` (tracebacks, worker output) is for staff.
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


FIELD_CHARS = 600  # any one part of a message a student reads (it may quote the student's own text)
NOTICE_CHARS, MAX_NOTICES = 400, 12


def cap(text: str, limit: int) -> str:
    """Student-visible text, cut to ``limit`` characters: nothing long leaves through a report."""
    return text if len(text) <= limit else text[:limit] + f" ... [{len(text) - limit} characters cut]"


@dataclass
class Message:
    """What a student reads about a failed check, in four parts."""

    checked: str
    inputs: str = ""
    comparison: str = ""
    hint: str = ""
    mistake: str | None = None

    def render(self) -> str:
        parts = [("Checked", self.checked), ("Input", self.inputs), ("Result", self.comparison),
                 ("Likely mistake", self.mistake or ""), ("Try", self.hint)]
        return "\n".join(f"{label}: {cap(text, FIELD_CHARS)}" for label, text in parts if text)


@dataclass
class TestResult:
    id: str  # pytest node id, stable across runs
    task: str  # contract function, e.g. "linreg"
    cell_id: str  # the notebook's autograded cell it counts for, e.g. "test_linreg"
    name: str  # what was claimed, as the student reads it
    points: float
    max_points: float
    passed: bool
    seed: int
    seconds: float = 0.0
    message: Message | None = None
    detail: str = ""  # instructor-only
    harness_error: bool = False  # the grader, not the student, failed

    def student_output(self) -> str:
        if self.passed:
            return "Passed."
        text = self.message.render() if self.message else "Failed."
        return f"{text}\nReplay: seed {self.seed}"


@dataclass
class Extras:
    """What graders add to a result besides checks: notes the student reads, files, leaderboard rows."""

    notes: list[str] = field(default_factory=list)
    attachments: dict[str, bytes] = field(default_factory=dict)  # file name -> content, written beside feedback.md
    leaderboard: list[dict] = field(default_factory=list)  # Gradescope's {"name", "value", "order"?}


@dataclass
class GradingResult:
    assignment: str
    submission: str
    tests: list[TestResult] = field(default_factory=list)
    max_score: float = 100.0
    seed: int = 0
    device: str = "cpu"
    protections: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # about the notebook as a whole (load problems)
    seconds: float = 0.0
    student: str = ""
    leaderboard: list[dict] = field(default_factory=list)
    attachments: dict[str, bytes] = field(default_factory=dict, repr=False)
    submitted: str = ""  # nbgrader's timestamp, ISO 8601, when known (see intake.py)
    due: str = ""
    days_late: float = 0.0
    late_penalty: float = 0.0  # points taken off the checks' sum

    @property
    def score(self) -> float:
        """The checks' points (what the gradebook's cells add up to), before any late penalty."""
        return round(sum(t.points for t in self.tests), 4)

    @property
    def final_score(self) -> float:
        return round(max(0.0, self.score - self.late_penalty), 4)

    def late_text(self) -> str:
        if not self.late_penalty:
            return ""
        return (f"submitted {self.submitted}, {self.days_late:g} day(s) after the due date {self.due}: "
                f"late penalty -{self.late_penalty:g} points")

    @property
    def harness_errors(self) -> list[TestResult]:
        return [t for t in self.tests if t.harness_error]

    def task_scores(self) -> dict[str, tuple[float, float]]:
        """Per graded notebook cell: (score, max), for the gradebook."""
        out: dict[str, tuple[float, float]] = {}
        for t in self.tests:
            got, most = out.get(t.cell_id, (0.0, 0.0))
            out[t.cell_id] = (got + t.points, most + t.max_points)
        return out

    # ----- serialisation --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Everything but the attachments' bytes (they are files of their own), as JSON-ready data."""
        data = asdict(self)
        data["attachments"] = sorted(self.attachments)
        return {**data, "score": self.score, "final_score": self.final_score}

    @classmethod
    def from_dict(cls, data: dict) -> "GradingResult":
        data = {k: v for k, v in data.items() if k not in ("score", "final_score", "attachments")}
        tests = [TestResult(**{**t, "message": Message(**t["message"]) if t.get("message") else None})
                 for t in data.pop("tests")]
        return cls(tests=tests, **data)

    def to_gradescope(self) -> dict:
        """Gradescope's results.json: what the student may see, nothing instructor-only."""
        return {
            "score": self.final_score,
            "execution_time": round(self.seconds, 2),
            "output": self.summary_text(),
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [{
                "name": f"{t.task}: {t.name}",
                "number": str(i),
                "score": t.points,
                "max_score": t.max_points,
                "status": "passed" if t.passed else "failed",
                "output": t.student_output(),
                "tags": [t.task],
                "visibility": "visible",
            } for i, t in enumerate(self.tests, start=1)],
            "extra_data": {"assignment": self.assignment, "seed": self.seed, "device": self.device,
                           "protections": self.protections,
                           **({"late": {"submitted": self.submitted, "due": self.due, "days_late": self.days_late,
                                        "penalty": self.late_penalty, "checks_score": self.score}}
                              if self.due else {})},
            **({"leaderboard": self.leaderboard} if self.leaderboard else {}),
        }

    def student_notices(self) -> list[str]:
        shown = [cap(n, NOTICE_CHARS) for n in self.notices[:MAX_NOTICES]]
        return shown + ([f"... and {len(self.notices) - MAX_NOTICES} more notes"] if len(self.notices) > MAX_NOTICES else [])

    def summary_text(self) -> str:
        lines = [f"{self.assignment}: {self.final_score:g} / {self.max_score:g} points"]
        lines += [f"Late: {self.late_text()}"] if self.late_penalty else []
        lines += [f"Note: {n}" for n in self.student_notices()]
        return "\n".join(lines)


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)  # never leave a half-written results file behind


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_reports(result: GradingResult, *, results_json: Path | None = None, feedback: Path | None = None,
                  record: Path | None = None, record_extra: dict | None = None) -> None:
    """The files one graded submission produces, written by the trusted process alone, each atomically:
    Gradescope's results.json, the student's feedback.md with its attachments beside it, and the full
    record (result.json) that staff read and a resumed batch trusts."""
    if results_json is not None:
        write_json(results_json, result.to_gradescope())
    if feedback is not None:
        from .feedback import render_html
        write_text(feedback, render_feedback(result))
        write_text(feedback.with_suffix(".html"), render_html(result))
    folder = (feedback or results_json or record or Path(".")).parent
    for name, data in result.attachments.items():
        (folder / name).write_bytes(data)
    if record is not None:
        write_json(record, {**result.to_dict(), **(record_extra or {})})


def render_feedback(result: GradingResult) -> str:
    """The report a student gets: markdown, grouped by graded part, failures explained; checks of one part
    that failed with the same message are shown once, with every check's name and replay seed."""
    from .feedback import failure_groups, group_label, group_output
    lines = [f"# Feedback: {result.assignment}", "", f"**Score: {result.final_score:g} / {result.max_score:g}**", ""]
    lines += [f"> Late: {result.late_text()}", ""] if result.late_penalty else []
    for notice in result.student_notices():
        lines.append(f"> {notice}")
    if result.notices:
        lines.append("")
    lines += [f"![{name}]({name})\n" for name in sorted(result.attachments) if name.endswith((".png", ".svg", ".jpg"))]
    by_task: dict[str, list[TestResult]] = {}
    for t in result.tests:
        by_task.setdefault(t.task, []).append(t)
    for task, tests in by_task.items():
        got, most = sum(t.points for t in tests), sum(t.max_points for t in tests)
        lines += [f"## `{task}`: {got:g} / {most:g}", ""]
        for group in failure_groups(tests):
            t = group[0]
            if len(group) == 1:
                lines.append(f"- **{'PASS' if t.passed else 'FAIL'}** {t.name} ({t.points:g}/{t.max_points:g})")
            else:
                lines.append(f"- **FAIL** {len(group)} checks, {group_label(group)} "
                             f"({sum(g.points for g in group):g}/{sum(g.max_points for g in group):g}):")
                lines += [f"    - {g.name} ({g.points:g}/{g.max_points:g})" for g in group]
            if not t.passed:
                lines += ["", *[f"    {line}" for line in group_output(group).splitlines()], ""]
        lines.append("")
    lines.append(f"_Graded on {result.device} with run seed {result.seed}._")
    return "\n".join(lines) + "\n"


def render_terminal(result: GradingResult, verbose: bool = False) -> str:
    """A compact summary for the TA's terminal."""
    lines = [f"{result.assignment} - {result.submission}"]
    lines += [f"  note: {n}" for n in result.notices]
    for t in result.tests:
        mark = "ok  " if t.passed else ("ERR " if t.harness_error else "FAIL")
        lines.append(f"  {mark} {t.points:>5g}/{t.max_points:<4g} {t.task}: {t.name}")
        if not t.passed:
            body = t.student_output() + (f"\n[instructor] {t.detail}" if verbose and t.detail else "")
            lines += [f"              {line}" for line in body.splitlines()]
    lines.append(f"  score {result.score:g} / {result.max_score:g}   ({result.seconds:.1f} s, {result.device}, "
                 f"seed {result.seed})")
    return "\n".join(lines)


def write_grades_csv(path: Path, results: list[GradingResult]) -> None:
    """One row per student and assignment, one column per graded cell: for an LMS import. ``score`` is after
    any late penalty; when the assignment has a due date, ``late_penalty`` and ``submitted`` columns follow."""
    cells: list[str] = []
    for r in results:
        cells += [c for c in r.task_scores() if c not in cells]
    late = any(r.due for r in results)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "assignment", "score", "max_score", *cells,
                         *(["late_penalty", "submitted"] if late else [])])
        for r in results:
            scores = r.task_scores()
            writer.writerow([r.student, r.assignment, f"{r.final_score:g}", f"{r.max_score:g}",
                             *(f"{scores.get(c, (0, 0))[0]:g}" for c in cells),
                             *([f"{r.late_penalty:g}", r.submitted] if late else [])])

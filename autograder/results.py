"""Grading results as data: the types every part of the harness passes around, and nothing else.

A result is decided in the trusted process from values; nothing here reads a score from a
worker's output. Students see ``Message``; ``detail`` (tracebacks, worker output) is for staff.
What students and staff read is made from these in ``render.py``; the files are written by ``writers.py``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

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
        """What the student reads: the outcome and the advice; no seed, no command (those are staff detail)."""
        if self.passed:
            return "Passed."
        return self.message.render() if self.message else "Failed."

    def staff_output(self) -> str:
        """The student's text and how to replay the check (``autograder grade ... --seed S -k NAME``)."""
        return self.student_output() if self.passed else f"{self.student_output()}\nReplay: seed {self.seed}"


@dataclass
class Extras:
    """What graders add to a result besides checks: notes the student reads, files, leaderboard rows."""

    notes: list[str] = field(default_factory=list)
    attachments: dict[str, bytes] = field(default_factory=dict)  # file name -> content, written beside feedback.md
    leaderboard: list[dict] = field(default_factory=list)  # Gradescope's {"name", "value", "order"?}
    device_notes: dict[str, str] = field(default_factory=dict)  # function -> why its simulated-GPU probe said nothing


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
    flags: list[str] = field(default_factory=list)  # for staff only: refused uploads, doubtful submission times
    refused: bool = False  # intake refused the upload (e.g. the master notebook): nothing of it was graded
    device_notes: dict[str, str] = field(default_factory=dict)  # staff only: unchecked on the meta device
    data_notice: str = ""  # graded on the fallback data set: the header of every report says so
    # Per graded cell, the score a grader gave in nbgrader's gradebook (formgrader's manual score plus extra
    # credit), where there is one: it wins over the checks' points in every output (see gradebook.py).
    manual: dict[str, float] = field(default_factory=dict)

    @property
    def checks_score(self) -> float:
        """The checks' points alone (what the autograded cells record as auto scores)."""
        return round(sum(t.points for t in self.tests), 4)

    @property
    def score(self) -> float:
        """The parts' scores (a grader's manual score winning over the checks' points), before any late penalty."""
        return round(sum(got for got, _ in self.task_scores().values()), 4)

    @property
    def not_graded(self) -> list[str]:
        """The graded cells whose checks the harness could not run and no grader scored by hand: no grade."""
        return sorted({t.cell_id for t in self.tests if t.harness_error} - set(self.manual))

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
        """Per graded notebook cell: (score, max), a grader's manual score in place of the checks' points."""
        out: dict[str, tuple[float, float]] = {}
        for t in self.tests:
            got, most = out.get(t.cell_id, (0.0, 0.0))
            out[t.cell_id] = (got + t.points, most + t.max_points)
        return {cell: (self.manual.get(cell, got), most) for cell, (got, most) in out.items()}

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

    def student_notices(self) -> list[str]:
        """The notes about the notebook as a whole that a student reads: capped in length and in number."""
        shown = [cap(n, NOTICE_CHARS) for n in self.notices[:MAX_NOTICES]]
        more = len(self.notices) - MAX_NOTICES
        return shown + ([f"... and {more} more notes"] if more > 0 else [])

"""Every error the harness knows, in one module, and one table of whose fault each is and what it costs.

Student failures become a failed check with a message for the student; grader and harness failures
become an "internal error" result that staff must look at (exit code 2); usage errors stop the
command with a message that says how to fix the call (exit code 2).
"""
from __future__ import annotations

from dataclasses import dataclass

from gradeworker.protocol import ErrorKind


class UsageError(Exception):
    """The command was asked for something that does not exist or cannot work (exit code 2)."""


class HarnessError(Exception):
    """The grading machinery itself failed (not the student's code)."""


class NotebookError(Exception):
    """The submitted file is not a notebook we can read."""


class CheckFailed(Exception):
    """A grader's check did not hold; the fields are what the student reads."""

    def __init__(self, checked: str, inputs: str = "", comparison: str = "", hint: str = "",
                 mistake: str | None = None):
        self.checked, self.inputs, self.comparison, self.hint, self.mistake = checked, inputs, comparison, hint, mistake
        super().__init__(f"{checked}: {comparison}")


class StudentFailure(Exception):
    """Base class: the student's code (not the grader) is why a check could not pass."""

    kind: ErrorKind = ErrorKind.STUDENT_EXCEPTION


class StudentCodeError(StudentFailure):
    """Student code raised (or returned something that cannot travel as data)."""

    def __init__(self, function: str, exc_type: str, text: str, traceback: str = "",
                 kind: ErrorKind = ErrorKind.STUDENT_EXCEPTION):
        self.function, self.type, self.text, self.traceback, self.kind = function, exc_type, text, traceback, kind
        super().__init__(f"{function} raised {exc_type}: {text}")


class MissingFunction(StudentFailure):
    kind = ErrorKind.MISSING_NAME

    def __init__(self, name: str, defined: list[str]):
        self.name, self.defined = name, defined
        super().__init__(f"{name} is not defined")


class SignatureMismatch(StudentFailure):
    kind = ErrorKind.SIGNATURE_MISMATCH

    def __init__(self, function: str, text: str):
        self.function, self.text = function, text
        super().__init__(text)


class ForbiddenCallUsed(StudentFailure):
    def __init__(self, function: str, calls: list[str], tampered: bool = False):
        self.function, self.calls, self.tampered = function, calls, tampered
        self.kind = ErrorKind.MONITOR_TAMPERED if tampered and not calls else ErrorKind.FORBIDDEN_CALL
        what = ", ".join(calls) if calls else "sys.setprofile (it switched off the forbidden-call monitor)"
        super().__init__(f"{function} used {what}")


class WorkerLost(StudentFailure):
    """The worker died, overran its time or sent garbage while running student code; it will be replaced."""

    def __init__(self, function: str, reason: str, status: str = "", output: str = "", *,
                 kind: ErrorKind = ErrorKind.WORKER_LOST):
        self.function, self.reason, self.status, self.output, self.kind = function, reason, status, output, kind
        super().__init__(f"{function}: {reason} ({status})")

    @property
    def timed_out(self) -> bool:
        return self.kind is ErrorKind.TIMED_OUT


@dataclass(frozen=True)
class Fault:
    whose: str  # "student", "grader" or "usage"
    costs: str  # what the result loses
    exit_code: int  # of `autograder grade` when this happens (0: the submission was graded)


FAULTS: dict[object, Fault] = {
    CheckFailed: Fault("student", "the points of that check", 0),
    ErrorKind.STUDENT_EXCEPTION: Fault("student", "the points of that check", 0),
    ErrorKind.UNSENDABLE: Fault("student", "the points of that check", 0),
    ErrorKind.MISSING_NAME: Fault("student", "the points of that check", 0),
    ErrorKind.SIGNATURE_MISMATCH: Fault("student", "the points of that check", 0),
    ErrorKind.FORBIDDEN_CALL: Fault("student", "every check of that part", 0),
    ErrorKind.MONITOR_TAMPERED: Fault("student", "every check of that part", 0),
    ErrorKind.TIMED_OUT: Fault("student", "that check; later calls of the function wait less", 0),
    ErrorKind.WORKER_LOST: Fault("student", "that check; the next one gets a fresh worker", 0),
    ErrorKind.INVALID_REPLY: Fault("student", "that check; the next one gets a fresh worker", 0),
    NotebookError: Fault("student", "the whole submission (score 0, with the reason)", 0),
    ErrorKind.BAD_REQUEST: Fault("grader", "that check, reported as an internal error", 2),
    HarnessError: Fault("grader", "the parts that could not be graded, reported as internal errors", 2),
    UsageError: Fault("usage", "nothing: the command stops and says what to fix", 2),
}

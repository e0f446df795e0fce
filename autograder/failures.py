"""Ways student code fails a check that are the student's doing, not the grader's.

The plugin turns each into a student message; anything else a grader raises is a harness error.
"""
from __future__ import annotations


class StudentFailure(Exception):
    """Base class: the student's code (not the grader) is why a check could not pass."""


class StudentCodeError(StudentFailure):
    def __init__(self, function: str, error: dict):
        self.function = function
        self.type = str(error.get("type", "Exception"))
        self.text = str(error.get("message", ""))
        self.traceback = str(error.get("traceback", ""))
        super().__init__(f"{function} raised {self.type}: {self.text}")


class MissingFunction(StudentFailure):
    def __init__(self, name: str, defined: list[str]):
        self.name, self.defined = name, defined
        super().__init__(f"{name} is not defined")


class SignatureMismatch(StudentFailure):
    def __init__(self, function: str, text: str):
        self.function, self.text = function, text
        super().__init__(text)


class ForbiddenCallUsed(StudentFailure):
    def __init__(self, function: str, calls: list[str], tampered: bool = False):
        self.function, self.calls, self.tampered = function, calls, tampered
        what = ", ".join(calls) if calls else "sys.setprofile (it switched off the forbidden-call monitor)"
        super().__init__(f"{function} used {what}")


class WorkerLost(StudentFailure):
    """The worker died or overran its time while running student code; it will be replaced."""

    def __init__(self, function: str, reason: str, status: str = "", output: str = ""):
        self.function, self.reason, self.status, self.output = function, reason, status, output
        super().__init__(f"{function}: {reason} ({status})")

"""What a student reads when a check fails: the message policy, kept apart from running the graders.

``explain`` turns any way a test can fail into a four-part ``Message`` (what was checked, on what
input, expected against got, what to try) and says whether the grader itself is at fault.
"""
from __future__ import annotations

from gradeworker.protocol import ErrorKind

from .compare import error_mistake
from .errors import CheckFailed, ForbiddenCallUsed, MissingFunction, SignatureMismatch, StudentCodeError, WorkerLost
from .results import Message

# PyTorch errors students meet most, and what to do about each.
ERROR_HINTS = [
    ("leaf Variable that requires grad is being used in an in-place operation",
     "a tensor that requires grad was changed in place: update parameters inside `with torch.no_grad():`, "
     "and never write into a function's inputs (return a new tensor)"),
    ("Expected all tensors to be on the same device",
     "create new tensors on the input's device (device=X.device); never call .cpu() or .cuda() on inputs"),
    ("can't convert cuda", "stay in torch: NumPy only works on CPU tensors"),
    ("Can't call numpy() on Tensor that requires grad", "stay in torch, or use .detach() before .numpy()"),
    ("shapes cannot be multiplied", "print the shapes of both operands of the matrix product: for A @ B, "
     "A.shape[-1] must equal B.shape[0] (flatten images to (n, d) first)"),
    ("must match the size of tensor", "print the shapes of both operands; broadcasting could not line them up"),
    ("expected scalar type", "create new tensors with the input's dtype (dtype=X.dtype)"),
    ("same dtype", "create new tensors with the input's dtype (dtype=X.dtype)"),
    ("does not require grad and does not have a grad_fn",
     "the parameters need requires_grad=True, and the loss must be computed from them with torch operations"),
    ("backward through the graph a second time", "compute a fresh loss for every backward()"),
    ("'NoneType' object has no attribute", "a tensor's .grad is None until backward() fills it, and `p = p - ...` "
     "makes a new tensor without one: update parameters in place"),
]


def error_hint(text: str) -> str:
    for pattern, hint in ERROR_HINTS:
        if pattern in text:
            return hint
    return "run the notebook's public tests for this function and read the traceback"


def internal_error(claim: str) -> Message:
    return Message(claim, comparison="the grader could not run this check (internal error)",
                   hint="this is not your fault; your TA has the details")


def explain(exc: BaseException, task: str, claim: str) -> tuple[Message, bool]:
    """The student message for any way a test can fail, and whether the grader itself is at fault."""
    if isinstance(exc, CheckFailed):
        return Message(exc.checked, exc.inputs, exc.comparison, exc.hint, exc.mistake), False
    if isinstance(exc, StudentCodeError):
        where = f" ({exc.traceback.strip().splitlines()[0].strip()})" if exc.traceback.strip() else ""
        if exc.type == "NotImplementedError":
            return Message(claim, comparison=f"{exc.function} is not implemented yet (it raises "
                           "NotImplementedError)", hint=f"replace `raise NotImplementedError()` in {exc.function} "
                           "with your code"), False
        return Message(claim, comparison=f"{exc.function} raised {exc.type}: {exc.text}{where}",
                       hint=error_hint(exc.text), mistake=error_mistake(exc.text)), False
    if isinstance(exc, MissingFunction):
        return Message(claim, comparison=f"no function named {exc.name} is defined in your notebook",
                       hint=f"keep the name and signature of the released stub `def {exc.name}(...)`; check the "
                            "cell that defines it runs without errors"), False
    if isinstance(exc, SignatureMismatch):
        return Message(claim, comparison=exc.text, hint="keep the signature of the released stub"), False
    if isinstance(exc, ForbiddenCallUsed):
        if exc.tampered:
            return Message(claim, comparison=f"{exc.function} switched off the forbidden-call monitor "
                           "(sys.setprofile / threading.setprofile)", hint="do not change profiling hooks"), False
        calls = ", ".join(exc.calls)
        return Message(claim, comparison=f"{exc.function} called {calls}, which this exercise "
                       "forbids", hint="implement it yourself from basic tensor operations; "
                       "the library call would do the exercise for you",
                       mistake=f"a library call does the exercise: {calls} (seen while {exc.function} ran)"), False
    if isinstance(exc, WorkerLost):
        why = {ErrorKind.TIMED_OUT: "it may loop forever, or be far too slow",
               ErrorKind.INVALID_REPLY: "something in your code wrote into the worker's channel to the grader"}.get(
            exc.kind, "os._exit, sys.exit in a thread, a crash in native code, or running out of memory")
        return Message(claim, comparison=f"while running {exc.function}: {exc.reason} (worker {exc.status})",
                       hint=f"{why}; the grader started a fresh process for the next check"), False
    if isinstance(exc, AssertionError):
        return Message(claim, comparison=str(exc).split("\n")[0][:500] or "a check failed"), False
    return internal_error(claim), True  # a HarnessError, or a grader that raised: not the student's doing

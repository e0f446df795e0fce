"""``with check("softmax"):``: a public test cell's one verdict, the same in the notebook, the toolbar's
Validate and ``python -m d2lcourse validate``.

A public test cell reads::

    with check("softmax"):
        _P = softmax(torch.tensor([[1.0, 2.0, 3.0]]))
        assert ..., f"... got {_P.tolist()}"

and ends with exactly one verdict (Otter's ``grader.check("q1")`` is the model):

* ``PASS``: every assertion held and no forbidden call was seen;
* ``FAILED``: the first assertion that failed, with its message (the test's got/expected and, where the
  test knows it, the mistake by name), the line and the values of the test's ``_names`` in it; any other
  error raised by the student's code is shown with its traceback;
* ``NOT DONE``: the function still raises ``NotImplementedError`` (the stub);
* ``FORBIDDEN``: the assertions held, but while the test ran the student's function, the grader's own call
  monitor (``gradeworker.monitor.CallMonitor``, its profile hook; the grader adds a check at PyTorch's
  dispatcher) saw a call the contract forbids there. Advisory: the grader decides, but such a part never
  counts as passing here.

Anything but PASS raises :class:`PublicTestVerdict`, whose traceback IPython shows as the verdict alone, so
that nbgrader's Validate (which counts a test cell with an error as failed) agrees with the cell. Each
verdict is also kept in :data:`VERDICTS` for the validate runner.

Only the part's own function (or class) is watched, by swapping it for a monitored wrapper while the cell
runs: a test may itself call the forbidden reference (``F.conv2d``) to compare with. The forbidden names
come from ``forbidden.json`` beside the notebook (the kernel's working folder), as released.
"""
from __future__ import annotations

import ast
import functools
import json
import linecache
import os
import sys
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORBIDDEN_FILE = "forbidden.json"
PASS, FAILED, NOT_DONE, FORBIDDEN = "PASS", "FAILED", "NOT DONE", "FORBIDDEN"
ADVISORY = "advisory: the grader's own call monitor saw it while this test ran your code; the grader decides"


@dataclass
class Verdict:
    """One part's verdict: status, its one-line reason, and the lines under it (got, the line, a traceback)."""

    part: str
    status: str
    reason: str = ""
    detail: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = f"{self.status:<9} {self.part}" + (f": {self.reason}" if self.reason else "")
        return [head] + [f"          {line}" for line in self.detail]

    def text(self) -> str:
        return "\n".join(self.lines())

    def to_json(self) -> dict:
        return {"part": self.part, "status": self.status, "reason": self.reason, "detail": self.detail}


VERDICTS: dict[str, Verdict] = {}  # part -> its latest verdict in this process
_SAID: set[str] = set()  # notes about the whole notebook already printed in this process


class PublicTestVerdict(Exception):
    """A public test that did not pass; IPython (and the validate runner) show only the verdict."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.text())
        self.verdict = verdict

    def _render_traceback_(self) -> list[str]:  # IPython's hook: these lines instead of a traceback
        return self.verdict.lines()


# ----- forbidden calls --------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _forbidden_table(folder: str) -> dict[str, list[str]] | None:
    path = Path(folder) / FORBIDDEN_FILE
    try:
        return {k: list(v) for k, v in json.loads(path.read_text(encoding="utf-8"))["forbidden"].items()}
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def forbidden_for(part: str) -> list[str] | None:
    """The names the contract forbids in ``part``; None where no forbidden.json is beside the notebook."""
    table = _forbidden_table(os.environ.get("D2L_FORBIDDEN_DIR") or os.getcwd())
    return None if table is None else table.get(part, [])


class _Watch:
    """Runs the part's function (or the methods of its class) under the grader's call monitor."""

    def __init__(self, names: list[str]):
        from gradeworker.monitor import CallMonitor, ForbiddenSet  # torch is imported by then: the notebook's
        self._monitor_class, self._set = CallMonitor, ForbiddenSet.from_names(names)
        self.seen: list[str] = []
        self._depth = 0

    def wrap(self, fn: Any) -> Any:
        @functools.wraps(fn)
        def watched(*args: Any, **kwargs: Any) -> Any:
            if self._depth:  # already inside the monitored call (recursion, a helper calling back)
                return fn(*args, **kwargs)
            self._depth += 1
            monitor = self._monitor_class(self._set)
            try:
                with monitor:
                    return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                self.seen += [n for n in monitor.seen if n not in self.seen]
        return watched


class check:  # noqa: N801  (used as ``with check("softmax"):``, like a function)
    """The context manager of one public test cell; see the module's docstring."""

    def __init__(self, part: str, function: str | None = None):
        self.part = part
        self.function = function or part  # the name the notebook defines for this part
        self._restore: list[tuple[Any, str, Any]] = []
        self._watch: _Watch | None = None
        self._note = ""

    def __enter__(self) -> "check":
        namespace = sys._getframe(1).f_globals  # the notebook's namespace (IPython runs cells in it)
        target = namespace.get(self.function)
        names = forbidden_for(self.part)
        if names is None:
            self._note = f"no {FORBIDDEN_FILE} beside the notebook: forbidden calls were not checked"
        if names and target is not None and "torch" in sys.modules:
            try:
                self._watch = _Watch(names)
            except ImportError:  # the grading worker's package is not installed: say so, do not fail
                self._note = "gradeworker is not installed: forbidden calls were not checked"
        if self._note and self._note not in _SAID:  # about the notebook, not the part: said once
            _SAID.add(self._note)
            print(f"note: {self._note}")
        if self._watch is not None:
            if isinstance(target, type):  # a class: its own methods (__init__, forward, ...) are watched
                for key, value in list(vars(target).items()):
                    if isinstance(value, types.FunctionType):
                        self._restore.append((target, key, value))
                        setattr(target, key, self._watch.wrap(value))
            elif callable(target):
                self._restore.append((namespace, self.function, target))
                namespace[self.function] = self._watch.wrap(target)
        return self

    def _put_back(self) -> None:
        for owner, key, value in reversed(self._restore):
            if isinstance(owner, dict):
                owner[key] = value
            else:
                setattr(owner, key, value)
        self._restore.clear()

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        self._put_back()
        if isinstance(exc, KeyboardInterrupt):
            return False
        verdict = self.verdict(exc, tb)
        VERDICTS[self.part] = verdict
        if verdict.status == PASS:
            print(verdict.text())
            return True  # a pass swallows nothing: there was no exception
        raise PublicTestVerdict(verdict) from None

    def verdict(self, exc: BaseException | None, tb: Any) -> Verdict:
        seen = self._watch.seen if self._watch is not None else []
        if isinstance(exc, NotImplementedError):
            return Verdict(self.part, NOT_DONE, "still raises NotImplementedError: replace the stub "
                           "`raise NotImplementedError()` with your code")
        if isinstance(exc, AssertionError):
            message = str(exc).strip() or "an assertion failed"
            return Verdict(self.part, FAILED, message, _assertion_context(tb) + _forbidden_lines(seen))
        if exc is not None:
            lines = traceback.format_exception(type(exc), exc, tb)
            shown = [line.rstrip("\n") for chunk in lines[1:] for line in chunk.splitlines()]  # no "Traceback"
            return Verdict(self.part, FAILED, f"{type(exc).__name__}: {exc}".strip()[:300],
                           ["your code raised it here:"] + shown[-12:] + _forbidden_lines(seen))
        if seen:
            return Verdict(self.part, FORBIDDEN, f"{self.function} called {', '.join(seen)}, which the contract "
                           f"forbids there (directly or through a function it calls)",
                           [f"the values were right, but such a call costs all of {self.part}'s points: write it "
                            f"without that call ({ADVISORY})"])
        return Verdict(self.part, PASS, "public tests passed (the hidden graders check more)")


def _forbidden_lines(seen: list[str]) -> list[str]:
    return [f"also: a forbidden call was seen ({', '.join(seen)}; {ADVISORY})"] if seen else []


def _assertion_context(tb: Any) -> list[str]:
    """The failing assert's line and the values of the test's own ``_names`` in it (what it got)."""
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return []
    frame, lineno = tb.tb_frame, tb.tb_lineno
    line = linecache.getline(frame.f_code.co_filename, lineno, frame.f_globals).strip()
    if not line:
        return []
    out = [f"at: {line if len(line) <= 160 else line[:157] + '...'}"]
    try:
        names = sorted({n.id for n in ast.walk(ast.parse(line.rstrip(",\\").removeprefix("assert ") or "0"))
                        if isinstance(n, ast.Name) and n.id.startswith("_")})
    except SyntaxError:
        names = []
    values = {**frame.f_globals, **frame.f_locals}
    for name in names:
        if name in values and not callable(values[name]):
            out.append(f"where {name} = {_short(values[name])}")
    return out


def _short(value: Any, limit: int = 200) -> str:
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and getattr(value, "numel", lambda: 0)() <= 64:
        shape = tuple(getattr(value, "shape", ()))
        text = f"{tolist()} (shape {shape}, {str(getattr(value, 'dtype', '')).removeprefix('torch.')})"
    elif callable(tolist):
        text = f"a tensor of shape {tuple(value.shape)}, {str(value.dtype).removeprefix('torch.')}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."

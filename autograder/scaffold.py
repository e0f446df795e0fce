"""``autograder new <id>``: a new assignment in its six places, with one working example to replace.

The example is one contract function, ``double(x) -> 2 * x``: its solution cell and autograded test
cell (100 points) in ``source/<id>/<id>.ipynb``, the release made from it by nbgrader, its graders
(``graders/<id>/``), an independent reference (``solutions/<id>.py``), a catalogue of wrong answers
(``tests/catalogue/<id>.py``), example submissions with their reviewed scores (``tests/submissions/<id>/``)
and the written contract (``docs/contract/<id>.md``). ``autograder validate <id>`` and the test suite
pass on it as it is; an instructor then replaces the example, place by place.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import keyword
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .layout import Assignment, Course, UsageError

ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def check_id(course: Course, assignment_id: str) -> None:
    """Refuse an id that cannot name a folder and a Python package at every stage, or one already in use."""
    if not ID_PATTERN.match(assignment_id) or keyword.iskeyword(assignment_id):
        raise UsageError(f"bad assignment id {assignment_id!r}: use lower-case letters, digits and single underscores, "
                         "starting with a letter, e.g. hw5_cnn (it names a folder and a Python package)")
    # The graders import as the package ``<id>`` (graders/ is on the grader's sys.path): an id that is
    # already a module (json, torch, solutions...) would be shadowed by it, or shadow it.
    if assignment_id not in course.assignment_ids() and importlib.util.find_spec(assignment_id) is not None:
        raise UsageError(f"bad assignment id {assignment_id!r}: a Python module of that name exists already, and the "
                         f"graders' package graders/{assignment_id} would clash with it; choose another, e.g. "
                         f"hw0_{assignment_id}")
    taken = [str(path.relative_to(course.root)) for path in Assignment(assignment_id, course).places().values()
             if path.exists()]
    if taken:
        raise UsageError(f"assignment {assignment_id!r} exists already ({', '.join(taken)}); "
                         "choose a new id, or edit the existing one")


def new_assignment(course: Course, assignment_id: str, title: str | None = None) -> dict[str, Path]:
    """Write the example assignment ``assignment_id`` into every place; returns the places.

    On any failure the places written so far are removed again, so that a second try starts clean.
    """
    check_id(course, assignment_id)
    helpers = course.root / "tests" / "helpers.py"
    if not helpers.is_file():
        raise UsageError(f"{helpers} is missing: the example submissions are built with it")
    where = Assignment(assignment_id, course).places()
    title = title or assignment_id.replace("_", " ").capitalize()
    files = {
        where["source"] / f"{assignment_id}.ipynb": json.dumps(source_notebook(assignment_id, title), indent=1,
                                                               ensure_ascii=False) + "\n",
        where["graders"] / "__init__.py": GRADERS_INIT,
        where["graders"] / "test_double.py": GRADER,
        where["reference"]: REFERENCE,
        where["catalogue"]: CATALOGUE,
        where["submissions"] / "make_submissions.py": MAKE_SUBMISSIONS,
        where["submissions"] / "expected.json": EXPECTED,
        where["contract"]: CONTRACT,
    }
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace("__ID__", assignment_id).replace("__TITLE__", title), encoding="utf-8")
        from .release import release
        release(course, assignment_id)
        done = subprocess.run([sys.executable, str(where["submissions"] / "make_submissions.py")], cwd=course.root,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise UsageError(f"building the example submissions failed:\n{done.stderr[-3000:]}")
    except BaseException:
        for path in where.values():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()
        raise
    return where


# ----- the source notebook ---------------------------------------------------------------------------

def _cell_id(assignment_id: str, n: int) -> str:
    return hashlib.sha1(f"{assignment_id}:{n}".encode()).hexdigest()[:8]


def _lines(text: str) -> list[str]:
    return text.strip("\n").splitlines(keepends=True)


def source_notebook(assignment_id: str, title: str) -> dict:
    """The instructor's notebook: text, one solution cell, its autograded test cell, a demo cell."""
    nbgrader = {"schema_version": 3, "task": False}
    cells = [
        ("markdown", {}, f"""
# {title}

*An example made by `autograder new {assignment_id}`: replace it with the assignment.* The contract (every
function, signature, convention and forbidden call) is in `docs/contract/{assignment_id}.md`.

Write each function in its cell, between the lines the release leaves open; run the cell after it: its public
tests print a line when they pass. The hidden graders check more than these public tests.
"""),
        ("code", {}, "import torch\n\nfrom d2lcourse import check"),
        ("markdown", {}, """
## 1. double

**Task 1.** Implement `double(x)`: a new tensor holding $2x$, elementwise, of `x`'s shape, dtype and device,
differentiable with respect to `x`. Leave `x` unmodified.
"""),
        ("code", {"nbgrader": {**nbgrader, "grade": False, "grade_id": "double", "locked": False, "solution": True}},
         '''
def double(x):
    """2 * x, elementwise: a new tensor of x's shape, dtype and device."""
    ### BEGIN SOLUTION
    return x + x
    ### END SOLUTION
'''),
        ("code", {"nbgrader": {**nbgrader, "grade": True, "grade_id": "test_double", "locked": True, "points": 100,
                               "solution": False}},
         '''
# Public tests for double
with check("double"):  # one verdict: PASS, FAILED, NOT DONE or FORBIDDEN (d2lcourse.publictest)
    _x = torch.tensor([1.0, -2.0, 0.5])
    _y = double(_x)
    assert torch.equal(_y, torch.tensor([2.0, -4.0, 1.0])), f"double({_x.tolist()}) should be 2 * x, got {_y.tolist()}"
    _y = double(torch.zeros(2, 3, dtype=torch.float64))
    assert _y.dtype == torch.float64, f"keep x's dtype: float64 expected, got {_y.dtype}"
'''),
        ("code", {"tags": ["demo"]}, '''
# A demo: grading skips cells tagged `demo` (training runs, plots, timings).
print(double(torch.arange(4.0)))
'''),
    ]
    return {
        "cells": [{"cell_type": kind, "id": _cell_id(assignment_id, n), "metadata": meta, "source": _lines(text),
                   **({"execution_count": None, "outputs": []} if kind == "code" else {})}
                  for n, (kind, meta, text) in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                     "language_info": {"name": "python", "pygments_lexer": "ipython3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# ----- the other places (``__ID__`` and ``__TITLE__`` are replaced) ------------------------------------

GRADERS_INIT = '''"""Hidden graders for __ID__. Never shipped to students.

``FORBIDDEN`` maps a contract function to the library calls that would do its exercise; a call of
one while that function runs costs all of its points, with a message naming the call. Names as the
contract writes them: ``torch.softmax``, ``F.softmax`` (torch.nn.functional), ``nn.Softmax``,
``Tensor.softmax``, ``np.linalg.lstsq``. This file holds FORBIDDEN and nothing to run: shared checks
go in checks.py beside the graders, fixtures (if any) in conftest.py.
"""
FORBIDDEN: dict[str, list[str]] = {
    "double": [],  # nothing to forbid in the example; e.g. "softmax": ["torch.softmax", "F.softmax"]
}
'''

GRADER = '''"""double(x) -> 2 * x, elementwise: a new tensor of x's shape, dtype and device, differentiable in x."""
import pytest
import torch

from autograder.compare import expect, expect_tensor, expect_unchanged, inputs

# Awkward shapes on purpose: a scalar, a single element, vectors, matrices and a 3-D tensor.
SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 4)]
HINT = "return 2 * x (or x + x): a new tensor, computed with tensor operations"


def mistakes(x):
    """What the common wrong answers return for x (evaluated only when a check fails)."""
    return {
        "x is returned as it is: the factor 2 is missing": x,
        "x squared instead of doubled (x * x)": lambda: x * x,
        "x + 2 instead of 2 * x": lambda: x + 2,
    }


@pytest.mark.points(60)
def test_values(student, ref, device, dtype):
    """Is double(x) equal to 2 * x for every element, for several shapes?"""
    for shape in SHAPES:
        x = torch.randn(shape, dtype=dtype, device=device)
        expect_tensor(student.double(x), ref.double(x), "double(x) equals 2 * x, elementwise", inputs=inputs(x=x),
                      mistakes=mistakes(x), hint=HINT)


@pytest.mark.points(20)
def test_gradient(student, device):
    """Is double(x) differentiable with respect to x, with gradient 2 everywhere?"""
    x = torch.randn(4, 5, dtype=torch.float64, device=device)
    g = torch.rand_like(x) + 0.5
    where = inputs(x=x)
    result = student.double.run((x,), wrt=[0], grad_output=g)
    expect(result.grad_error is None, "double(x) is differentiable with respect to x", inputs=where,
           expected="a result connected to the autograd graph", got=result.grad_error or "",
           hint="build the result from x with torch operations only (no .item(), .tolist(), .numpy(), .detach())")
    grad = result.grads[0] if isinstance(result.grads, list) and result.grads else None
    expect(grad is not None, "the gradient reaches x", inputs=where, expected="a gradient", got="None")
    expect_tensor(grad, 2 * g, "the gradient of double(x) with respect to x is 2 (times the output's gradient)",
                  inputs=where, mistakes={"the factor 2 is missing: the gradient is 1": g}, hint=HINT)


@pytest.mark.points(20)
def test_input_unmodified(student, device):
    """Is x left unmodified (a new tensor returned, not x doubled in place)?"""
    x = torch.randn(3, 4, device=device)
    result = student.double.run((x,), return_args=True)
    expect_unchanged(x, result.args_after[0], "x", "double leaves x unmodified", inputs=inputs(x=x))
'''

REFERENCE = '''"""Reference for __ID__, written from the contract (docs/contract/__ID__.md).

Kept independent of the notebook's solution cells, and built on PyTorch's own routines where they
exist, so that a grader comparing the two is not comparing a solution with itself.
"""
from __future__ import annotations

import torch


def double(x: torch.Tensor) -> torch.Tensor:
    """2 * x, elementwise."""
    return torch.mul(x, 2)
'''

CATALOGUE = '''"""Wrong implementations of __ID__'s functions, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that names it.
"""
from helpers import Wrong

WRONG = [
    # ----- double -------------------------------------------------------------------------------
    Wrong("double", "the factor 2 is missing", \'\'\'
def double(x):
    return x
\'\'\', "the factor 2 is missing"),
    Wrong("double", "x squared instead of doubled", \'\'\'
def double(x):
    return x * x
\'\'\', "x squared instead of doubled"),
    Wrong("double", "x + 2 instead of 2 * x", \'\'\'
def double(x):
    return x + 2
\'\'\', "x + 2 instead of 2 * x"),
    Wrong("double", "doubled in place", \'\'\'
def double(x):
    x *= 2
    return x
\'\'\', "double leaves x unmodified"),
    Wrong("double", "through Python floats: no gradient", \'\'\'
def double(x):
    return torch.tensor([2 * v for v in x.flatten().tolist()], dtype=x.dtype, device=x.device).reshape(x.shape)
\'\'\', "differentiable with respect to x"),
]
'''

MAKE_SUBMISSIONS = '''"""Rebuild __ID__'s example submissions from the released notebook:
python tests/submissions/__ID__/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/
from helpers import fill, solution_cells, write_examples, wrong_answers  # noqa: E402

ID = "__ID__"
SOLVED = solution_cells(ID)

# Correct, but written differently from both the notebook's solution and the reference.
ALTERNATIVE = {"double": \'\'\'
def double(x):
    return x * 2.0
\'\'\'}
ALTERNATIVE_ADD = {"double": \'\'\'
def double(x):
    return torch.add(x, x)
\'\'\'}

WRONG_KNOWN = wrong_answers(ID, ["the factor 2 is missing"])

# Borrow the reference: by import, or from any solutions/ folder near the working directory.
CHEAT_IMPORT_REFERENCE = {"double": \'\'\'
def double(x):
    import glob, importlib
    for name in ("solutions.__ID__", "__ID__"):
        try:
            return importlib.import_module(name).double(x)
        except Exception:
            pass
    for path in glob.glob("**/solutions/__ID__.py", recursive=True) + glob.glob("../../**/__ID__.py"):
        namespace = {}
        exec(open(path).read(), namespace)
        return namespace["double"](x)
    raise RuntimeError("no reference found to copy")
\'\'\'}


def examples() -> dict[str, dict]:
    return {
        "correct_solution": fill(ID, SOLVED),
        "correct_alternative": fill(ID, ALTERNATIVE),
        "correct_alternative_add": fill(ID, ALTERNATIVE_ADD),
        "half_done": fill(ID, {}),  # one part, not started: with more parts, fill some of them
        "wrong_known_mistakes": fill(ID, {**SOLVED, **WRONG_KNOWN}),
        "cheat_import_reference": fill(ID, {**SOLVED, **CHEAT_IMPORT_REFERENCE}),
    }


if __name__ == "__main__":
    write_examples(ID, examples())
'''

EXPECTED = '''{
  "correct_solution.ipynb": {"score": 100},
  "correct_alternative.ipynb": {"score": 100},
  "correct_alternative_add.ipynb": {"score": 100},
  "half_done.ipynb": {"score": 0, "messages": {"double": "not implemented yet"}},
  "wrong_known_mistakes.ipynb": {"score": 20, "messages": {"double": "the factor 2 is missing"}},
  "cheat_import_reference.ipynb": {"score": 0, "messages": {"double": "no reference found to copy"}}
}
'''

CONTRACT = '''# __ID__: contract

*Made by `autograder new __ID__`: an example to replace.* The general rules are in [README.md](README.md);
this page is the contract of this assignment. The notebook (`source/__ID__/__ID__.ipynb`), the reference
(`solutions/__ID__.py`) and the graders (`graders/__ID__/`) follow it to the letter.

| part | points | forbidden calls |
|---|---|---|
| `double` | 100 | none |

## `double(x) -> Tensor`

- `x`: a tensor of any shape (a scalar included), float32 or float64, on any device.
- Returns a **new** tensor equal to `2 * x` elementwise, with `x`'s shape, dtype and device, within the dtype's
  tolerance.
- Differentiable with respect to `x` (gradient 2 everywhere); `x` is left unmodified.
'''

"""Make ``release/<id>/`` from ``source/<id>/`` with nbgrader, and check that the two agree.

nbgrader is a staff tool: this module imports it only when asked to release, so grading works on a
runner that has no nbgrader.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .layout import Course, UsageError


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader: it runs `alembic` from PATH when it creates or upgrades the gradebook,
    so this interpreter's bin folder (the virtual environment's, where `make env` put alembic) goes first."""
    here = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    return {**os.environ, "PATH": path if path.split(os.pathsep)[:1] == [here] else here + os.pathsep + path}


def _generate(course_root: Path, assignment_id: str, db: bool = True) -> None:
    """nbgrader generate_assignment; with ``db`` it also registers the assignment and its graded cells in
    the course's gradebook (what ``nbgrader autograde``, formgrader and ``autograder batch`` grade against)."""
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment_id, "--force",
               *([] if db else ["--no-db"]), f"--CourseDirectory.root={course_root}", "--log-level=WARN"]
    done = subprocess.run(command, cwd=course_root, capture_output=True, text=True, env=nbgrader_env())
    if done.returncode != 0:
        if "No module named nbgrader" in done.stderr:
            raise UsageError("nbgrader is not installed here: run `make env` (or pip install '.[staff]')")
        raise UsageError(f"nbgrader generate_assignment {assignment_id} failed:\n{done.stderr[-3000:]}")


def release(course: Course, assignment_id: str) -> Path:
    """Regenerate ``release/<id>/<id>.ipynb`` from the source notebook; returns its path."""
    assignment = course.assignment(assignment_id)
    _generate(course.root, assignment_id)
    if not assignment.release_notebook.is_file():
        raise UsageError(f"nbgrader ran but wrote no {assignment.release_notebook}")
    write_forbidden_list(course, assignment_id)
    return assignment.release_notebook


FORBIDDEN_FILE = "forbidden.json"


def write_forbidden_list(course: Course, assignment_id: str) -> Path:
    """``release/<id>/forbidden.json``: the contract's forbidden calls per function, names only (no grader
    code), for the student's advisory check (``python -m d2lcourse validate``)."""
    path = course.assignment(assignment_id).release_notebook.parent / FORBIDDEN_FILE
    data = {"assignment": assignment_id,
            "about": "Calls the contract forbids inside each function; calling one there costs all of its points. "
                     "Read by `python -m d2lcourse validate` (advisory: the grader watches the calls made).",
            "forbidden": {task: list(names) for task, names in course.assignment(assignment_id).forbidden.items()}}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _comparable(path: Path) -> dict:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return {"cells": [{k: c.get(k) for k in ("cell_type", "source", "metadata")} for c in nb["cells"]]}


def release_in_sync(course: Course, assignment_id: str) -> tuple[bool, str]:
    """Generate the release into a scratch course and compare it with the committed one."""
    assignment = course.assignment(assignment_id)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        shutil.copy(course.root / "nbgrader_config.py", scratch)
        shutil.copytree(assignment.source_notebook.parent, scratch / "source" / assignment_id)
        _generate(scratch, assignment_id, db=False)
        fresh = scratch / "release" / assignment_id / f"{assignment_id}.ipynb"
        if not assignment.release_notebook.is_file():
            return False, f"{assignment.release_notebook} is missing: run `autograder release {assignment_id}`"
        if _comparable(fresh) != _comparable(assignment.release_notebook):
            return False, (f"{assignment.release_notebook} differs from what source/ generates: "
                           f"run `autograder release {assignment_id}` and commit the result")
    return True, "in sync"

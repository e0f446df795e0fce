"""Where things are: the course root and each assignment's folders, found by looking.

One assignment id names a folder at every stage: ``source/<id>/<id>.ipynb``,
``release/<id>/<id>.ipynb``, ``autograder/<id>/`` (hidden tests) and ``solutions/<id>.py``.
Adding an assignment means adding those and nothing else.
"""
from __future__ import annotations

import ast
import importlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .errors import UsageError

ROOT_ENV = "AUTOGRADER_COURSE_ROOT"


@dataclass(frozen=True)
class Task:
    """One graded part: a contract function, its autograded notebook cell and its points."""

    name: str
    cell_id: str
    points: float


def declared_task(path: Path) -> str | None:
    """The ``TASK = "..."`` a grader file declares at top level, read without importing it."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "TASK" and isinstance(node.value, ast.Constant)):
            return str(node.value.value)
    return None


def _is_course_root(path: Path) -> bool:
    return (path / "nbgrader_config.py").is_file() and (path / "autograder").is_dir()


@dataclass(frozen=True)
class Course:
    root: Path

    @classmethod
    def find(cls, root: str | os.PathLike | None = None) -> "Course":
        """The course root: the argument, $AUTOGRADER_COURSE_ROOT, a parent of the cwd, or this checkout."""
        candidates = [Path(root)] if root else []
        if os.environ.get(ROOT_ENV):
            candidates.append(Path(os.environ[ROOT_ENV]))
        if not candidates:
            cwd = Path.cwd().resolve()
            candidates += [cwd, *cwd.parents, Path(__file__).resolve().parent.parent]
        for path in candidates:
            if _is_course_root(path):
                return cls(path.resolve())
        tried = ", ".join(str(p) for p in candidates[:3])
        raise UsageError(f"no course found (looked for nbgrader_config.py and autograder/ in {tried}); "
                         f"run from the course folder or pass --course-root / set ${ROOT_ENV}")

    def register_graders(self) -> None:
        """Make ``autograder.<id>`` import from this course's autograder/ folder (trusted side only)."""
        import autograder
        graders = str(self.root / "autograder")
        if graders not in autograder.__path__:
            autograder.__path__.append(graders)

    def assignment_ids(self) -> list[str]:
        source = self.root / "source"
        return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file()) if source.is_dir() else []

    def assignment(self, assignment_id: str) -> "Assignment":
        known = self.assignment_ids()
        if assignment_id not in known:
            raise UsageError(f"unknown assignment {assignment_id!r}; this course has: {', '.join(known) or 'none'}")
        return Assignment(assignment_id, self)


@dataclass(frozen=True)
class Assignment:
    id: str
    course: Course

    @property
    def source_notebook(self) -> Path:
        return self.course.root / "source" / self.id / f"{self.id}.ipynb"

    @property
    def release_notebook(self) -> Path:
        return self.course.root / "release" / self.id / f"{self.id}.ipynb"

    @property
    def graders_dir(self) -> Path:
        return self.course.root / "autograder" / self.id

    @property
    def solution_file(self) -> Path:
        return self.course.root / "solutions" / f"{self.id}.py"

    @cached_property
    def tasks(self) -> list[Task]:
        """Graded parts in notebook order, from the source notebook's autograded test cells."""
        nb = json.loads(self.source_notebook.read_text(encoding="utf-8"))
        tasks = []
        for cell in nb["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                cell_id = meta["grade_id"]
                name = cell_id.removeprefix("test_")
                tasks.append(Task(name, cell_id, float(meta.get("points", 0))))
        return tasks

    @cached_property
    def forbidden(self) -> dict[str, list[str]]:
        """Per contract function, the library calls that lose its points (``FORBIDDEN`` in its graders)."""
        if not (self.graders_dir / "__init__.py").is_file():
            raise UsageError(f"{self.id} has no graders: {self.graders_dir}/__init__.py is missing (it holds "
                             "FORBIDDEN; see autograder/README.md, or start from `autograder new <id>`)")
        self.course.register_graders()
        module = importlib.import_module(f"autograder.{self.id}")
        return dict(getattr(module, "FORBIDDEN", {}))

    @cached_property
    def allow_fork(self) -> bool:
        """Whether a test's worker may start processes (``ALLOW_FORK = True`` in its graders' __init__.py,
        e.g. for DataLoader workers); by default the worker's seccomp filter forbids it."""
        return bool(getattr(importlib.import_module(f"autograder.{self.id}"), "ALLOW_FORK", False))

    def missing(self) -> list[str]:
        """What this assignment lacks before it can be graded, each with how to add it (empty: nothing)."""
        out = []
        if not self.tasks:
            out.append(f"{self.source_notebook} has no autograded test cells (nbgrader `grade: true`, `points: N`, "
                       "`grade_id: test_<task>`): add one after each solution cell")
        if not self.graders_dir.is_dir():
            out.append(f"no graders: make {self.graders_dir}/ with __init__.py (FORBIDDEN = {{...}}) and one "
                       "test_<task>.py per graded part (autograder/README.md)")
        else:
            if not (self.graders_dir / "__init__.py").is_file():
                out.append(f"{self.graders_dir}/__init__.py is missing: add it, with FORBIDDEN = {{task: [calls]}} "
                           "(an empty dict when nothing is forbidden)")
            files = self.grader_files()
            out += [f"no graders for {t.name} ({t.points:g} points): add {self.graders_dir}/test_{t.name}.py with "
                    "tests marked @pytest.mark.points(n) adding up to them" for t in self.tasks if t.name not in files]
        if not self.solution_file.is_file():
            out.append(f"no reference: add {self.solution_file}, written from the contract "
                       f"(docs/contract/{self.id}.md) independently of the notebook's solution")
        if not self.release_notebook.is_file():
            out.append(f"no release: run `autograder release {self.id}` and commit {self.release_notebook}")
        return out

    def grader_files(self) -> dict[str, list[Path]]:
        """Per task, its grader files: ``test_<task>.py``, or any ``test_*.py`` declaring ``TASK = "<task>"``
        (for names that differ only by case, like ``mlp`` and ``MLP``, on case-insensitive file systems)."""
        files: dict[str, list[Path]] = {}
        for path in sorted(self.graders_dir.glob("test_*.py")):
            files.setdefault(declared_task(path) or path.stem.removeprefix("test_"), []).append(path)
        return files

    @property
    def private_modules(self) -> list[str]:
        """Module names student code must not be able to import: this assignment's graders, the references."""
        return [f"autograder.{self.id}", "solutions", f"solutions.{self.id}"]

    def load_reference(self):
        """The reference solution module, imported from ``solutions/<id>.py`` (trusted side only)."""
        spec = importlib.util.spec_from_file_location(f"solutions.{self.id}", self.solution_file)
        if spec is None or not self.solution_file.is_file():
            raise UsageError(f"no reference solution at {self.solution_file}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

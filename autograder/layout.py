"""Where things are: the course root and every place an assignment lives, in one table.

The engine (this package, ``autograder/``) holds no course content. A course is a folder with
``nbgrader_config.py`` and ``graders/``; one assignment id names a place at every stage (``PLACES``):
``source/<id>/<id>.ipynb``, ``release/<id>/<id>.ipynb``, ``graders/<id>/`` (hidden tests),
``solutions/<id>.py`` (reference), ``tests/catalogue/<id>.py``, ``tests/submissions/<id>/`` and
``docs/contract/<id>.md``. Adding an assignment means adding those and nothing else. Everything else
(the scaffold, the demo, the staff tools, the tests) asks ``Assignment`` where a thing is. (Worker-side
helpers that one assignment's graders alone build may go in ``course/gradeworker/toolbox/<id>.py``: part of
the installed course package, which the worker imports, not a place of the course folder.)
"""
from __future__ import annotations

import ast
import importlib
import json
import os
import sys
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


# Every place an assignment lives, relative to the course root ({id} is the assignment id).
PLACES: dict[str, str] = {
    "source": "source/{id}",
    "release": "release/{id}",
    "graders": "graders/{id}",
    "reference": "solutions/{id}.py",
    "catalogue": "tests/catalogue/{id}.py",
    "submissions": "tests/submissions/{id}",
    "contract": "docs/contract/{id}.md",
}
GRADERS = "graders"  # the folder of hidden graders: on the grader process's sys.path, never the worker's


def harness_files() -> dict[str, Path]:
    """The engine's own modules (this package), by their path in a course copy or bundle."""
    here = Path(__file__).resolve().parent
    return {f"autograder/{p.name}": p for p in sorted(here.glob("*.py"))}


def _is_course_root(path: Path) -> bool:
    return (path / "nbgrader_config.py").is_file() and (path / GRADERS).is_dir()


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
        raise UsageError(f"no course found (looked for nbgrader_config.py and {GRADERS}/ in {tried}); "
                         f"run from the course folder or pass --course-root / set ${ROOT_ENV}")

    @property
    def graders_root(self) -> Path:
        return self.root / GRADERS

    def import_graders(self, assignment_id: str):
        """The assignment's graders package (``graders/<id>/__init__.py``), imported as ``<id>`` in this
        (trusted) process: ``graders/`` goes on sys.path, as pytest's rootdir-relative import puts it too."""
        folder = str(self.graders_root)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        loaded = sys.modules.get(assignment_id)
        if loaded is not None and not str(getattr(loaded, "__file__", "")).startswith(folder + os.sep):
            # the same id from another course (a copy, a test's scratch course): this course's own, please
            for name in [m for m in sys.modules if m == assignment_id or m.startswith(assignment_id + ".")]:
                del sys.modules[name]
            sys.path.remove(folder)
            sys.path.insert(0, folder)
            importlib.invalidate_caches()
        return importlib.import_module(assignment_id)

    def assignment_ids(self) -> list[str]:
        """Every assignment with a source or a released notebook (a grading copy of a course, such as the
        Gradescope bundle or a Ray node, carries only the release)."""
        found = set()
        for stage in ("source", "release"):
            folder = self.root / stage
            if folder.is_dir():
                found |= {p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file()}
        return sorted(found)

    def assignment(self, assignment_id: str) -> "Assignment":
        known = self.assignment_ids()
        if assignment_id not in known:
            raise UsageError(f"unknown assignment {assignment_id!r}; this course has: {', '.join(known) or 'none'}")
        return Assignment(assignment_id, self)


@dataclass(frozen=True)
class Assignment:
    id: str
    course: Course

    def places(self) -> dict[str, Path]:
        """Every place this assignment lives (``PLACES``), as paths under the course root."""
        return {name: self.course.root / rel.format(id=self.id) for name, rel in PLACES.items()}

    def place(self, name: str) -> Path:
        return self.course.root / PLACES[name].format(id=self.id)

    @property
    def source_notebook(self) -> Path:
        return self.place("source") / f"{self.id}.ipynb"

    @property
    def release_notebook(self) -> Path:
        return self.place("release") / f"{self.id}.ipynb"

    @property
    def graders_dir(self) -> Path:
        return self.place("graders")

    @property
    def solution_file(self) -> Path:
        return self.place("reference")

    @property
    def catalogue_file(self) -> Path:
        return self.place("catalogue")

    @property
    def submissions_dir(self) -> Path:
        return self.place("submissions")

    @property
    def contract_file(self) -> Path:
        return self.place("contract")

    def grading_files(self) -> dict[str, Path]:
        """Everything grading this assignment reads from the course, by path relative to the course root:
        its graders and their pytest settings, its reference, the notebook its graded parts and points are
        read from (the release: the master notebook's solutions never leave the course) and the course
        marker. The graders' version, the Gradescope bundle and a Ray node's staged copy are all made from
        this list and ``harness_files``, so each carries this assignment's files and no other's."""
        root = self.course.root
        files = [root / "nbgrader_config.py", self.course.graders_root / "pytest.ini", self.solution_file,
                 self.parts_notebook]
        files += [p for p in sorted(self.graders_dir.rglob("*"))
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
        return {p.relative_to(root).as_posix(): p for p in files if p.is_file()}

    @property
    def parts_notebook(self) -> Path:
        """Where the graded parts and their points are read: the release (what students got: its nbgrader
        metadata is the truth, whatever a submission's says), or the source before the first release."""
        return self.release_notebook if self.release_notebook.is_file() else self.source_notebook

    @cached_property
    def tasks(self) -> list[Task]:
        """Graded parts in notebook order, from the released notebook's autograded test cells."""
        nb = json.loads(self.parts_notebook.read_text(encoding="utf-8"))
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
                             "FORBIDDEN; see graders/README.md, or start from `autograder new <id>`)")
        return dict(getattr(self.course.import_graders(self.id), "FORBIDDEN", {}))

    @cached_property
    def allow_fork(self) -> bool:
        """Whether a test's worker may start processes (``ALLOW_FORK = True`` in its graders' __init__.py,
        e.g. for DataLoader workers); by default the worker's seccomp filter forbids it."""
        return bool(getattr(self.course.import_graders(self.id), "ALLOW_FORK", False))

    @cached_property
    def device_probe_skip(self) -> set[str]:
        """Contract functions whose calls are not repeated on the meta device to find tensors left on the CPU
        (``NO_DEVICE_PROBE = {"fit", ...}`` in the graders' __init__.py; ``{"*"}``: none is)."""
        return set(getattr(self.course.import_graders(self.id), "NO_DEVICE_PROBE", ()))

    def missing(self) -> list[str]:
        """What this assignment lacks before it can be graded, each with how to add it (empty: nothing)."""
        out = []
        if not self.tasks:
            out.append(f"{self.source_notebook} has no autograded test cells (nbgrader `grade: true`, `points: N`, "
                       "`grade_id: test_<task>`): add one after each solution cell")
        if not self.graders_dir.is_dir():
            out.append(f"no graders: make {self.graders_dir}/ with __init__.py (FORBIDDEN = {{...}}) and one "
                       "test_<task>.py per graded part (graders/README.md)")
        else:
            if not (self.graders_dir / "__init__.py").is_file():
                out.append(f"{self.graders_dir}/__init__.py is missing: add it, with FORBIDDEN = {{task: [calls]}} "
                           "(an empty dict when nothing is forbidden)")
            files = self.grader_files()
            out += [f"no graders for {t.name} ({t.points:g} points): add {self.graders_dir}/test_{t.name}.py with "
                    "tests marked @pytest.mark.points(n) adding up to them" for t in self.tasks if t.name not in files]
        if not self.solution_file.is_file():
            out.append(f"no reference: add {self.solution_file}, written from the contract "
                       f"({self.contract_file.relative_to(self.course.root)}) independently of the notebook's solution")
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

    @cached_property
    def grader_text(self) -> str:
        """The source of every Python file of this assignment's graders (read for what a worker preloads)."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.graders_dir.rglob("*.py")))

    @property
    def private_modules(self) -> list[str]:
        """Module names student code must not be able to import: this assignment's graders, the references."""
        return [self.id, "solutions", f"solutions.{self.id}"]

    def load_reference(self):
        """The reference solution module, imported from ``solutions/<id>.py`` (trusted side only)."""
        spec = importlib.util.spec_from_file_location(f"solutions.{self.id}", self.solution_file)
        if spec is None or not self.solution_file.is_file():
            raise UsageError(f"no reference solution at {self.solution_file}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

"""Load a submitted notebook as data: which code to run in the worker, and nothing else.

Grading never executes demo cells (tagged ``demo``) or the notebook's public test cells: it only
needs the definitions. A notebook that cannot be read raises ``NotebookError`` with a message a
student can act on; the caller turns it into a zero-score result, never a crash.
"""
from __future__ import annotations

import ast
import errno
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import NotebookError

SKIP_TAGS = frozenset({"demo"})  # cells that only demonstrate: training runs, plots
MAX_NOTEBOOK_BYTES = 50 << 20
MAX_DEPTH = 64  # JSON nesting: Jupyter writes 6 or so; output data may nest more, never this
CELL_TYPES = ("code", "markdown", "raw")
_MAGIC = re.compile(r"^([%!].*)$")  # at column 0 only: an indented % may be a modulo


@dataclass(frozen=True)
class CodeCell:
    index: int  # 1-based position among all the notebook's cells, as a student would count them
    source: str


def _source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _strip_ipython(source: str) -> str | None:
    """Comment out line magics and shell escapes; drop cell magics (they change how a cell runs)."""
    if source.lstrip().startswith("%%"):
        return None
    return "\n".join(_MAGIC.sub(r"pass  # \1", line) for line in source.splitlines())


def nbgrader_meta(cell: dict) -> dict:
    """A cell's nbgrader metadata, or {} (a validated notebook's is always a dict)."""
    meta = cell.get("metadata")
    found = meta.get("nbgrader") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else {}


def is_graded_test_cell(cell: dict) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


def read_bytes(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The file's bytes, read without trusting its name: never through a symbolic link (O_NOFOLLOW), only
    from a regular file (not a FIFO that would block, nor a device), at most ``limit`` bytes."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise NotebookError(f"{path} does not exist: submit the notebook file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise NotebookError(f"{path.name} is a symbolic link, not a notebook file: submit the .ipynb file "
                                "itself (a link is never followed)") from None
        raise NotebookError(f"{path.name} cannot be opened ({exc.strerror}): submit the .ipynb file") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotebookError(f"{path.name} is not a regular file (a folder, pipe or device): submit the .ipynb file")
        if info.st_size > limit:
            raise NotebookError(f"{path.name} is over {limit >> 20} MB: clear the outputs (Edit > Clear Outputs of "
                                "All Cells), save and submit again")
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew while read
        raise NotebookError(f"{path.name} is over {limit >> 20} MB: clear the outputs and submit again")
    return data


def read_notebook(path: Path) -> dict:
    """The notebook as validated data (see ``check_structure``), or ``NotebookError`` saying what is wrong."""
    return parse_notebook(read_bytes(Path(path)), Path(path).name)


def parse_notebook(data: bytes, name: str) -> dict:
    if not data.strip():
        raise NotebookError(f"{name} is empty ({len(data)} bytes): the save may have failed; open the notebook in "
                            "JupyterLab, save it (Ctrl-S) and submit the saved file")
    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a text file: submit the .ipynb file JupyterLab saved") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{name} is not valid notebook JSON (line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}); the file may be truncated or edited outside Jupyter. Open it in "
                            "JupyterLab; if it will not open, restore it from File > Revert Notebook to "
                            "Checkpoint or copy your code into a fresh copy of the released notebook") from None
    except RecursionError:
        raise NotebookError(f"{name} is JSON nested far too deep to be a notebook (more than {MAX_DEPTH} levels): "
                            "submit the .ipynb file JupyterLab saved") from None
    check_structure(nb, name)
    return nb


def _depth(value: object) -> int:
    """How deeply lists and objects nest in ``value`` (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            stack += [(v, level + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number")


def check_structure(nb: object, name: str) -> None:
    """Refuse, naming the first problem, anything that is not a format-4 notebook in the parts grading reads:
    ``nbformat`` a number, ``metadata`` objects, ``cells`` a list of objects whose ``cell_type`` and ``source``
    (text, or a list of texts) are what Jupyter writes, ``tags`` a list of texts, nbgrader metadata an object."""
    def bad(what: str) -> NotebookError:
        return NotebookError(f"{name} is not a valid notebook: {what}. Open it in JupyterLab and save it, or copy "
                             "your code into a fresh copy of the released notebook, then submit again")
    if not isinstance(nb, dict):
        raise NotebookError(f"{name} is JSON but not a notebook (it is {_kind(nb)}, not an object with cells)")
    if not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{name} is JSON but not a notebook (no list of cells)")
    if _depth(nb) > MAX_DEPTH:
        raise bad(f"its JSON nests more than {MAX_DEPTH} levels deep")
    version = nb.get("nbformat")
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad(f'"nbformat" is {_kind(version)} ({json.dumps(version)[:40]}), not the number 4')
    if version < 4:
        raise NotebookError(f"{name} uses notebook format {version}; save it from JupyterLab (format 4) and "
                            "submit again")
    if not isinstance(nb.get("metadata", {}), dict):
        raise bad(f'the notebook\'s "metadata" is {_kind(nb["metadata"])}, not an object')
    for index, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict):
            raise bad(f"cell {index} is {_kind(cell)}, not an object")
        kind = cell.get("cell_type")
        if kind not in CELL_TYPES:
            raise bad(f'cell {index}\'s "cell_type" is {json.dumps(kind)[:40]}, not one of {", ".join(CELL_TYPES)}')
        source = cell.get("source", "")
        if not isinstance(source, str) and not (isinstance(source, list) and all(isinstance(s, str) for s in source)):
            wrong = next((s for s in source if not isinstance(s, str)), None) if isinstance(source, list) else source
            raise bad(f'cell {index}\'s "source" holds {_kind(wrong)} ({json.dumps(wrong)[:40]}), not text')
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict):
            raise bad(f'cell {index}\'s "metadata" is {_kind(meta)}, not an object')
        tags = meta.get("tags", [])
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise bad(f'cell {index}\'s "tags" are not a list of texts')
        if not isinstance(meta.get("nbgrader", {}), dict):
            raise bad(f'cell {index}\'s nbgrader metadata is {_kind(meta["nbgrader"])}, not an object')
        if kind == "code" and not isinstance(cell.get("outputs", []), list):
            raise bad(f'cell {index}\'s "outputs" are {_kind(cell["outputs"])}, not a list')


def code_to_run(nb: dict) -> list[CodeCell]:
    """The code cells grading runs, in order: everything but markdown, demos and public tests."""
    cells = []
    for index, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata")
        tags = set((meta.get("tags") if isinstance(meta, dict) else None) or [])
        if tags & SKIP_TAGS or is_graded_test_cell(cell):
            continue
        source = _strip_ipython(_source_text(cell))
        if source and source.strip():
            cells.append(CodeCell(index, source))
    return cells


def defined_functions(cells: list[CodeCell]) -> set[str]:
    """The names the cells define at top level (functions, classes, assignments), from their text."""
    names: set[str] = set()
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


# Names that only code reaching into the grading machinery needs: the worker's package, the profiling
# hooks the forbidden-call monitor rests on, and ways to find or rewrite live objects and frames.
_MACHINERY = frozenset({"gradeworker", "setprofile", "getprofile", "settrace", "gettrace", "get_referrers",
                        "get_referents", "get_objects", "ctypes", "_getframe"})
# Modules whose import is a sign by itself: live objects and memory (gc, ctypes), PyTorch's dispatcher
# (torch.library, torch._C), work done where the monitor cannot look (threads, forked or spawned processes).
_MODULES = frozenset({"gradeworker", "ctypes", "_ctypes", "cffi", "gc", "threading", "_thread", "multiprocessing",
                      "torch.multiprocessing", "concurrent", "subprocess", "pty", "builtins", "torch.library",
                      "torch._C", "torch._ops", "torch._dynamo", "torch._inductor"})
# Attributes that reach frames, closures and the hooks' storage, whichever object they are read from.
_REACHES = frozenset({"f_back", "f_locals", "f_globals", "f_builtins", "tb_frame", "tb_next", "gi_frame", "cr_frame",
                      "ag_frame", "__closure__", "cell_contents", "__globals__", "_current_frames", "currentframe",
                      "getouterframes", "getinnerframes", "getclosurevars", "_profile_hook", "_trace_hook",
                      "_C", "library", "__builtins__"})
_PROCESS = frozenset({"fork", "forkpty", "register_at_fork", "posix_spawn", "posix_spawnp", "system", "popen",
                      "execv", "execve", "execl", "execle", "execlp", "execvp", "execvpe", "spawnv", "spawnve",
                      "spawnl", "spawnle", "spawnlp", "spawnvp"})  # of module os: a process the monitor cannot see
_DYNAMIC_BUILTINS = frozenset({"__import__", "eval", "exec", "compile"})  # called by bare name (not net.eval())
# A name read as a string (getattr(sys, "modules")) is a reach all the same.
_REACHED_BY_STRING = (_REACHES | _PROCESS | _MACHINERY | {"modules"}) - {"system", "library", "_C"}


def tampering_signs(cells: list[CodeCell]) -> list[str]:
    """Where a submission's code reaches into the grader's machinery, read from its text in this process.

    The worker's own checks run beside the student's code and could be rewritten by it; this reading
    cannot. It names what it found: the profiling hooks, ``sys.modules`` (a way to the worker's own
    modules under a computed name), ``gc``, ``ctypes``, ``torch.library`` and ``torch._C`` (the
    dispatcher the monitor's check lives in), frames and closures, ``threading`` and ``os.fork`` /
    ``multiprocessing`` / ``subprocess`` (work done where the monitor cannot look). Dynamic imports
    and eval/exec of computed strings count too: they hide what is reached.
    """
    signs = []
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # the worker reports why it does not run
            continue
        try:
            found = _signs_in(tree)
        except RecursionError:  # an expression chained thousands deep: its reach cannot be read, so it counts
            found = {"code nested too deep to scan"}
        signs += [f"cell {cell.index} uses {name}" for name in sorted(found)]
    return signs


def _signs_in(tree: ast.AST) -> set[str]:
    aliases = _module_aliases(tree)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= _imported_signs(node)
        elif isinstance(node, ast.Name) and (node.id in _MACHINERY or node.id == "__builtins__"):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            owner = _module_of(node.value, aliases)
            if node.attr in _MACHINERY or node.attr == "monitoring":
                found.add(node.attr)
            elif node.attr in ("_C", "library") and owner == "torch":
                found.add(f"torch.{node.attr}")
            elif node.attr in _REACHES - {"_C", "library"}:
                found.add(node.attr)
            elif node.attr == "modules" and owner == "sys":
                found.add("sys.modules")
            elif node.attr in _PROCESS and owner in ("os", "posix"):
                found.add(f"os.{node.attr}")
            elif owner in _MODULES or f"{owner}.{node.attr}" in _MODULES:
                found.add(owner if owner in _MODULES else f"{owner}.{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "gradeworker" in node.value:
                found.add("gradeworker")
            elif node.value in _REACHED_BY_STRING:
                found.add(f"{node.value!r} as a string (getattr)")
        elif isinstance(node, ast.Call) and _is_dynamic(node) and not _literal_args(node):
            found.add(f"{_called_name(node)}(...) of a computed string")
    return found


def _module_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> module, from the cell's imports (``import sys as s``, ``from os import path``)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for name in ("sys", "os", "torch", "gc", "threading", "builtins"):  # imported by an earlier cell
        aliases.setdefault(name, name)
    return aliases


def _module_of(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The module an expression stands for: an alias, ``os.sys``, ``__import__("sys")``, else None."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _module_of(node.value, aliases)
        if node.attr in ("sys", "os") and owner is not None:
            return node.attr  # os.sys, importlib.sys, ...
        return f"{owner}.{node.attr}" if owner in ("torch",) and node.attr in ("multiprocessing",) else None
    if isinstance(node, ast.Call) and node.args and _is_dynamic(node):
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def _imported_signs(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        names = [base] + [f"{base}.{a.name}" for a in node.names]
        if base in ("os", "posix"):
            names += [f"os.{a.name}" for a in node.names if a.name in _PROCESS]
        if base == "sys":
            names += ["sys.modules" for a in node.names if a.name == "modules"]
    found = set()
    for name in names:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut])
            if prefix in _MODULES or prefix in _MACHINERY or prefix in ("sys.modules",) or (
                    prefix.startswith("os.") and prefix[3:] in _PROCESS):
                found.add(prefix)
                break
    return found


def _is_dynamic(node: ast.Call) -> bool:
    if isinstance(node.func, ast.Name):
        return node.func.id in _DYNAMIC_BUILTINS or node.func.id == "import_module"
    return isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"


def _called_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _literal_args(node: ast.Call) -> bool:
    return bool(node.args) and isinstance(node.args[0], ast.Constant)

"""Load a submitted notebook as data: which code to run in the worker, and nothing else.

Grading never executes demo cells (tagged ``demo``) or the notebook's public test cells: it only
needs the definitions. A notebook that cannot be read raises ``NotebookError`` with a message a
student can act on; the caller turns it into a zero-score result, never a crash.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import NotebookError

SKIP_TAGS = frozenset({"demo"})  # cells that only demonstrate: training runs, plots
MAX_NOTEBOOK_BYTES = 50 << 20
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


def is_graded_test_cell(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def read_notebook(path: Path) -> dict:
    if not path.is_file():
        raise NotebookError(f"{path} does not exist or is not a file")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is over {MAX_NOTEBOOK_BYTES >> 20} MB: clear the outputs "
                            "(Edit > Clear Outputs of All Cells), save and submit again")
    try:
        nb = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(f"{path.name} is not a text file: submit the .ipynb file JupyterLab saved") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{path.name} is not valid notebook JSON (line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}); the file may be truncated or edited outside Jupyter. Open it in "
                            "JupyterLab; if it will not open, restore it from File > Revert Notebook to "
                            "Checkpoint or copy your code into a fresh copy of the released notebook") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path.name} is JSON but not a notebook (no list of cells)")
    if nb.get("nbformat", 0) < 4:
        raise NotebookError(f"{path.name} uses notebook format {nb.get('nbformat')}; save it from JupyterLab "
                            "(format 4) and submit again")
    return nb


def code_to_run(nb: dict) -> list[CodeCell]:
    """The code cells grading runs, in order: everything but markdown, demos and public tests."""
    cells = []
    for index, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        if tags & SKIP_TAGS or is_graded_test_cell(cell):
            continue
        source = _strip_ipython(_source_text(cell))
        if source and source.strip():
            cells.append(CodeCell(index, source))
    return cells


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
        except SyntaxError:
            continue
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
        signs += [f"cell {cell.index} uses {name}" for name in sorted(found)]
    return signs


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

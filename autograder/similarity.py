"""Similar submissions across a class: normalised code and winnowing fingerprints, as MOSS does.

Every code cell of a student's notebook is read, marked solution cell or not (code pasted into a new,
unmarked cell is compared like any other). Cells are tokenised with Python's own tokenizer; comments,
docstrings and blank lines go, every identifier becomes ``V``, every string ``S`` and every number ``N``
(renaming variables or rewording comments changes nothing). Hashes of every ``K`` tokens in a row are
winnowed (the smallest hash of each window of ``W``, Schleimer, Wilkerson and Aiken 2003): two submissions
sharing a run of at least ``K + W - 1`` tokens share a fingerprint.

What everybody may share is taken out before pairs are compared: the released notebook's own code
(signatures, stubs, public tests), the textbook's code for the assignment's functions (``textbook_file``:
the d2l book's versions, so that a student who followed the book matches nobody for it), and fingerprints
that most of the class has. A pair is ranked by the amount of code it shares (its shared fingerprints), not
by a ratio: two fingerprints in common out of two is noise, fifty is a lead. Pairs sharing fewer than
``MIN_SHARED`` are not listed. Each listed pair says why it is there (``Pair.reasons``): how much is shared,
how much of each one's own code that is, where (which functions, which cells, marked or not).
"""
from __future__ import annotations

import ast
import hashlib
import io
import json
import keyword
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

K, W = 12, 8
MIN_SHARED = 15  # fingerprints (about 8 lines of code in a row, or 15 runs of 19 tokens) for a pair to be listed
COMMON = 0.5  # a fingerprint more than this share of the class has is the exercise's, not copying
SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
        tokenize.ENDMARKER}


@dataclass
class Cell:
    """One code cell's place in a notebook's joined code: lines ``first`` to ``last`` (1-based)."""

    number: int  # the cell's position among all the notebook's cells, from 1, as a TA counts them
    first: int
    last: int
    solution: bool  # an nbgrader solution cell (False: a cell the student added, or the notebook's own)
    functions: dict[int, str] = field(default_factory=dict)  # line -> the top-level def/class it belongs to


@dataclass
class Code:
    text: str
    cells: list[Cell] = field(default_factory=list)

    def cell_at(self, line: int) -> Cell | None:
        return next((c for c in self.cells if c.first <= line <= c.last), None)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _functions(text: str, offset: int) -> dict[int, str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                out[offset + line] = node.name
    return out


def notebook_code(notebook: Path) -> Code:
    """All code cells of a notebook, joined (nothing when it cannot be read), with where each cell lies."""
    try:
        cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return Code("")
    if not isinstance(cells, list):
        return Code("")
    texts: list[str] = []
    places: list[Cell] = []
    line = 1
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        text = _source(cell).rstrip("\n")
        if not text.strip():
            continue
        n = text.count("\n") + 1
        solution = bool(((cell.get("metadata") or {}).get("nbgrader") or {}).get("solution"))
        places.append(Cell(number, line, line + n - 1, solution, _functions(text, line - 1)))
        texts.append(text)
        line += n + 2  # the blank line between cells
    return Code("\n\n\n".join(texts), places)


def textbook_file(course_root: Path, assignment_id: str) -> Path:
    """The textbook's own code for an assignment's functions (optional): ``docs/textbook/<id>.py``."""
    return Path(course_root) / "docs" / "textbook" / f"{assignment_id}.py"


def normalise(code: str) -> list[tuple[str, int]]:
    """(token, line) pairs of ``code`` with names, strings and numbers made anonymous."""
    out: list[tuple[str, int]] = []
    # IPython magics and shell lines become blank lines (line numbers stay those of the code)
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in code.splitlines()]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        tokens = []
    previous = tokenize.NEWLINE
    for tok in tokens:
        if tok.type in SKIP:
            previous = tok.type if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) else previous
            continue
        if tok.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            previous = tok.type  # a docstring, or a string statement: no code
            continue
        previous = tok.type
        if tok.type == tokenize.NAME:
            text = tok.string if keyword.iskeyword(tok.string) else "V"
        elif tok.type == tokenize.STRING:
            text = "S"
        elif tok.type == tokenize.NUMBER:
            text = "N"
        else:
            text = tok.string
        out.append((text, tok.start[0]))
    return out


def fingerprints(tokens: list[tuple[str, int]]) -> dict[int, set[int]]:
    """Winnowed hashes of ``K``-token runs -> the source lines each covers."""
    grams = []
    for i in range(len(tokens) - K + 1):
        text = " ".join(t for t, _ in tokens[i:i + K])
        grams.append((int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big"), i))
    chosen: dict[int, set[int]] = {}
    for start in range(max(1, len(grams) - W + 1)):
        window = grams[start:start + W]
        if not window:
            break
        value, i = min(window, key=lambda g: (g[0], -g[1]))  # the rightmost smallest, as in the paper
        chosen.setdefault(value, set()).update(line for _, line in tokens[i:i + K])
    return chosen


def _code_fingerprints(code: Code | str) -> dict[int, set[int]]:
    """Fingerprints of a notebook's code, cell by cell (a run never spans two cells), by joined-code line."""
    code = code if isinstance(code, Code) else Code(code)
    lines = code.text.splitlines()
    parts = [(c.first - 1, "\n".join(lines[c.first - 1:c.last])) for c in code.cells] or [(0, code.text)]
    out: dict[int, set[int]] = {}
    for offset, part in parts:
        for h, covered in fingerprints(normalise(part)).items():
            out.setdefault(h, set()).update(ln + offset for ln in covered)
    return out


@dataclass
class Submission:
    student: str
    code: Code
    prints: dict[int, set[int]] = field(default_factory=dict)


@dataclass
class Pair:
    a: Submission
    b: Submission
    shared: set[int]
    similarity: float  # shared fingerprints over the smaller one's own (after what everybody may share is out)

    def lines(self, side: Submission) -> set[int]:
        return set().union(*(side.prints[h] for h in self.shared)) if self.shared else set()

    def reasons(self) -> list[str]:
        """Why the pair is listed, in words a TA can check against the code shown."""
        out = [f"{len(self.shared)} fingerprints in common (each a run of at least {K + W - 1} tokens that is "
               f"the same once names, strings and numbers are anonymised), not in the released notebook, the "
               f"textbook or code most of the class wrote",
               f"that is {len(self.shared) / max(1, len(self.a.prints)):.0%} of {self.a.student}'s own code and "
               f"{len(self.shared) / max(1, len(self.b.prints)):.0%} of {self.b.student}'s"]
        for side in (self.a, self.b):
            lines = self.lines(side)
            functions = sorted({f for c in side.code.cells for ln, f in c.functions.items() if ln in lines})
            cells = sorted({c.number for ln in lines if (c := side.code.cell_at(ln)) is not None})
            unmarked = sorted({c.number for ln in lines if (c := side.code.cell_at(ln)) is not None
                               and not c.solution})
            where = f"{len(lines)} lines of {side.student}'s"
            where += f", in {', '.join(functions)}" if functions else ""
            where += f" (cell{'s' if len(cells) > 1 else ''} {', '.join(map(str, cells))})" if cells else ""
            if unmarked:
                where += (f"; cell{'s' if len(unmarked) > 1 else ''} {', '.join(map(str, unmarked))} "
                          f"{'are' if len(unmarked) > 1 else 'is'} not a solution cell")
            out.append(where)
        return out


@dataclass
class Comparison:
    pairs: list[Pair]  # listed: at least ``min_shared`` fingerprints in common, most shared first, at most ``top``
    students: int
    compared: int  # pairs of students compared
    sharing: int  # pairs with any fingerprint in common
    above: int  # pairs at or above the minimum (more than ``top`` of them: only the first are listed)
    min_shared: int
    removed: dict[str, int]  # what everybody may share, in fingerprints: released, textbook, common


def compare(codes: Mapping[str, Code | str], template: Code | str = "", textbook: Code | str = "",
            common: float = COMMON, top: int = 10, min_shared: int = MIN_SHARED) -> Comparison:
    """The pairs that share the most code (at least ``min_shared`` fingerprints, at most ``top``), once the
    released notebook's code (``template``), the textbook's (``textbook``) and what more than ``common`` of the
    class shares are taken out."""
    released = set(_code_fingerprints(template))
    book = set(_code_fingerprints(textbook)) - released
    subs = []
    for student, code in sorted(codes.items()):
        code = code if isinstance(code, Code) else Code(code, [])
        prints = {h: ls for h, ls in _code_fingerprints(code).items() if h not in released and h not in book}
        subs.append(Submission(student, code, prints))
    counts: dict[int, int] = {}
    for sub in subs:
        for h in sub.prints:
            counts[h] = counts.get(h, 0) + 1
    frequent = {h for h, n in counts.items() if n > common * len(subs)} if len(subs) >= 4 else set()
    for sub in subs:
        sub.prints = {h: ls for h, ls in sub.prints.items() if h not in frequent}
    pairs = []
    for a, b in combinations(subs, 2):
        shared = set(a.prints) & set(b.prints)
        if shared:
            pairs.append(Pair(a, b, shared, len(shared) / max(1, min(len(a.prints), len(b.prints)))))
    pairs.sort(key=lambda p: (-len(p.shared), -p.similarity, p.a.student, p.b.student))
    listed = [p for p in pairs if len(p.shared) >= min_shared]
    return Comparison(listed[:top], len(subs), len(subs) * (len(subs) - 1) // 2, len(pairs), len(listed), min_shared,
                      {"released": len(released), "textbook": len(book), "common": len(frequent)})

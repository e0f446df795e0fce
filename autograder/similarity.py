"""Similar submissions across a class: normalised solution code and winnowing fingerprints, as MOSS does.

Each student's solution cells (nbgrader's ``solution`` cells) are tokenised with Python's own tokenizer;
comments, docstrings and blank lines go, every identifier becomes ``V``, every string ``S`` and every
number ``N`` (renaming variables or rewording comments changes nothing). Hashes of every ``K`` tokens in
a row are winnowed (the smallest hash of each window of ``W``, Schleimer, Wilkerson and Aiken 2003): two
submissions sharing a run of at least ``K + W - 1`` tokens share a fingerprint. Fingerprints of the
released notebook's own code (signatures, stubs) and those most of the class shares are ignored. A
pair's similarity is its shared fingerprints over the smaller submission's.
"""
from __future__ import annotations

import hashlib
import io
import json
import keyword
import tokenize
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

K, W = 12, 8
SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
        tokenize.ENDMARKER}


def solution_code(notebook: Path) -> str:
    """The code of a notebook's solution cells (all code cells when it has no nbgrader metadata)."""
    try:
        cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return ""
    if not isinstance(cells, list):
        return ""
    code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    marked = [c for c in code if ((c.get("metadata") or {}).get("nbgrader") or {}).get("solution")]
    texts = ["".join(c.get("source", "")) if isinstance(c.get("source"), list) else str(c.get("source", ""))
             for c in (marked or code)]
    return "\n\n".join(t for t in texts if t.strip())


def normalise(code: str) -> list[tuple[str, int]]:
    """(token, line) pairs of ``code`` with names, strings and numbers made anonymous."""
    out: list[tuple[str, int]] = []
    lines = [ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))]  # IPython magics
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


@dataclass
class Submission:
    student: str
    code: str
    prints: dict[int, set[int]] = field(default_factory=dict)


@dataclass
class Pair:
    a: Submission
    b: Submission
    shared: set[int]
    similarity: float

    def lines(self, side: Submission) -> set[int]:
        return set().union(*(side.prints[h] for h in self.shared)) if self.shared else set()


def compare(codes: dict[str, str], template: str = "", common: float = 0.5, top: int = 10,
            threshold: float = 0.3) -> list[Pair]:
    """The closest pairs (similarity >= ``threshold``, at most ``top``), most similar first."""
    ignored = set(fingerprints(normalise(template))) if template else set()
    subs = [Submission(s, c, {h: ls for h, ls in fingerprints(normalise(c)).items() if h not in ignored})
            for s, c in sorted(codes.items())]
    counts: dict[int, int] = {}
    for sub in subs:
        for h in sub.prints:
            counts[h] = counts.get(h, 0) + 1
    if len(subs) >= 4:  # code most of the class shares is the exercise's, not copying
        frequent = {h for h, n in counts.items() if n > common * len(subs)}
        for sub in subs:
            sub.prints = {h: ls for h, ls in sub.prints.items() if h not in frequent}
    pairs = []
    for a, b in combinations(subs, 2):
        shared = set(a.prints) & set(b.prints)
        smaller = min(len(a.prints), len(b.prints))
        if shared and smaller:
            pairs.append(Pair(a, b, shared, len(shared) / smaller))
    pairs.sort(key=lambda p: (-p.similarity, p.a.student, p.b.student))
    return [p for p in pairs if p.similarity >= threshold][:top]

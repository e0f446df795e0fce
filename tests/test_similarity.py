"""The similarity report leads instead of misleading: a generated hw2 class (tests/similarity_class.py) of 30
students writing their own variants and two pairs who copy, one renaming, one pasting into an unmarked cell;
and the class report on hostile student ids (tests/payloads.py). No grading: code and saved results only."""
from __future__ import annotations

import ast
import json

import pytest

from autograder.class_report import build_class_report
from autograder.cli import main
from autograder.layout import Course
from autograder.results import GradingResult, Message
from autograder.results import TestResult as Check  # not a pytest class
from autograder.similarity import compare, notebook_code, textbook_file
from helpers import ROOT, add_cell, assignment_ids, fill
from payloads import hostile_graded_folder
from similarity_class import COPY_PASTED, COPY_RENAMED, ID, notebooks

RELEASE = ROOT / "release" / ID / f"{ID}.ipynb"
COPIES = {tuple(sorted(COPY_RENAMED)), tuple(sorted(COPY_PASTED))}


@pytest.fixture(scope="module")
def generated_class(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("class")
    return {student: notebook_code(path) for student, path in notebooks(folder).items()}


def _solution_ids(assignment_id: str) -> list[str]:
    nb = json.loads((ROOT / "release" / assignment_id / f"{assignment_id}.ipynb").read_text(encoding="utf-8"))
    return [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]
            if c.get("metadata", {}).get("nbgrader", {}).get("solution")]


def _book_parts(assignment_id: str) -> tuple[dict[str, str], list[str]]:
    """The textbook file's top-level functions and classes that are the assignment's parts ({name: source}),
    and the rest of its code (the book's helpers), in the book's order."""
    text = textbook_file(ROOT, assignment_id).read_text(encoding="utf-8")
    lines = text.splitlines()
    parts, helpers, ids = {}, [], set(_solution_ids(assignment_id))
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or node is tree.body[0] and isinstance(node, ast.Expr):
            continue  # imports and the module's docstring
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        source = "\n".join(lines[first - 1:node.end_lineno]) + "\n"
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in ids:
            parts[node.name] = source
        else:
            helpers.append(source)
    return parts, helpers


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_does_every_assignment_have_a_textbook_baseline(assignment_id):
    """docs/textbook/<id>.py parses and holds the book's code for at least one of the assignment's parts."""
    parts, _ = _book_parts(assignment_id)
    assert parts, f"docs/textbook/{assignment_id}.py defines none of {_solution_ids(assignment_id)}"


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_do_two_students_who_wrote_from_the_book_not_match(assignment_id, tmp_path):
    """Two notebooks written straight from the book (every part the book has, in its solution cell; the book's
    helpers in a cell of their own at the end for one student, in the first solution cell for the other; the
    other parts left as released) are not a listed pair once the textbook is taken out; without the textbook
    baseline they share the book's code."""
    parts, helpers = _book_parts(assignment_id)
    first = next(name for name in _solution_ids(assignment_id) if name in parts)
    one = add_cell(fill(assignment_id, parts), "\n\n".join(helpers)) if helpers else fill(assignment_id, parts)
    two = fill(assignment_id, {**parts, first: "\n\n".join(helpers + [parts[first]])})
    codes = {}
    for name, nb in (("one", one), ("two", two)):
        (tmp_path / f"{name}.ipynb").write_text(json.dumps(nb))
        codes[name] = notebook_code(tmp_path / f"{name}.ipynb")
    release = notebook_code(ROOT / "release" / assignment_id / f"{assignment_id}.ipynb")
    textbook = textbook_file(ROOT, assignment_id).read_text(encoding="utf-8")
    book = compare(codes, release, textbook, min_shared=1)
    without = compare(codes, release, "", min_shared=1)
    shared = len(book.pairs[0].shared) if book.pairs else 0
    assert not compare(codes, release, textbook).pairs, book.pairs[0].reasons()
    assert without.pairs and len(without.pairs[0].shared) > shared, (shared, without.removed)


def _ranked(comparison) -> list[tuple[str, str]]:
    return [(p.a.student, p.b.student) for p in comparison.pairs]


def test_are_both_copied_pairs_listed_first_and_no_honest_pair_above_them(generated_class):
    textbook = textbook_file(ROOT, ID).read_text(encoding="utf-8")
    c = compare(generated_class, notebook_code(RELEASE), textbook)
    assert c.students == 30 and c.compared == 435
    assert set(_ranked(c)[:2]) == COPIES, [(p.a.student, p.b.student, len(p.shared)) for p in c.pairs]
    copied = min(len(p.shared) for p in c.pairs[:2])
    honest = [p for p in c.pairs if (p.a.student, p.b.student) not in COPIES]
    assert all(len(p.shared) < copied for p in honest)
    pasted = next(p for p in c.pairs if (p.a.student, p.b.student) == tuple(sorted(COPY_PASTED)))
    side = next(line for line in pasted.reasons() if line.startswith(f"{len(pasted.lines(pasted.b))} lines of "
                                                                     f"{COPY_PASTED[1]}'s"))
    assert "is not a solution cell" in side and "train_epoch" in side  # why it is listed: where the code is


def test_is_following_the_textbook_not_a_match(generated_class):
    """Without the textbook baseline, students who wrote functions from the book share as much as a copied pair."""
    without = compare(generated_class, notebook_code(RELEASE), "")
    shared = {(p.a.student, p.b.student): len(p.shared) for p in without.pairs}
    assert max(n for pair, n in shared.items() if pair not in COPIES) >= min(shared[pair] for pair in COPIES), shared
    assert without.removed["textbook"] == 0


def test_is_a_pair_ranked_by_the_amount_it_shares_and_a_tiny_one_not_listed():
    """Two fingerprints in common out of two (a 100% ratio) rank below fifty in common out of ninety, and are not
    listed at the default minimum."""
    tiny = "def f(X):\n    return (X - X.max(dim=1, keepdim=True).values).exp().sum(dim=1)\n"
    big = "\n".join(f"def g{i}(X, W, b):\n    H = torch.relu(X.reshape(len(X), -1) @ W[{i}] + b[{i}])\n"
                    f"    return H.softmax(dim={i % 2}).log().mean(dim=0) * {i}" for i in range(8))
    honest = "def h(X):\n    values = []\n    for row in X:\n        values.append(sum(v * v for v in row))\n" \
             "    return values\n"
    codes = {"ann": tiny, "ben": tiny, "cat": big + "\n" + honest, "dan": big, "eve": honest}
    everything = compare(codes, min_shared=1, common=1.0)
    assert _ranked(everything)[0] == ("cat", "dan")
    tiny_pair = next(p for p in everything.pairs if (p.a.student, p.b.student) == ("ann", "ben"))
    assert tiny_pair.similarity == 1.0 and len(tiny_pair.shared) < 15
    assert ("ann", "ben") not in _ranked(compare(codes, common=1.0))


def test_is_code_pasted_into_an_unmarked_cell_compared(tmp_path):
    from similarity_class import honest_answers
    answers = honest_answers("s03")
    stubs = fill(ID, {})
    add_cell(stubs, "\n\n".join(answers.values()))
    mine = fill(ID, answers)
    paths = {}
    for name, nb in (("paster", stubs), ("author", mine)):
        paths[name] = tmp_path / f"{name}.ipynb"
        paths[name].write_text(json.dumps(nb))
    c = compare({name: notebook_code(p) for name, p in paths.items()}, notebook_code(RELEASE))
    assert _ranked(c) == [("author", "paster")] and c.pairs[0].similarity > 0.9


def _hostile_result() -> GradingResult:
    tests = [Check("t1", "softmax", "test_softmax", "rows sum to one", 0, 2, False, 7,
                        message=Message("rows sum to one", comparison="got <img src=x onerror=alert(1)>",
                                        mistake="no max shift $\\undefinedmacro$")),
             Check("t2", "softmax", "test_softmax", "shape kept", 2, 2, True, 7)]
    return GradingResult(ID, "x.ipynb", tests=tests, notices=["cell 3 raised <script>window.__xss_n=1</script>"],
                         seconds=1.5)


def test_does_the_report_survive_hostile_student_ids(tmp_path):
    """`=HYPERLINK(...)`, `$\\undefinedmacro$` (once fatal to matplotlib), markup and escapes as student ids."""
    graded = hostile_graded_folder(tmp_path / "graded", _hostile_result(), ROOT / "tests" / "submissions" / ID
                                   / "attack_payloads.ipynb", RELEASE)
    assert main(["report", ID, str(graded), "--course-root", str(ROOT)]) == 0
    page = (graded / ID / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4
    assert "&lt;img src=x onerror=window.__xss_student_id=1&gt;" in page and "<img src=x" not in page
    assert "\x1b" not in page and "\\x1b]0;pwned" in page
    assert "6 pairs of 4 notebooks compared" in page and "Listed because" in page  # the two hostile notebooks
    assert "&lt;script&gt;window.__xss_script=1&lt;/script&gt;" in page  # their code, side by side
    assert main(["canvas", ID, str(graded), "--course-root", str(ROOT)]) == 0
    assert "\n=" not in (graded / ID / "canvas.csv").read_text(encoding="utf-8")


def test_does_the_report_page_say_what_was_compared(tmp_path):
    result = _hostile_result()
    out = tmp_path / "graded"
    from dataclasses import replace

    from autograder.writers import write_result_files
    for student, path in notebooks(tmp_path / "nbs").items():
        write_result_files(replace(result, student=student, submission=str(path), notices=[]),
                           record=out / ID / student / "result.json")
    page = build_class_report(Course.find(ROOT), ID, out)
    assert "435 pairs of 30 notebooks compared" in page and "the first\n10 are listed" in page
    first = page.index("<h3 id='pair-1'>")
    assert any(f"{a} and {b}" in page[first:first + 200] for a, b in COPIES)
    assert "A match means" in page and "It is not a\nverdict" in page
    assert "docs/textbook" not in page and "the textbook's code for this assignment's functions (" in page

"""What staff open is safe to open: the hostile hw2 example (tests/payloads.py) graded, and every output made from
it read back: the terminal, feedback.md, feedback.html, the CSVs and the autograded notebook formgrader renders.
(The same outputs in a real browser: test_browser.py.)"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from autograder.exports import write_canvas_csv
from autograder.render import feedback_html, feedback_markdown, grades_csv, terminal_summary
from autograder.results import GradingResult
from autograder.safe import clean_cell_markup, safe
from helpers import ROOT
from payloads import FAKE_SCORE, HTML, STUDENT_IDS, TERMINAL

HW2 = "hw2_softmax_regression"
ATTACK = ROOT / "tests" / "submissions" / HW2 / "attack_payloads.ipynb"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def attacked(grade) -> GradingResult:
    return grade(HW2, ATTACK)


class _Tags(HTMLParser):
    """Every element and attribute a browser would build from a page."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _no_active_markup(page: str, allowed: set[str]) -> None:
    for tag, attrs in _tags(page):
        assert tag in allowed, f"<{tag}> in the page"
        assert not [a for a in attrs if a.startswith("on")], f"<{tag} {attrs}>"
        assert not any(str(v).strip().lower().startswith("javascript:") for v in attrs.values()), attrs


# ----- safe() itself ---------------------------------------------------------------------------------
def test_are_control_characters_shown_as_escapes_wherever_the_text_goes():
    for where in ("terminal", "code", "markdown", "html", "csv", "plot", "name"):
        shown = safe(TERMINAL + "\u202e\r", where)
        assert not CONTROL.search(shown.replace("\n", "")) and "\u202e" not in shown, where
        seen = shown.replace("\\\\", "\\").replace("\\]", "]") if where == "markdown" else shown  # md's own escapes
        assert "\\x1b]52;c;" in seen and "\\u202e" in seen and "\\x0d" in seen, where
    assert safe("a\nb\tc", "terminal") == "a\nb\tc" and safe("a\nb\tc", "name") == "a\\nb\\tc"


@pytest.mark.parametrize("cell, shown", [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"),
                                         ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\\x0d=1"),
                                         ("  =1", "'  =1"), ("alice", "alice"), ("a=b", "a=b")])
def test_is_a_csv_cell_that_a_spreadsheet_would_run_made_text(cell, shown):
    assert safe(cell, "csv") == shown


def test_does_markdown_text_stay_text():
    shown = safe(HTML["img_onerror"] + HTML["md_link"] + " $x$ &amp; `c`", "markdown")
    assert "<" not in shown.replace("\\<", "") and "[" not in shown.replace("\\[", "")
    assert "\\$x\\$" in shown and "\\&amp;" in shown and "\\`c\\`" in shown


def test_is_every_payload_gone_from_a_cleaned_markdown_cell():
    cleaned = clean_cell_markup("\n\n".join(HTML.values()) + "\n> a quote, **bold**, [ok](https://d2l.ai)")
    _no_active_markup(cleaned, {"img", "details", "summary", "a", "p", "b"})
    for gone in ("<script", "<svg", "<iframe", "<object", "<style", "style=", "onerror"):
        assert gone not in cleaned.lower(), gone
    assert not re.search(r"\]\(\s*<?\s*jav", cleaned) and not re.search(r"(?<!\\)\\href", cleaned)  # links, MathJax
    assert "> a quote, **bold**, [ok](https://d2l.ai)" in cleaned  # markdown itself stays markdown


# ----- the graded hostile submission ---------------------------------------------------------------
def test_does_the_terminal_summary_hold_no_control_bytes_and_end_with_the_real_score(attacked):
    text = terminal_summary(attacked, verbose=True)
    assert not CONTROL.search(text)
    assert "\\x1b]0;pwned\\x07" in text  # shown, so the TA sees what the student tried
    lines = text.splitlines()
    assert lines[-1].startswith(f"  score {attacked.score:g} / 100")
    assert all(not line.startswith(f"  {FAKE_SCORE}") for line in lines[:-1])  # the fake line stays indented


def test_does_autograder_grade_print_no_control_bytes(tmp_path):
    """The real command, as a TA runs it (only the failing part's graders, to keep it short)."""
    env = {**os.environ, "D2L_DATA_ROOT": str(tmp_path / "no-data"), "TQDM_DISABLE": "1"}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", HW2, str(ATTACK), "-k", "cross_entropy",
                           "--device", "cpu", "--feedback", str(tmp_path / "feedback.md")],
                          cwd=ROOT, env=env, capture_output=True, timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out.decode(errors="replace")[-3000:]
    assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", out), out
    assert not re.search("[\x80-\x9f]", out.decode("utf-8"))
    lines = done.stdout.decode().splitlines()
    assert lines[-1].startswith("feedback:") and lines[-2].startswith("  score 20 / 100")  # cross_entropy's 0 of 10
    assert FAKE_SCORE in done.stdout.decode() and not any(line.startswith(f"  {FAKE_SCORE}") for line in lines)
    assert not CONTROL.search((tmp_path / "feedback.md").read_text().replace("\n", ""))


def test_does_feedback_markdown_keep_the_payloads_as_text(attacked):
    text = feedback_markdown(attacked)
    assert not CONTROL.search(text.replace("\n", ""))
    for line in text.splitlines():
        if line.startswith("    "):
            continue  # an indented code block: shown as it is, never markup
        assert not re.search(r"(?<!\\)[<\[]", line.replace("**", "")
                             .replace("[float32]", "").replace("[float64]", "")), line
    notes = [line for line in text.splitlines() if line.startswith(">")]
    assert any("\\<script\\>" in line for line in notes) and any("score 100 / 100" in line for line in notes)


def test_does_the_feedback_page_show_the_payloads_as_text(attacked):
    page = feedback_html(attacked)
    _no_active_markup(page, {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "strong", "code",
                             "ul", "li", "span", "pre", "figure", "img", "figcaption"})
    assert "&lt;script&gt;window.__xss_script=1&lt;/script&gt;" in page
    assert not CONTROL.search(page.replace("\n", "")) and "\\x1b[2K" in page
    assert "Content-Security-Policy" in page


def test_are_student_ids_in_the_csvs_never_formulas(attacked):
    results = [GradingResult(HW2, "x.ipynb", student=s, tests=attacked.tests) for s in STUDENT_IDS.values()]
    rows = list(csv.reader(io.StringIO(grades_csv(results))))[1:]
    assert [r[0] for r in rows][0] == "'" + STUDENT_IDS["formula"]
    assert all(not r[0].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows)
    assert not CONTROL.search("".join(r[0] for r in rows))


def test_is_the_canvas_csv_made_of_text_cells(tmp_path):
    results = [GradingResult(HW2, "x.ipynb", student=s) for s in STUDENT_IDS.values()]
    roster = [{"Student": "=cmd|' /C calc'!A0", "ID": "@SUM(1+1)", "SIS User ID": "-1+1", "SIS Login ID": s,
               "Section": "+A"} for s in STUDENT_IDS.values()]
    for rows in (None, roster):
        write_canvas_csv(tmp_path / "canvas.csv", results, "HW2", rows)
        cells = [c for row in list(csv.reader((tmp_path / "canvas.csv").open()))[2:] for c in row]
        assert cells and all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells


def test_does_the_autograded_notebook_for_formgrader_carry_nothing_active(attacked, tmp_path):
    import nbformat

    from autograder.gradebook import annotate, for_formgrader
    before = hashlib.sha256(ATTACK.read_bytes()).hexdigest()
    nb = nbformat.read(str(ATTACK), as_version=4)
    release = ROOT / "release" / HW2 / f"{HW2}.ipynb"
    released = {c.source for c in nbformat.read(str(release), as_version=4).cells}
    for_formgrader(annotate(nb, attacked), release)
    assert hashlib.sha256(ATTACK.read_bytes()).hexdigest() == before  # the student's own file: only read
    assert set(nb.metadata) <= {"kernelspec", "language_info"}
    for cell in nb.cells:
        assert "attachments" not in cell and set(cell.metadata) <= {"nbgrader", "tags", "deletable", "editable"}
        if cell.cell_type in ("markdown", "raw") and cell.source not in released:
            _no_active_markup(cell.source, {"img", "details", "summary", "a", "p", "b", "h2"})
            assert "<script" not in cell.source and not re.search(r"\]\(\s*<?\s*jav", cell.source)
        if cell.cell_type == "code":
            for output in cell.outputs:
                assert output.output_type == "stream" or set(output.data) == {"text/plain"}, output
                assert not CONTROL.search(str(output.get("text", "")).replace("\n", ""))
    shown = "".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "cross_entropy raised RuntimeError" in shown


@pytest.mark.parametrize("student", STUDENT_IDS.values())
def test_is_a_student_id_formgrader_would_run_refused_by_the_gradebook(student):
    """nbgrader's formgrader writes student ids into its pages unescaped: such an id never reaches the gradebook,
    with a message that names it harmlessly and says what to do."""
    from autograder.errors import UsageError
    from autograder.gradebook import plain_student_id, record
    assert not plain_student_id(student) and plain_student_id("jane.doe-2@uni.edu")
    with pytest.raises(UsageError, match="rename that student's folder") as refused:
        record(None, HW2, student, ATTACK, GradingResult(HW2, "x.ipynb"))  # refused before anything is opened
    assert not CONTROL.search(str(refused.value))

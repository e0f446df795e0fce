"""What a student who wants to reach the TA plants in a submission: the payload corpus and the hostile notebooks.

Every HTML payload, if it ever ran, would set ``window.__xss_<name>``; the browser tests read those flags
(``FLAG_PREFIX``) on every page a TA opens. The terminal payload clears the line, sets the window title, writes
the clipboard (OSC 52), prints a fake score line and hides what follows. ``STUDENT_IDS`` are student ids
(nbgrader's exchange takes them from the student's side) aimed at spreadsheets, matplotlib and pages.
"""
from __future__ import annotations

import base64
from pathlib import Path

from helpers import add_cell, fill, solution_cells

FLAG_PREFIX = "__xss_"

HTML = {
    "script": "<script>window.__xss_script=1</script>",
    "img_onerror": "<img src=x onerror=\"window.__xss_img_onerror=1\">",
    "svg_onload": "<svg onload=\"window.__xss_svg_onload=1\"><circle r=\"4\"/></svg>",
    "svg_script": "<svg><script>window.__xss_svg_script=1</script></svg>",
    "details": "<details open ontoggle=\"window.__xss_details=1\"><summary>s</summary>d</details>",
    "iframe": "<iframe srcdoc=\"<script>parent.__xss_iframe=1</script>\"></iframe>",
    "object": "<object data=\"javascript:window.__xss_object=1\"></object>",
    "link": "<a href=\"javascript:window.__xss_link=1\" id=\"xss-link\">open the rubric</a>",
    "md_link": "[open the rubric](javascript:window.__xss_md_link=1)",
    "md_entity_link": "[rubric](jav&#x61;script:window.__xss_md_entity_link=1)",
    "css": "<style>body{--xss-css:1}</style><p style=\"--xss-inline:1\">styled</p>",
    "attr_breakout": "\"><img src=x onerror=\"window.__xss_attr_breakout=1\">",
    "pre_breakout": "</pre></code></textarea><script>window.__xss_pre_breakout=1</script>",
    "comment": "<!--<img src=\"--><img src=x onerror=window.__xss_comment=1//\">",
    "broken": "<img src=x onerror=window.__xss_broken=1 <b",
    "mxss": "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss_mxss=1></style></mglyph>"
            "</table></mtext></math>",
    "mathjax": "$\\href{javascript:window.__xss_mathjax=1}{rubric}$",
}
ALL_HTML = "\n\n".join(HTML.values())

TERMINAL = "\x1b[2K\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\nscore 100 / 100\x1b[8m"
FAKE_SCORE = "score 100 / 100"

STUDENT_IDS = {
    "formula": '=HYPERLINK("http:evil.example","claim")',
    "mathtext": "stu$\\undefinedmacro$",
    "markup": "<img src=x onerror=window.__xss_student_id=1>",
    "terminal": "stu\x1b]0;pwned\x07\x1b[8m",
}

# A payload an exception message carries: the terminal's and the pages' (shortened: notes are cut at 400 chars)
RAISE_TERMINAL = f"raise RuntimeError({TERMINAL!r})"
_EXCEPTION_HTML = HTML["script"] + HTML["img_onerror"] + HTML["attr_breakout"] + HTML["pre_breakout"]
RAISE_HTML = f"raise RuntimeError({_EXCEPTION_HTML!r})"

_SVG_ATTACHMENT = base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg' onload='window.__xss_attachment=1'>"
                                   b"<script>window.__xss_attachment=1</script></svg>").decode("ascii")


def markdown_cell(source: str, attachments: dict | None = None) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source.splitlines(keepends=True),
            **({"attachments": attachments} if attachments else {})}


def hostile_notebook(assignment_id: str, after_grade_id: str, raising_task: str, signature: str) -> dict:
    """The assignment solved, plus every payload where a student can put one: a markdown cell (with an SVG
    attachment), a raw cell, a load cell raising with the terminal's payload, one raising with HTML, a
    solution function (``raising_task``, its ``signature``) whose checks fail with an HTML message, its code's
    comments and strings, an output with HTML and JavaScript left in, and notebook metadata (widget state)."""
    answers = solution_cells(assignment_id)
    answers[raising_task] = (f"{signature}\n    # {HTML['script']} {HTML['img_onerror']}\n"
                             f"    {RAISE_HTML}\n")
    nb = fill(assignment_id, answers)
    add_cell(nb, RAISE_TERMINAL, after_grade_id=after_grade_id)
    add_cell(nb, RAISE_HTML, after_grade_id=after_grade_id)
    add_cell(nb, f"note = {ALL_HTML!r}  # {HTML['script']}", after_grade_id=after_grade_id)
    index = next(i for i, c in enumerate(nb["cells"])
                 if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == after_grade_id) + 1
    nb["cells"][index]["outputs"] = [
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": HTML["script"] + HTML["img_onerror"],
                  "application/javascript": "window.__xss_output_js=1", "text/plain": "x"}},
        {"output_type": "stream", "name": "stdout", "text": TERMINAL}]
    nb["cells"].insert(index, markdown_cell(f"## My notes\n\n{ALL_HTML}\n\n![diagram](attachment:diagram.svg)\n",
                                            {"diagram.svg": {"image/svg+xml": _SVG_ATTACHMENT}}))
    nb["cells"].insert(index, {"cell_type": "raw", "metadata": {"raw_mimetype": "text/html"},
                               "source": ALL_HTML.splitlines(keepends=True)})
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0}}
    return nb


def hostile_graded_folder(out: Path, result, notebook: Path, release: Path) -> Path:
    """A batch's output folder (``out/<id>/<student>/``) holding ``result`` once per hostile student id: what
    ``autograder report`` and ``canvas`` read. The markup and formula ids both handed in the hostile notebook
    (a pair the similarity report lists, ids and code on the page), the others the released one."""
    from dataclasses import replace

    from autograder.writers import write_result_files
    for key, student in STUDENT_IDS.items():
        folder = out / result.assignment / student
        folder.mkdir(parents=True, exist_ok=True)
        copy = folder / notebook.name
        copy.write_bytes((notebook if key in ("markup", "formula") else release).read_bytes())
        write_result_files(replace(result, student=student, submission=str(copy)), feedback=folder / "feedback.md",
                           record=folder / "result.json")
    return out

"""What people read about a graded submission, made from its result: every renderer in one place.

- ``feedback_markdown`` and ``feedback_html``: the student's feedback (``feedback.md`` and the same as one
  self-contained page, ``feedback.html``, with the attachments embedded, so that a TA can mail or upload it);
- ``gradescope_results``: Gradescope's ``results.json``, what the student may see and nothing instructor-only;
- ``terminal_summary``: the TA's compact view in the terminal (with instructor detail on request);
- ``grades_csv``: the gradebook, one row per student, for an LMS import.

Checks of one graded part that failed with the very same message (a function not written yet fails
all eight of its checks alike) are shown once, naming every check. A problem with the notebook as a whole
(it cannot be read, it is another assignment's) is said once, not once per part. What a student reads
names no staff command and no replay seed: those are in ``result.json`` and ``autograder grade -v``.
Nothing here writes a file (``writers.py`` does) or decides a score (``results.py`` holds the data).

Every text that may hold the student's own (notes on loading, failure messages quoting values and exceptions,
the student id, the submission's path) goes through ``safe.safe`` for where it goes: markdown-escaped in running
markdown, control characters escaped in code blocks, Gradescope's text and the terminal, formula-proofed in
CSV; the HTML page is a jinja2 template with autoescape (``safe.page``), never escaped by hand.
"""
from __future__ import annotations

import base64
import csv
import io
from functools import partial

from markupsafe import Markup

from .results import GradingResult, Message, TestResult
from .safe import page, safe

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}

STYLE = """body{font-family:system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222}
h2 code{font-size:1em}.pass{color:#176317}.fail{color:#a31515}pre{background:#f6f6f6;padding:.6em;
white-space:pre-wrap;border-left:3px solid #a31515}.note{background:#fff7d6;padding:.5em}
.staff{color:#777;font-size:.85em}img{max-width:100%}"""


# ----- grouping, shared by the markdown and the HTML feedback --------------------------------------
def failure_groups(tests: list[TestResult]) -> list[list[TestResult]]:
    """Tests in order; failed ones that name the same mistake, or have the same result and advice, merged into
    one group (at the first one's place)."""
    groups: list[list[TestResult]] = []
    by_text: dict[str, list[TestResult]] = {}
    for t in tests:
        if t.passed or t.message is None:
            groups.append([t])
            continue
        m = t.message  # the same named mistake, or the same outcome and advice (the claims differ, and are listed)
        key = repr(("mistake", m.mistake)) if m.mistake else repr((m.comparison, m.hint)) if m.comparison else ""
        key = key or m.render()
        if key in by_text:
            by_text[key].append(t)
        else:
            by_text[key] = [t]
            groups.append(by_text[key])
    return groups


def group_label(group: list[TestResult]) -> str:
    return "the same failure" if len({t.message.comparison for t in group if t.message}) == 1 else "the same mistake"


def group_output(group: list[TestResult]) -> str:
    """One failure's text for checks that failed alike: the shared outcome once (or the first check's, as an
    example, when only the named mistake is shared)."""
    if len(group) == 1:
        return group[0].student_output()
    first = group[0].message or Message("")

    def same(attr: str) -> bool:
        return all(t.message is not None and getattr(t.message, attr) == getattr(first, attr) for t in group)
    if same("comparison"):
        text = Message("", first.inputs if same("inputs") else "", first.comparison, first.hint, first.mistake).render()
    else:
        example = Message(first.checked, first.inputs, first.comparison).render()
        hints = "; ".join(dict.fromkeys(t.message.hint for t in group if t.message and t.message.hint))
        text = f"For example, the first of them:\n{example}\n" + Message("", hint=hints, mistake=first.mistake).render()
    return text


def notebook_problem(result: GradingResult) -> str | None:
    """The one message every check of every part failed with (the notebook could not be read ...), or None."""
    tasks = {t.task for t in result.tests}
    texts = {t.student_output() for t in result.tests if not t.passed}
    if len(tasks) > 1 and len(texts) == 1 and not any(t.passed for t in result.tests):
        return texts.pop()
    return None


NOT_GRADED = "not graded: see the problem with the whole notebook above"


def _by_task(result: GradingResult) -> dict[str, list[TestResult]]:
    by_task: dict[str, list[TestResult]] = {}
    for t in result.tests:
        by_task.setdefault(t.task, []).append(t)
    return by_task


# ----- the student's feedback ------------------------------------------------------------------------
def feedback_markdown(result: GradingResult) -> str:
    """The student's feedback: markdown, grouped by graded part, failures explained; checks of one part
    that failed with the same message are shown once, with every check's name."""
    md = partial(safe, where="markdown")
    lines = [f"# Feedback: {result.assignment}", ""]
    lines += [f"> **{md(result.data_notice)}**", ""] if result.data_notice else []
    lines += [f"**Score: {result.final_score:g} / {result.max_score:g}**", ""]
    lines += [f"> Late: {md(result.late_text())}", ""] if result.late_penalty else []
    problem = notebook_problem(result)
    notices = [n for n in result.student_notices() if not (problem and n in problem)]  # said once, below
    for notice in notices:  # markdown-escaped, every line of it inside the quote
        lines += [f"> {line}" for line in md(notice).splitlines() or [""]] + [">"]
    if notices:
        lines.append("")
    lines += [f"![{name}]({name})\n" for name in sorted(result.attachments)
              if name.endswith((".png", ".svg", ".jpg")) and _plain_file_name(name)]
    if problem:
        lines += ["**Your notebook as a whole:**", "", *[f"    {line}" for line in safe(problem, "code").splitlines()],
                  ""]
    for task, tests in _by_task(result).items():
        got, most = sum(t.points for t in tests), sum(t.max_points for t in tests)
        lines += [f"## `{task}`: {got:g} / {most:g}", ""]
        if problem:
            lines += [f"- {NOT_GRADED}", ""]
            continue
        for group in failure_groups(tests):
            t = group[0]
            if len(group) == 1:
                lines.append(f"- **{'PASS' if t.passed else 'FAIL'}** {t.name} ({t.points:g}/{t.max_points:g})")
            else:
                lines.append(f"- **FAIL** {len(group)} checks, {group_label(group)} "
                             f"({sum(g.points for g in group):g}/{sum(g.max_points for g in group):g}):")
                lines += [f"    - {g.name} ({g.points:g}/{g.max_points:g})" for g in group]
            if not t.passed:
                lines += ["", *[f"    {line}" for line in safe(group_output(group), "code").splitlines()], ""]
        lines.append("")
    lines.append(f"_Graded on {result.device}._")
    return "\n".join(lines) + "\n"


def _plain_file_name(name: str) -> bool:
    """An attachment name a markdown image link can hold as it is (the graders name them; this makes sure)."""
    return all(c.isalnum() or c in "._-" for c in name)


def data_uri(name: str, data: bytes) -> str | None:
    for suffix, mime in IMAGE_TYPES.items():
        if name.lower().endswith(suffix):
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return None


FEEDBACK_PAGE = """<!doctype html><html><head><meta charset='utf-8'>
<meta http-equiv='Content-Security-Policy' content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>Feedback: {{ r.assignment }}</title><style>{{ style }}</style></head><body>
<h1>Feedback: {{ r.assignment }}</h1>
{% if r.data_notice %}<p class='note'><strong>{{ r.data_notice }}</strong></p>{% endif %}
<p><strong>Score: {{ '%g' % r.final_score }} / {{ '%g' % r.max_score }}</strong></p>
{% if r.late_penalty %}<p class='note'>Late: {{ r.late_text() }}</p>{% endif %}
{% for n in notices %}<p class='note'>{{ n }}</p>
{% endfor %}
{% for name, uri in figures %}<figure><img src='{{ uri }}' alt='{{ name }}'><figcaption>{{ name }}</figcaption></figure>
{% endfor %}
{% if problem %}<p><strong>Your notebook as a whole:</strong></p><pre>{{ problem }}</pre>{% endif %}
{% for task, got, most, groups in parts %}
<h2><code>{{ task }}</code>: {{ '%g' % got }} / {{ '%g' % most }}</h2><ul>
{% if problem %}<li>{{ not_graded }}</li>{% endif %}
{% for g in groups %}
{% if g.passed %}<li><span class='pass'>PASS</span> {{ g.name }} {{ g.points }}</li>
{% else %}<li><span class='fail'>FAIL</span>
{% if g.names|length == 1 %}{{ g.name }}{% else %}{{ g.names|length }} checks, {{ g.label }}:<ul>
{% for name in g.names %}<li>{{ name }}</li>{% endfor %}</ul>{% endif %} {{ g.points }}
<pre>{{ g.output }}</pre></li>
{% endif %}
{% endfor %}
</ul>
{% endfor %}
<p class='staff'>Graded on {{ r.device }}.</p>
</body></html>
"""


def feedback_html(result: GradingResult) -> str:
    """The same feedback as ``feedback_markdown``, as one self-contained HTML page: a jinja2 template with
    autoescape (``safe.page``), so no text of the student's becomes markup, and a Content-Security-Policy that
    lets the page run nothing and fetch nothing (its images are data URIs) should anything ever slip through."""
    problem = notebook_problem(result)
    figures = [(name, uri) for name in sorted(result.attachments)
               if (uri := data_uri(name, result.attachments[name])) is not None]
    parts = []
    for task, tests in _by_task(result).items():
        groups = [] if problem else [
            {"passed": group[0].passed, "name": group[0].name, "names": [g.name for g in group],
             "label": group_label(group), "output": "" if group[0].passed else group_output(group),
             "points": f"({sum(g.points for g in group):g}/{sum(g.max_points for g in group):g})"}
            for group in failure_groups(tests)]
        parts.append((task, sum(t.points for t in tests), sum(t.max_points for t in tests), groups))
    notices = [n for n in result.student_notices() if not (problem and n in problem)]
    return page(FEEDBACK_PAGE, r=result, style=Markup(STYLE), figures=figures, parts=parts, notices=notices,
                problem=problem, not_graded=NOT_GRADED)


# ----- Gradescope --------------------------------------------------------------------------------------
def summary_text(result: GradingResult) -> str:
    """The submission's score in a line, with its late penalty and notes: Gradescope's top-level output."""
    lines = [f"{result.assignment}: {result.final_score:g} / {result.max_score:g} points"]
    lines += [result.data_notice] if result.data_notice else []
    lines += [f"Late: {result.late_text()}"] if result.late_penalty else []
    problem = notebook_problem(result)
    lines += [f"Note: {n}" for n in result.student_notices() if not (problem and n in problem)]
    if problem:
        lines += ["Your notebook as a whole:", problem]
    return safe("\n".join(lines), "code")  # Gradescope shows it as text: no control characters


def gradescope_results(result: GradingResult, per_check: bool = False) -> dict:
    """Gradescope's results.json: what the student may see, nothing instructor-only. One row per graded part
    (as Gradescope and Otter users expect), its checks listed in the row's output; ``per_check``: a row per check."""
    return {
        "score": result.final_score,
        "execution_time": round(result.seconds, 2),
        "output": summary_text(result),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": _check_rows(result) if per_check else _part_rows(result),
        "extra_data": {"assignment": result.assignment, "seed": result.seed, "device": result.device,
                       "protections": result.protections,
                       **({"late": {"submitted": result.submitted, "due": result.due, "days_late": result.days_late,
                                    "penalty": result.late_penalty, "checks_score": result.score}}
                          if result.due else {})},
        **({"leaderboard": result.leaderboard} if result.leaderboard else {}),
    }


def _check_rows(result: GradingResult) -> list[dict]:
    return [{"name": f"{t.task}: {t.name}", "number": str(i), "score": t.points, "max_score": t.max_points,
             "status": "passed" if t.passed else "failed", "output": safe(t.student_output(), "code"), "tags": [t.task],
             "visibility": "visible"} for i, t in enumerate(result.tests, start=1)]


def part_output(tests: list[TestResult]) -> str:
    """A graded part's checks, one line each, then each failure (checks that failed alike, once)."""
    lines = [f"[{'PASS' if t.passed else 'FAIL'}] {t.name} ({t.points:g}/{t.max_points:g})" for t in tests]
    for group in failure_groups(tests):
        if not group[0].passed:
            names = ", ".join(t.name for t in group)
            lines += ["", f"{names}:" if len(group) > 1 else f"{group[0].name}:", group_output(group)]
    return "\n".join(lines)


def _part_rows(result: GradingResult) -> list[dict]:
    problem = notebook_problem(result)
    rows = []
    for i, (task, tests) in enumerate(_by_task(result).items(), start=1):
        rows.append({"name": task, "number": str(i), "score": round(sum(t.points for t in tests), 4),
                     "max_score": round(sum(t.max_points for t in tests), 4),
                     "status": "passed" if all(t.passed for t in tests) else "failed",
                     "output": NOT_GRADED.replace("above", "at the top") if problem
                     else safe(part_output(tests), "code"),
                     "tags": [task], "visibility": "visible"})
    return rows


# ----- staff --------------------------------------------------------------------------------------------
def terminal_summary(result: GradingResult, verbose: bool = False) -> str:
    """A compact summary for the TA's terminal. Every line that may hold the student's text is indented under
    its check or note, its control characters escaped (``safe``): no escape sequence reaches the terminal, and
    no line of the student's can pass for the score line, which is always the last."""
    term = partial(safe, where="terminal")
    lines = [f"{result.assignment} - {safe(result.submission, 'name')}"]
    lines += [f"  {term(result.data_notice)}"] if result.data_notice else []
    for n in result.notices:
        first, *rest = term(n).splitlines() or [""]
        lines += [f"  note: {first}", *(f"        {line}" for line in rest)]
    for t in result.tests:
        mark = "ok  " if t.passed else ("ERR " if t.harness_error else "FAIL")
        lines.append(f"  {mark} {t.points:>5g}/{t.max_points:<4g} {t.task}: {term(t.name)}")
        if not t.passed:
            body = (t.staff_output() if verbose else t.student_output()) + (
                f"\n[instructor] {t.detail}" if verbose and t.detail else "")
            lines += [f"              {line}" for line in term(body).splitlines()]
    lines.append(f"  score {result.score:g} / {result.max_score:g}   ({result.seconds:.1f} s, {result.device}, "
                 f"seed {result.seed})")
    return "\n".join(lines)


NO_GRADE = "not graded"  # a part's column in the CSVs while the harness could not grade it


def final_cell(result: GradingResult) -> str:
    """The final score as an LMS column gets it: empty (no grade, never a 0) while a part is not graded."""
    return "" if result.not_graded else f"{result.final_score:g}"


def grades_csv(results: list[GradingResult]) -> str:
    """One row per student and assignment, one column per graded cell: for an LMS import. ``score`` is the final
    score (a grader's manual grades in the gradebook win over the checks), after any late penalty, and empty
    while a part the harness could not grade has no manual grade ("not graded" in its column). When the
    assignment has a due date, ``late_penalty`` and ``submitted`` columns follow."""
    cells: list[str] = []
    for r in results:
        cells += [c for c in r.task_scores() if c not in cells]
    late = any(r.due for r in results)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "assignment", "score", "max_score", *cells,
                     *(["late_penalty", "submitted"] if late else [])])
    for r in results:
        scores, missing = r.task_scores(), set(r.not_graded)
        writer.writerow([safe(r.student, "csv"), r.assignment, final_cell(r), f"{r.max_score:g}",
                         *(NO_GRADE if c in missing else f"{scores.get(c, (0, 0))[0]:g}" for c in cells),
                         *([f"{r.late_penalty:g}", safe(r.submitted, "csv")] if late else [])])
    return out.getvalue()


NOT_GRADED_NOTE = ("NOT GRADED: {parts} could not be graded (an internal error of the autograder, not your "
                   "doing). The score leaves {them} out until the course staff regrade this submission.")


def not_graded(data: dict, result) -> dict:
    """Gradescope's results.json (``render.gradescope_results``) with every row of a part the harness could not
    grade stripped of its score and status, and said so at the top (see the module's docstring)."""
    parts = sorted({t.task for t in result.tests if t.harness_error and t.cell_id in result.not_graded})
    if not parts:
        return data
    for row in data.get("tests", []):
        if set(row.get("tags", [])) & set(parts):
            for key in ("score", "max_score", "status"):
                row.pop(key, None)
            row["output"] = "NOT GRADED (internal error; staff will regrade)\n" + row.get("output", "")
            row["extra_data"] = {**row.get("extra_data", {}), "not_graded": True}
    note = NOT_GRADED_NOTE.format(parts=", ".join(parts), them="it" if len(parts) == 1 else "them")
    data["output"] = note + "\n" + data.get("output", "")
    data["extra_data"] = {**data.get("extra_data", {}), "not_graded": parts}
    return data

"""``autograder report <id> GRADED_DIR``: one HTML page for the instructor about a graded class.

Plots (matplotlib, Agg, embedded as PNG data URIs, so the page is one file): the grade distribution,
each graded check's pass rate, the most common named mistakes, and the grading time per submission;
then the protections in force, and the closest pairs of submissions by code similarity
(``similarity.py``) with their shared lines side by side.
"""
from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path

from .exports import load_graded
from .layout import Course
from .results import GradingResult
from .similarity import Pair, compare, solution_code

e = html.escape
STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}img{max-width:100%}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}
pre{margin:0;font-size:.8em;white-space:pre-wrap}
.shared{background:#ffe08a}.code{width:50%}"""


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return f"<img src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}'>"


def _barh(labels: list[str], values: list[float], xlabel: str, title: str) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(labels) + 1.2))
    ax.barh(range(len(labels)), values, color="#4c72b0")
    ax.set_yticks(range(len(labels)), [lb if len(lb) <= 70 else lb[:67] + "..." for lb in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _png(fig)


def grade_plot(results: list[GradingResult]) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3))
    most = max((r.max_score for r in results), default=100)
    ax.hist([r.final_score for r in results], bins=20, range=(0, most), color="#4c72b0", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("students")
    ax.set_title(f"Grade distribution ({len(results)} submissions)")
    return _png(fig)


def pass_rates(results: list[GradingResult]) -> list[tuple[str, float, int]]:
    """(check, share of submissions passing it, how many were graded on it), in the graders' order."""
    seen: dict[str, list[bool]] = {}
    for r in results:
        for t in r.tests:
            if not t.harness_error:
                seen.setdefault(f"{t.task}: {t.name}", []).append(t.passed)
    return [(name, sum(v) / len(v), len(v)) for name, v in seen.items()]


def mistakes(results: list[GradingResult]) -> list[tuple[str, int]]:
    """Named mistakes and how many submissions made them (once per submission and part)."""
    counts: Counter[str] = Counter()
    for r in results:
        counts.update({f"{t.task}: {t.message.mistake}" for t in r.tests if t.message and t.message.mistake})
    return counts.most_common(20)


def protections(results: list[GradingResult]) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter(p for r in results for p in set(r.protections))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _table(headers: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _side(code: str, shared: set[int]) -> str:
    rows = [f"<span class='shared'>{e(line)}</span>" if i in shared else e(line)
            for i, line in enumerate(code.splitlines(), start=1)]
    return "<pre>" + "\n".join(rows) + "</pre>"


def similarity_html(pairs: list[Pair], skipped: list[str]) -> str:
    out = ["<h2>Similar submissions</h2>",
           "<p>Solution cells normalised (names, strings, numbers anonymised; comments dropped), winnowed "
           "fingerprints; the released notebook's code and code most of the class shares are ignored. Similarity = "
           "shared fingerprints / the smaller submission's. Highlighted: lines in shared runs. A lead to read, "
           "not a verdict.</p>"]
    if skipped:
        out.append(f"<p>Not compared (notebook not found): {e(', '.join(skipped))}</p>")
    if not pairs:
        return "\n".join(out + ["<p>No pair above the threshold.</p>"])
    out.append("<table><tr><th>pair</th><th>similarity</th><th>shared fingerprints</th></tr>")
    out += [f"<tr><td>{e(p.a.student)} / {e(p.b.student)}</td><td>{p.similarity:.0%}</td><td>{len(p.shared)}</td></tr>"
            for p in pairs]
    out.append("</table>")
    for p in pairs:
        out.append(f"<h3>{e(p.a.student)} and {e(p.b.student)}: {p.similarity:.0%}</h3><table><tr>"
                   f"<th class='code'>{e(p.a.student)}</th><th class='code'>{e(p.b.student)}</th></tr><tr>"
                   f"<td>{_side(p.a.code, p.lines(p.a))}</td><td>{_side(p.b.code, p.lines(p.b))}</td></tr></table>")
    return "\n".join(out)


def build_report(course: Course, assignment_id: str, graded: Path, top: int = 10, threshold: float = 0.3) -> str:
    results = load_graded(graded, assignment_id)
    codes, skipped = {}, []
    for r in results:
        path = Path(r.submission)
        if path.is_file():
            codes[r.student] = solution_code(path)
        else:
            skipped.append(r.student)
    template = solution_code(course.assignment(assignment_id).release_notebook)
    pairs = compare(codes, template, top=top, threshold=threshold)
    rates = pass_rates(results)
    named = mistakes(results)
    timed = sorted(results, key=lambda r: -r.seconds)
    scores = sorted(r.final_score for r in results)
    median = scores[len(scores) // 2] if scores else 0
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(assignment_id)}: class report</title>",
             f"<style>{STYLE}</style></head><body><h1>{e(assignment_id)}: class report</h1>",
             f"<p>{len(results)} graded submissions; median score {median:g}; "
             f"{sum(1 for r in results if r.harness_errors)} with harness errors; "
             f"{sum(1 for r in results if r.late_penalty)} late.</p>",
             *sorted({f"<p class='note'><strong>{e(r.data_notice)}</strong> "
                      f"({sum(1 for s in results if s.data_notice == r.data_notice)} submissions)</p>"
                      for r in results if r.data_notice}),
             "<h2>Grade distribution</h2>", grade_plot(results) if results else "<p>No results.</p>",
             "<h2>Pass rate of every graded check</h2>",
             _barh([n for n, _, _ in rates], [100 * v for _, v, _ in rates], "% of submissions passing",
                   "Pass rate per check") if rates else "",
             "<h2>Most common named mistakes</h2>",
             (_barh([n for n, _ in named], [c for _, c in named], "submissions", "Named mistakes")
              + _table(["mistake", "submissions"], named) if named else "<p>No named mistake was made.</p>"),
             "<h2>Grading time per submission</h2>",
             _barh([r.student for r in timed], [r.seconds for r in timed], "seconds", "Grading time") if timed else "",
             "<h2>Protections in force</h2>",
             _table(["protection", "submissions"], [(p, f"{n} / {len(results)}") for p, n in protections(results)]),
             similarity_html(pairs, skipped), "</body></html>"]
    return "\n".join(parts) + "\n"

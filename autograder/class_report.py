"""``autograder report <id> GRADED_DIR``: one HTML page for the instructor about a graded class.

Plots (matplotlib, Agg, embedded as PNG data URIs, so the page is one file): the grade distribution,
each graded check's pass rate, the most common named mistakes, and the grading time per submission;
then the protections in force, and the pairs of submissions that share the most code (``similarity.py``),
each with why it is listed and its shared lines side by side.

Student ids and code are the students' own text: the page is a jinja2 template with autoescape
(``safe.page``) and a Content-Security-Policy that runs nothing; plot labels are drawn with mathtext off
(``safe.PLOT_TEXT``: an id holding ``$\\undefinedmacro$`` is a label, not a formula that kills the report).
"""
from __future__ import annotations

import base64
import io
from collections import Counter
from pathlib import Path

from markupsafe import Markup

from .exports import load_graded
from .layout import Course
from .results import GradingResult
from .safe import PLOT_TEXT, page, safe
from .similarity import Comparison, K, Pair, W, compare, notebook_code, textbook_file

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}img{max-width:100%}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}
pre{margin:0;font-size:.8em;white-space:pre-wrap}
.shared{background:#ffe08a}.code{width:50%}"""


def _png(fig) -> Markup:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return Markup(f"<img alt='' src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}'>")


def _label(text: str) -> str:
    text = safe(text, "plot")
    return text if len(text) <= 70 else text[:67] + "..."


def _barh(labels: list[str], values: list[float], xlabel: str, title: str) -> Markup:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(labels) + 1.2))
    ax.barh(range(len(labels)), values, color="#4c72b0")
    ax.set_yticks(range(len(labels)), [_label(lb) for lb in labels], fontsize=8, **PLOT_TEXT)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _png(fig)


def grade_plot(results: list[GradingResult]) -> Markup:
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


def _side(pair: Pair, which: str) -> Markup:
    """One side of a pair's code, its shared lines highlighted: markupsafe escapes each line (``Markup.format``)."""
    side = pair.a if which == "a" else pair.b
    shared = pair.lines(side)
    return Markup("\n").join(Markup("<span class='shared'>{}</span>").format(safe(line, "html")) if i in shared
                              else safe(line, "html") for i, line in enumerate(side.code.text.splitlines(), start=1))


PAGE = """<!doctype html><html><head><meta charset='utf-8'>
<meta http-equiv='Content-Security-Policy' content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{{ assignment }}: class report</title><style>{{ style }}</style></head><body>
<h1>{{ assignment }}: class report</h1>
<p>{{ results|length }} graded submissions; median score {{ '%g' % median }}; {{ harness }} with harness errors;
{{ late }} late.</p>
{% for notice, n in data_notices %}<p class='note'><strong>{{ notice }}</strong> ({{ n }} submissions)</p>
{% endfor %}
<h2>Grade distribution</h2>
{% if results %}{{ grades }}{% else %}<p>No results.</p>{% endif %}
<h2>Pass rate of every graded check</h2>
{{ rates }}
<h2>Most common named mistakes</h2>
{% if named %}{{ named_plot }}
<table><tr><th>mistake</th><th>submissions</th></tr>
{% for mistake, n in named %}<tr><td>{{ mistake }}</td><td>{{ n }}</td></tr>{% endfor %}
</table>
{% else %}<p>No named mistake was made.</p>{% endif %}
<h2>Grading time per submission</h2>
{{ timing }}
<h2>Protections in force</h2>
<table><tr><th>protection</th><th>submissions</th></tr>
{% for name, n in protections %}<tr><td>{{ name }}</td><td>{{ n }} / {{ results|length }}</td></tr>{% endfor %}
</table>
<h2>Submissions that share code</h2>
<p>Every code cell of each notebook (solution cells and cells a student added alike) is normalised: names,
strings and numbers anonymised, comments and docstrings dropped. Its fingerprints (winnowed hashes of runs of
{{ k }} tokens: two notebooks with a run of {{ k + w - 1 }} tokens in common share one) are compared once
what everybody may share is taken out: the released notebook's code ({{ c.removed.released }} fingerprints),
the textbook's code for this assignment's functions ({{ c.removed.textbook }}{% if not c.removed.textbook %},
no textbook baseline for this assignment{% endif %}) and code more than half of the class has
({{ c.removed.common }}). Pairs are ranked by how much code they share; a pair sharing fewer than
{{ c.min_shared }} fingerprints is not listed.</p>
<p><strong>{{ c.compared }} pairs of {{ c.students }} notebooks compared</strong>: {{ c.sharing }} share some code,
{{ c.above }} share at least {{ c.min_shared }} fingerprints{% if c.above > c.pairs|length %} (the first
{{ c.pairs|length }} are listed){% endif %}.</p>
<p>A match means that two notebooks contain the same code, once renamed, that neither the notebook, the textbook
nor most of the class wrote: a lead to read, side by side, before talking to either student. It is not a
verdict: it does not say who copied whom, or that anyone did (students who worked through the same tutorial,
or were helped by the same TA, share code honestly), and no match does not prove independent work.</p>
{% if skipped %}<p>Not compared (notebook not found): {{ skipped|join(', ') }}</p>{% endif %}
{% if not c.pairs %}<p>No pair shares {{ c.min_shared }} fingerprints or more.</p>{% else %}
<table><tr><th>rank</th><th>pair</th><th>shared fingerprints</th><th>share of the smaller's own code</th></tr>
{% for p in c.pairs %}<tr><td>{{ loop.index }}</td><td><a href='#pair-{{ loop.index }}'>{{ p.a.student }} /
{{ p.b.student }}</a></td><td>{{ p.shared|length }}</td><td>{{ '%.0f%%' % (100 * p.similarity) }}</td></tr>
{% endfor %}</table>
{% for p in c.pairs %}
<h3 id='pair-{{ loop.index }}'>{{ loop.index }}. {{ p.a.student }} and {{ p.b.student }}</h3>
<p>Listed because:</p><ul>{% for reason in p.reasons() %}<li>{{ reason }}</li>{% endfor %}</ul>
<table><tr><th class='code'>{{ p.a.student }}</th><th class='code'>{{ p.b.student }}</th></tr><tr>
{% for which in ('a', 'b') %}<td><pre>{{ side(p, which) }}</pre></td>{% endfor %}</tr></table>
{% endfor %}{% endif %}
</body></html>
"""


def build_class_report(course: Course, assignment_id: str, graded: Path, top: int = 10, min_shared: int | None = None
                 ) -> str:
    results = load_graded(graded, assignment_id)
    codes, skipped = {}, []
    for r in results:
        path = Path(r.submission)
        if path.is_file():
            codes[r.student] = notebook_code(path)
        else:
            skipped.append(r.student)
    template = notebook_code(course.assignment(assignment_id).release_notebook)
    book = textbook_file(course.root, assignment_id)
    textbook = book.read_text(encoding="utf-8") if book.is_file() else ""
    comparison: Comparison = compare(codes, template, textbook, top=top,
                                     **({"min_shared": min_shared} if min_shared is not None else {}))
    rates = pass_rates(results)
    named = mistakes(results)
    timed = sorted(results, key=lambda r: -r.seconds)
    scores = sorted(r.final_score for r in results)
    return page(
        PAGE, assignment=assignment_id, style=Markup(STYLE), results=results,
        median=scores[len(scores) // 2] if scores else 0, harness=sum(1 for r in results if r.harness_errors),
        late=sum(1 for r in results if r.late_penalty), grades=grade_plot(results) if results else "",
        rates=_barh([n for n, _, _ in rates], [100 * v for _, v, _ in rates], "% of submissions passing",
                    "Pass rate per check") if rates else "",
        named=named, named_plot=_barh([n for n, _ in named], [c for _, c in named], "submissions", "Named mistakes")
        if named else "",
        timing=_barh([r.student for r in timed], [r.seconds for r in timed], "seconds", "Grading time")
        if timed else "",
        data_notices=sorted(Counter(r.data_notice for r in results if r.data_notice).items()),
        protections=protections(results), c=comparison, k=K, w=W, skipped=skipped, side=_side)

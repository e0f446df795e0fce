"""The student's feedback as HTML (``feedback.html`` beside ``feedback.md``), and the grouping both share.

Checks of one graded part that failed with the very same message (a function not written yet fails
all eight of its checks alike) are shown once, naming every check and keeping every replay seed.
Attachments (training curves as PNG) are embedded, so the page is one file a TA can mail or upload.
"""
from __future__ import annotations

import base64
import html

from .results import GradingResult, Message, TestResult

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}

STYLE = """body{font-family:system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222}
h2 code{font-size:1em}.pass{color:#176317}.fail{color:#a31515}pre{background:#f6f6f6;padding:.6em;
white-space:pre-wrap;border-left:3px solid #a31515}.note{background:#fff7d6;padding:.5em}
.staff{color:#777;font-size:.85em}img{max-width:100%}"""


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
    example, when only the named mistake is shared), then every replay seed."""
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
    return f"{text}\nReplay: seeds {', '.join(str(t.seed) for t in group)}"


def data_uri(name: str, data: bytes) -> str | None:
    for suffix, mime in IMAGE_TYPES.items():
        if name.lower().endswith(suffix):
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return None


def render_html(result: GradingResult) -> str:
    """The same report as ``render_feedback``, as one self-contained HTML page."""
    e = html.escape
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>Feedback: {e(result.assignment)}</title>",
           f"<style>{STYLE}</style></head><body>", f"<h1>Feedback: {e(result.assignment)}</h1>",
           f"<p><strong>Score: {result.final_score:g} / {result.max_score:g}</strong></p>"]
    if result.late_penalty:
        out.append(f"<p class='note'>Late: {e(result.late_text())}</p>")
    out += [f"<p class='note'>{e(n)}</p>" for n in result.student_notices()]
    for name in sorted(result.attachments):
        uri = data_uri(name, result.attachments[name])
        if uri:
            out.append(f"<figure><img src='{uri}' alt='{e(name)}'><figcaption>{e(name)}</figcaption></figure>")
    by_task: dict[str, list[TestResult]] = {}
    for t in result.tests:
        by_task.setdefault(t.task, []).append(t)
    for task, tests in by_task.items():
        got, most = sum(t.points for t in tests), sum(t.max_points for t in tests)
        out.append(f"<h2><code>{e(task)}</code>: {got:g} / {most:g}</h2><ul>")
        for group in failure_groups(tests):
            t = group[0]
            points = f"({sum(g.points for g in group):g}/{sum(g.max_points for g in group):g})"
            if t.passed:
                out.append(f"<li><span class='pass'>PASS</span> {e(t.name)} {points}</li>")
                continue
            names = e(t.name) if len(group) == 1 else (
                f"{len(group)} checks, {group_label(group)}:<ul>" + "".join(f"<li>{e(g.name)}</li>" for g in group)
                + "</ul>")
            out.append(f"<li><span class='fail'>FAIL</span> {names} {points}<pre>{e(group_output(group))}</pre></li>")
        out.append("</ul>")
    out.append(f"<p class='staff'>Graded on {e(result.device)} with run seed {result.seed}; replay a failure with "
               f"<code>autograder grade {e(result.assignment)} NOTEBOOK --seed {result.seed} -k NAME</code>.</p>")
    return "\n".join(out) + "\n</body></html>\n"

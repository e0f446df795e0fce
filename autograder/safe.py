"""Student-derived text made safe for where it goes: a terminal, markdown, an HTML page, a CSV cell, a plot label.

Everything staff open carries text the student wrote: exception messages, reprs, markdown cells, file and
folder names (the student id), code. ``safe(text, where)`` is the one function every output passes such text
through; each output names where the text goes:

- everywhere: C0 and C1 control characters (but newline and tab), DEL, and the Unicode controls that reorder or
  hide text (bidirectional overrides and isolates, zero-width joiners) are shown as ``\\x1b``/``\\u202e``-style
  escapes, so a terminal never receives an escape sequence (no cursor moves, window titles, clipboard writes,
  hidden text) and a reader sees that the student sent one. Carriage return is one of them: it would let a line
  overwrite the one before it.
- ``"terminal"``, ``"code"`` (inside an indented markdown code block, where nothing is markup): only that.
- ``"name"``: a one-line field in a terminal (a student id, a path): newline and tab escaped too, so a name
  cannot start a line of its own.
- ``"markdown"`` (running text in a markdown file): the characters that make a tag, an entity, a link or
  image, a code span or a formula backslash-escaped (``\\ ` [ ] < > & $``), so the text shows as written and
  never becomes markup (emphasis is left alone: it changes how text looks, not what it does).
- ``"html"``: only the control characters; the escaping itself is done by the template engine's autoescape
  (``page`` below), never by hand, so a value cannot be forgotten or escaped twice.
- ``"csv"``: a cell that a spreadsheet would take for a formula (first character ``=``, ``+``, ``-``, ``@``, tab or
  carriage return, after any spaces) gets a leading ``'``, as OWASP and the spreadsheet programs expect.
- ``"plot"``: matplotlib labels; ``$`` cannot start mathtext once the label is drawn with ``parse_math=False``
  (``PLOT_TEXT``), which every label made from student text must be.

``clean_cell_markup`` is what the autograded notebook's markdown and raw cells go through before formgrader
renders them in a TA's logged-in Jupyter server: HTML by nh3 (ammonia's allow-list sanitiser), plus what
markdown or MathJax would turn into active content (``javascript:`` link targets, ``\\href``).
"""
from __future__ import annotations

import html as html_module
import re
from typing import Literal

Where = Literal["terminal", "name", "code", "markdown", "html", "csv", "plot"]

# C0 but tab and newline, DEL, C1; bidi embeddings/overrides/isolates, marks and zero-width characters, BOM
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_MARKDOWN = re.compile(r"([\\`\[\]<>&$])")  # what makes a tag, an entity, a link or image, code or a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLOT_TEXT = {"parse_math": False}  # keyword arguments for every matplotlib text made from student text


def _escape_control(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object, where: Where) -> str:
    """``text`` (any value; ``str()`` of it) made safe to place ``where`` (see the module's docstring)."""
    raw = text if isinstance(text, str) else str(text)
    if where == "csv" and raw.lstrip(" ").startswith(_FORMULA_START):
        raw = "'" + raw  # before the controls are escaped: a leading tab or CR is a formula prefix too
    shown = _CONTROL.sub(_escape_control, raw)
    if where == "name":
        return shown.replace("\n", "\\n").replace("\t", "\\t")
    if where == "markdown":
        return _MARKDOWN.sub(r"\\\1", shown)
    if where in ("terminal", "code", "html", "csv", "plot"):
        return shown
    raise ValueError(f"safe(): unknown destination {where!r} (one of terminal, name, code, markdown, html, csv, "
                     "plot)")


# ----- HTML pages: jinja2's autoescape, every value through safe(..., "html") -----------------------
def page(template: str, **values: object) -> str:
    """``template`` (jinja2 source) rendered with autoescape on: every ``{{ value }}`` is shown as text, its
    control characters escaped. ``Markup`` values (our own pre-built fragments) are the only way around it."""
    return _environment().from_string(template).render(**values)


def _finalize(value: object) -> object:
    if value is None:
        return ""
    from markupsafe import Markup
    return value if isinstance(value, Markup) else safe(value, "html")


_ENV = None


def _environment():
    global _ENV
    if _ENV is None:
        import jinja2
        _ENV = jinja2.Environment(autoescape=True, finalize=_finalize, undefined=jinja2.StrictUndefined,
                                  trim_blocks=True, lstrip_blocks=True)
    return _ENV


# ----- the autograded notebook's markdown and raw cells, as formgrader will render them ----------------
ALLOWED_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt",
                "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s",
                "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
                      "td": {"align"}, "th": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
# markdown link and image targets: [text](target), ![alt](target), [label]: target
_LINK_TARGET = re.compile(r"(\]\(\s*<?)([^)>\n]*)|(^\s{0,3}\[[^\]]+\]:\s*<?)([^\n]+)", re.MULTILINE)
# MathJax/KaTeX commands that make links, styles, classes, ids or load extensions
_ACTIVE_TEX = re.compile(r"\\(href|url|class|cssId|style|require|unicode|html|data)\b")


def _safe_target(target: str) -> bool:
    """A link target with no scheme (relative, ``#anchor``) or an allowed one, read as a browser reads it:
    entities decoded, whitespace and controls dropped."""
    seen = re.sub(r"[\x00-\x20\x7f-\x9f]", "", html_module.unescape(target)).lower().lstrip("<")
    scheme = re.match(r"([a-z][a-z0-9+.\-]*):", seen)
    return scheme is None or scheme.group(1) in URL_SCHEMES


def _neutral_link(match: re.Match) -> str:
    prefix, target = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(3),
                                                                                           match.group(4))
    return prefix + (target if _safe_target(target) else "#removed-unsafe-link")


def clean_cell_markup(source: str) -> str:
    """A markdown or raw cell's source with nothing active left: HTML through nh3's allow-list (no scripts,
    styles, event handlers, SVG, iframes, forms; links http(s)/mailto only), markdown link targets with other
    schemes replaced, MathJax's active commands defused, control characters escaped."""
    import nh3
    cleaned = nh3.clean(source, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                        strip_comments=True, link_rel="noopener noreferrer nofollow")
    # nh3 writes text's ">" as "&gt;"; a ">" alone opens nothing (every "<" is escaped) and starts markdown quotes
    cleaned = cleaned.replace("&gt;", ">")
    cleaned = _LINK_TARGET.sub(_neutral_link, cleaned)
    cleaned = _ACTIVE_TEX.sub(lambda m: "\\\\" + m.group(1), cleaned)
    return safe(cleaned, "code")

"""The files grading writes, each atomically (a temporary file, then a rename), by the trusted process alone.

Per graded submission (``write_result_files``): Gradescope's ``results.json``, the student's ``feedback.md``
and ``feedback.html`` with the graders' attachments beside them, and the full record (``result.json``) that
staff read and a resumed batch trusts. Per batch: ``grades.csv``. The text of each comes from ``render.py``;
a half-written file is never left behind for a rerun to trust.
"""
from __future__ import annotations

import json
from pathlib import Path

from .render import feedback_html, feedback_markdown, grades_csv, gradescope_results, not_graded
from .results import GradingResult


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:  # newline="": the CSV's own line ends stay
        fh.write(text)
    tmp.replace(path)


def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_result_files(result: GradingResult, *, results_json: Path | None = None, feedback: Path | None = None,
                       record: Path | None = None, record_extra: dict | None = None, per_check: bool = False) -> None:
    """The files one graded submission produces: those asked for, and its attachments beside them.
    ``per_check``: results.json gets a row per check instead of one per graded part."""
    if results_json is not None:
        # a part the harness could not grade is no 0 there (render.not_graded), whoever writes the file
        write_json(results_json, not_graded(gradescope_results(result, per_check=per_check), result))
    if feedback is not None:
        write_text(feedback, feedback_markdown(result))
        write_text(feedback.with_suffix(".html"), feedback_html(result))
    folder = (feedback or results_json or record or Path(".")).parent
    for name, data in result.attachments.items():
        (folder / name).write_bytes(data)
    if record is not None:
        write_json(record, {**result.to_dict(), **(record_extra or {})})


def write_grades_csv(path: Path, results: list[GradingResult]) -> None:
    """The batch's gradebook for an LMS import (see ``render.grades_csv``)."""
    write_text(path, grades_csv(results))

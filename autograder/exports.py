"""Grades out of a graded folder: read back a batch's results, and write Canvas's gradebook import CSV.

Canvas imports a CSV whose first columns identify the student (``Student``, ``ID``, ``SIS User ID``,
``SIS Login ID``, ``Section``), then one column per assignment, with a ``Points Possible`` row under the
header. Canvas matches rows by ``ID``, ``SIS User ID`` or ``SIS Login ID``; give ``--roster`` a CSV exported
from Canvas's gradebook (Grades > Export) to fill them in: each of our students (nbgrader's student id)
is matched against its ``SIS Login ID``, ``SIS User ID``, ``ID`` or ``Student`` column, in that order.
Without a roster the student id goes in ``SIS Login ID``. Every identifying cell (the student id is the
student's own folder name) goes through ``safe(..., "csv")``: never a formula. The score is the final one: a
grader's manual grades
in nbgrader's gradebook (read when the Canvas file is written) win over the checks, then any late penalty.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from .errors import UsageError
from .render import final_cell
from .results import GradingResult
from .safe import safe

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MATCH_ORDER = ["SIS Login ID", "SIS User ID", "ID", "Student"]


def assignment_folder(graded: Path, assignment_id: str) -> Path:
    """``GRADED/<id>/`` as ``autograder batch --out GRADED`` writes it, or GRADED itself when it is that folder."""
    for folder in (graded / assignment_id, graded):
        if folder.is_dir() and any(folder.glob("*/result.json")):
            return folder
    raise UsageError(f"no graded submissions of {assignment_id} in {graded} (looked for */result.json and "
                     f"{assignment_id}/*/result.json; run `autograder batch {assignment_id} ... --out {graded}`)")


def load_graded(graded: Path, assignment_id: str) -> list[GradingResult]:
    """Every student's full record (``result.json``) in a batch's output, attachments read back, by student."""
    results = []
    for record in sorted(assignment_folder(graded, assignment_id).glob("*/result.json")):
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            names = data.get("attachments", [])
            keys = set(GradingResult.__dataclass_fields__) | {"score", "final_score", "attachments"}
            result = GradingResult.from_dict({k: v for k, v in data.items() if k in keys})
        except (OSError, ValueError, TypeError, KeyError) as exc:
            print(f"autograder: warning: skipping {record}: {exc}", file=sys.stderr)
            continue
        if result.assignment != assignment_id:
            continue
        result.student = result.student or record.parent.name
        result.attachments = {n: (record.parent / n).read_bytes() for n in names if (record.parent / n).is_file()}
        results.append(result)
    return results


def read_roster(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.DictReader(fh) if (r.get("Student") or "").strip() != "Points Possible"]
    return [r for r in rows if "Student, Test" not in (r.get("Student") or "")]  # Canvas's test student


def _match(student: str, roster: list[dict[str, str]]) -> dict[str, str] | None:
    for column in MATCH_ORDER:
        for row in roster:
            if (row.get(column) or "").strip() == student:
                return row
    return None


def write_canvas_csv(path: Path, results: list[GradingResult], column: str, roster: list[dict[str, str]] | None = None
                     ) -> list[str]:
    """Canvas's gradebook import file for one assignment; returns the students the roster did not know."""
    unmatched = []
    most = max((r.max_score for r in results), default=100.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*CANVAS_COLUMNS, column])
        writer.writerow(["Points Possible", "", "", "", "", f"{most:g}"])
        for r in sorted(results, key=lambda r: r.student):
            row = _match(r.student, roster) if roster is not None else None
            if roster is not None and row is None:
                unmatched.append(r.student)
                continue
            ids = [row.get(c, "") for c in CANVAS_COLUMNS] if row else [r.student, "", "", r.student, ""]
            # the score is empty while a part is not graded: no grade, not a 0
            writer.writerow([*(safe(i, "csv") for i in ids), final_cell(r)])
    return unmatched

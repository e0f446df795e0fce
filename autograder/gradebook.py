"""nbgrader's gradebook holds the hidden graders' scores.

nbgrader scores an autograded code cell from its outputs (an error or anything on stderr: zero; an
``execute_result`` holding a number: that many points) and stores it with ``SaveAutoGrades``. Both
grading paths here go through exactly that, so formgrader, manual grades, extra credit, ``nbgrader
export`` and ``nbgrader generate_feedback`` behave as nbgrader users expect:

- ``nbgrader autograde <id>`` (a TA's habit): ``nbgrader_config.py`` puts ``HiddenGraders`` where
  nbgrader's ``Execute`` was. It grades the sanitised submission with our hidden graders (no demo cell
  runs) and writes, in each ``test_<task>`` cell's outputs, the student's messages (stdout) and the
  part's score (an ``execute_result``); nbgrader's own ``SaveAutoGrades`` then records it.
- ``autograder batch``: after grading, ``record_batch`` builds the same autograded notebook
  (nbgrader's sanitising preprocessors, then ``annotate``, then ``SaveAutoGrades``) for every student,
  under ``autograded/<student>/<id>/``.

``SaveAutoGrades`` sets ``auto_score`` only: a manual score a grader entered in formgrader stays, and wins,
when the batch runs again. What a student reads is ``TestResult.student_output()``: never a grader's
source, never staff detail. ``autograder release`` registers the assignment and its graded cells (it
runs ``nbgrader generate_assignment`` with the database).

Trusting nothing in the submission: the release's nbgrader metadata is the truth (a student's edited
metadata, a duplicate ``grade_id``, an extra graded cell never change a score, a point value or which cells
are graded), each student's recording is isolated (a failure becomes a note for that student, and the
classmates after them are still recorded), and a part whose checks the harness could not run is recorded
as "needs manual grade", never as a zero. The files nbgrader's feedback commands read beside an
autograded notebook (``timestamp.txt``, ``submission_secret.txt``) are copied from the submission (never
through a link) or written, so ``generate_feedback``/``release_feedback`` work after a batch.

One final score: a grader's manual score and extra credit in formgrader win over the checks' points in
every output (``apply_overrides``: grades.csv, the Canvas CSV, feedback and the batch summary).

The autograded notebook is what formgrader renders in the TA's logged-in Jupyter server, with no sandbox:
``for_formgrader`` leaves nothing active in it (the student's original in ``submitted/`` is only read), and a
student id formgrader would show as HTML is never recorded (``plain_student_id``).

nbgrader is a staff tool: nothing here is imported while grading a single notebook.
"""
from __future__ import annotations

import copy
import datetime
import os
import re
import secrets
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

from .errors import UsageError
from .layout import Course
from .results import GradingResult, TestResult, cap
from .safe import safe

MESSAGE_CHARS = 6000  # one cell's feedback text


# ----- the course's nbgrader settings --------------------------------------------------------------
def coursedir(course: Course):
    """nbgrader's ``CourseDirectory`` configured from the course's ``nbgrader_config.py``."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    from .release import nbgrader_env
    os.environ["PATH"] = nbgrader_env()["PATH"]  # nbgrader runs `alembic` from PATH on a new gradebook
    config = PyFileConfigLoader("nbgrader_config.py", str(course.root)).load_config()
    config.CourseDirectory.root = str(course.root)
    return CourseDirectory(config=config)


def registered(course: Course, assignment_id: str) -> bool:
    """Whether ``autograder release`` put this assignment (and its notebook) in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry
    cd = coursedir(course)
    if cd.db_url.startswith("sqlite:///") and not Path(cd.db_url.removeprefix("sqlite:///")).is_file():
        return False
    with Gradebook(cd.db_url, cd.course_id) as gb:
        try:
            gb.find_notebook(assignment_id, assignment_id)
        except MissingEntry:
            return False
    return True


# ----- what a student reads in an autograded cell ------------------------------------------------
def cell_text(tests: list[TestResult], notices: Sequence[str] = ()) -> str:
    """The feedback for one graded part: each hidden check, passed or failed with its message."""
    got, most = sum(t.points for t in tests), sum(t.max_points for t in tests)
    lines = [f"Hidden graders: {got:g} / {most:g} points"]
    lines += [f"Note: {n}" for n in notices]
    for t in tests:
        lines.append(f"[{'PASS' if t.passed else 'FAIL'}] {t.name} ({t.points:g}/{t.max_points:g})")
        if not t.passed:
            lines += [f"    {line}" for line in t.student_output().splitlines()]
    return safe(cap("\n".join(lines), MESSAGE_CHARS), "terminal") + "\n"  # shown as plain text, escapes and all


def annotate(nb, result: GradingResult):
    """Write the result into the autograded cells' outputs, as nbgrader reads them: the messages on
    stdout, the part's score as the cell's value (nbgrader's partial credit). Other cells lose their outputs."""
    from nbformat.v4 import new_output
    by_cell: dict[str, list[TestResult]] = {}
    for t in result.tests:
        by_cell.setdefault(t.cell_id, []).append(t)
    notices = result.student_notices()
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        meta = cell.get("metadata", {}).get("nbgrader", {})
        tests = by_cell.get(meta.get("grade_id", ""))
        if not meta.get("grade") or meta.get("solution") or tests is None:
            continue
        count += 1
        got = sum(t.points for t in tests)
        cell.execution_count = count
        text = cell_text(tests, notices if count == 1 else ())
        if any(t.harness_error for t in tests):  # no score at all: recorded as needing a manual grade
            cell.outputs = [new_output("stream", name="stdout", text="NOT GRADED: the grader could not run (an "
                                       "internal error, not your doing); your TA will grade this part.\n" + text)]
            continue
        cell.outputs = [new_output("stream", name="stdout", text=text),
                        new_output("execute_result", data={"text/plain": f"{got:g}"}, execution_count=count)]
    return nb


# ----- nbgrader autograde: our graders in place of Execute ---------------------------------------
try:
    from nbgrader.preprocessors import NbGraderPreprocessor as _Base
    from traitlets import Integer, Unicode
except ImportError:  # grading runners without nbgrader never import this module's preprocessor
    _Base = object


if _Base is not object:
    class HiddenGraders(_Base):
        """nbgrader preprocessor: grade the notebook with the hidden graders instead of executing it."""

        device = Unicode("auto", help="where graders and student code run (auto, cpu, cuda)").tag(config=True)
        seed = Integer(0, help="the run seed, as `autograder grade --seed`").tag(config=True)
        course_root = Unicode("", help="the course folder (default: found from the current folder)").tag(config=True)

        def preprocess(self, nb, resources):
            import nbformat

            from .grade import grade_submission
            from .launcher import Launcher
            info = resources["nbgrader"]
            if not plain_student_id(info["student"]):
                raise UsageError(refused_id(info["student"]))
            course = Course.find(self.course_root or None)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"{info['notebook']}.ipynb"
                nbformat.write(nb, str(path))
                with Launcher() as launcher:
                    result = grade_submission(info["assignment"], path, course=course, device=self.device,
                                              seed=self.seed, launcher=launcher, student=info["student"])
            self.log.info("%s / %s: %g of %g points from the hidden graders", info["student"], info["assignment"],
                          result.score, result.max_score)
            release = course.assignment(info["assignment"]).release_notebook
            return for_formgrader(annotate(nb, result), release), resources


# ----- autograder batch: the same autograded notebooks and grades ---------------------------------
def _submitted_notebook(path: Path, release: Path, refused: bool):
    """The submission as nbformat data, read as intake reads it (never through a link); the released cells
    stand in for an unreadable or refused one, so every part shows its zero and its message."""
    import nbformat

    from .notebook import parse_notebook, read_bytes
    if not refused:
        try:
            data = read_bytes(path)
            parse_notebook(data, path.name)
            return nbformat.reads(data.decode("utf-8"), as_version=4)
        except Exception:
            pass
    return nbformat.read(str(release), as_version=4)


def with_release_metadata(nb, release) -> list[str]:
    """Make the release's nbgrader metadata the truth in ``nb`` (in place): a cell keeps nbgrader metadata only
    as the first cell of the release's ``grade_id`` and type, with the release's metadata exactly; a graded or
    locked cell the student deleted comes back from the release. Returns what was changed, for staff."""
    truth: dict[str, object] = {}
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and meta.get("grade_id"):
            truth.setdefault(meta["grade_id"], cell)
    seen: set[str] = set()
    changed = []
    for index, cell in enumerate(nb.cells, start=1):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        ref = truth.get(grade_id) if isinstance(grade_id, str) else None
        if ref is not None and grade_id not in seen and ref.cell_type == cell.cell_type:  # type: ignore[attr-defined]
            seen.add(grade_id)  # type: ignore[arg-type]
            if meta != ref.metadata.nbgrader:  # type: ignore[attr-defined]
                changed.append(f"cell {index}: nbgrader metadata of {grade_id} restored from the release")
            cell.metadata["nbgrader"] = copy.deepcopy(ref.metadata.nbgrader)  # type: ignore[attr-defined]
        else:
            del cell.metadata["nbgrader"]
            changed.append(f"cell {index}: nbgrader metadata the release does not have removed ({grade_id!r})")
    ids = {c.get("id") for c in nb.cells}
    for grade_id, ref in truth.items():
        if grade_id not in seen:
            cell = copy.deepcopy(ref)
            if cell.get("id") in ids:  # type: ignore[attr-defined]
                cell["id"] = f"restored-{secrets.token_hex(4)}"  # type: ignore[index]
            nb.cells.append(cell)
            changed.append(f"{grade_id}: missing from the submission, restored from the release")
    return changed


def _timestamp(cd, notebook: Path) -> datetime.datetime | None:
    try:
        return cd.get_existing_timestamp(str(notebook.parent))
    except Exception:
        return None


# ----- student ids formgrader can show -------------------------------------------------------------------
PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")


def plain_student_id(student: str) -> bool:
    """An id made of letters, digits and ``. _ @ + -``: formgrader writes student ids into its pages as HTML
    (nbgrader does not escape them; an id holding ``<img onerror=...>`` runs in the TA's logged-in Jupyter
    server), so only such ids go into the gradebook. nbgrader's exchange takes the id from the student's side."""
    return PLAIN_ID.fullmatch(student) is not None


def refused_id(student: str) -> str:
    return (f"student id {safe(student, 'name')!r} is not recorded in the gradebook: formgrader would show it as "
            "HTML, and only letters, digits and . _ @ + - are safe there; rename that student's folder in "
            "submitted/ (and tell the student), then grade again. Their feedback and grades.csv are written.")


def record(course: Course, assignment_id: str, student: str, notebook: Path, result: GradingResult, cd=None) -> Path:
    """Store one graded submission the way ``nbgrader autograde`` would: student, submission, the
    autograded notebook and each graded cell's auto score. Returns the autograded notebook's path. A student
    id that formgrader cannot show safely (``plain_student_id``) is refused with a ``UsageError``."""
    if not plain_student_id(student):
        raise UsageError(refused_id(student))
    with warnings.catch_warnings():
        # nbgrader's own session warnings (SQLAlchemy autoflush), nbformat's about old cell ids: not for the TA
        warnings.simplefilter("ignore")
        return _record(course, assignment_id, student, notebook, result, cd)


def _autograded(nb, resources, result: GradingResult, release: Path):
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
    )
    for step in (ClearOutput(), DeduplicateIds(), OverwriteKernelspec(), OverwriteCells(), CheckCellMetadata()):
        nb, resources = step.preprocess(nb, resources)
    annotate(nb, result)
    nb, resources = SaveAutoGrades().preprocess(nb, resources)  # on the student's text: nbgrader's checksums
    return for_formgrader(nb, release)


def _record(course: Course, assignment_id: str, student: str, notebook: Path, result: GradingResult, cd=None) -> Path:
    import nbformat
    from nbgrader.api import Gradebook
    cd = cd or coursedir(course)
    with Gradebook(cd.db_url, cd.course_id) as gb:
        gb.update_or_create_student(student)
        timestamp = _timestamp(cd, Path(notebook))
        gb.update_or_create_submission(assignment_id, student, **({"timestamp": timestamp} if timestamp else {}))
    resources = {"nbgrader": {"notebook": assignment_id, "assignment": assignment_id, "student": student,
                              "db_url": cd.db_url}, "unique_key": assignment_id}
    release_path = course.assignment(assignment_id).release_notebook
    release = nbformat.read(str(release_path), as_version=4)
    nb = _submitted_notebook(Path(notebook), release_path, result.refused)
    try:
        with_release_metadata(nb, release)
        nb = _autograded(nb, resources, result, release_path)
    except Exception as exc:  # what nbgrader still refuses in the student's cells: the released cells stand in
        result.flags.append(f"gradebook: the submitted cells could not be recorded ({type(exc).__name__}: "
                            f"{str(exc)[:200]}); the released cells hold the scores")
        nb = _autograded(nbformat.read(str(release_path), as_version=4), resources, result, release_path)
    _unscored(cd, assignment_id, student, result)
    out = Path(cd.format_path(cd.autograded_directory, student, assignment_id)) / f"{assignment_id}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    tmp.replace(out)
    _feedback_files(Path(notebook).parent, out.parent, timestamp)
    return out


def _unscored(cd, assignment_id: str, student: str, result: GradingResult) -> None:
    """Parts the harness could not grade: no auto score, flagged for a manual grade (nbgrader would give a
    cell without an error its full points)."""
    from nbgrader.api import Gradebook
    cells = {t.cell_id for t in result.tests if t.harness_error}
    if not cells:
        return
    with Gradebook(cd.db_url, cd.course_id) as gb:
        for cell_id in cells:
            grade = gb.find_grade(cell_id, assignment_id, assignment_id, student)
            grade.auto_score = None
            grade.needs_manual_grade = True
        gb.db.commit()


def _feedback_files(submitted: Path, autograded: Path, timestamp: datetime.datetime | None) -> None:
    """``timestamp.txt`` and ``submission_secret.txt`` beside the autograded notebook, as ``nbgrader autograde``
    copies them (``generate_feedback`` and ``release_feedback`` read them): the submission's own, regular files
    read without following links, else written (the recorded time, or now; a fresh secret)."""
    from .notebook import read_bytes
    made = {"timestamp.txt": (timestamp or datetime.datetime.now(datetime.timezone.utc)).strftime(
                "%Y-%m-%d %H:%M:%S.%f %Z").encode(),
            "submission_secret.txt": secrets.token_hex(32).encode()}
    for name, fallback in made.items():
        try:
            data = read_bytes(submitted / name, limit=4096)
        except Exception:
            data = fallback
        tmp = autograded / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(autograded / name)


# ----- what formgrader renders in the TA's logged-in Jupyter server --------------------------------
CELL_METADATA = ("nbgrader", "tags", "deletable", "editable")  # the rest (widgets, attachments' refs) goes
NOTEBOOK_METADATA = ("kernelspec", "language_info")


def for_formgrader(nb, release: Path):
    """The autograded notebook as a TA may open it: formgrader renders it (nbconvert, no sandbox) from the TA's
    logged-in Jupyter server, so nothing the student wrote may be active there. Markdown and raw cells that are
    not the released notebook's own are cleaned (``safe.clean_cell_markup``: nh3's allow-list, unsafe link
    targets, MathJax's active commands); attachments (but the release's own figures, taken from the release)
    and metadata other than nbgrader's go (notebook-level too: widget state loads scripts); code cells keep
    only the outputs ``annotate`` wrote (text/plain). The student's notebook in ``submitted/`` is only read."""
    import nbformat

    from .safe import clean_cell_markup
    # A released cell's own attachments (the course's figures) come from the release, never from the upload.
    released = {_text(c.source): c.get("attachments") for c in nbformat.read(str(release), as_version=4).cells
                if c.cell_type in ("markdown", "raw")}
    nb.metadata = nbformat.NotebookNode({k: v for k, v in nb.metadata.items() if k in NOTEBOOK_METADATA})
    for cell in nb.cells:
        cell.pop("attachments", None)
        if cell.cell_type == "markdown" and released.get(_text(cell.source)):
            cell.attachments = released[_text(cell.source)]
        cell.metadata = nbformat.NotebookNode({k: v for k, v in cell.get("metadata", {}).items()
                                               if k in CELL_METADATA})
        if cell.cell_type in ("markdown", "raw") and _text(cell.source) not in released:
            cell.source = clean_cell_markup(_text(cell.source))
        elif cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if o.get("output_type") == "stream"
                            or set(o.get("data", {})) == {"text/plain"}]
    return nb


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def record_batch(course: Course, assignment_id: str, results: list[GradingResult]) -> tuple[int, list[str]]:
    """``record`` every graded submission of a batch, each on its own: one that fails is a note for that
    student, and the others are still recorded. Returns how many went in, and the notes."""
    cd = coursedir(course)
    recorded, notes = 0, []
    for result in results:
        try:
            record(course, assignment_id, result.student, Path(result.submission), result, cd)
            recorded += 1
        except Exception as exc:
            note = (refused_id(result.student) if isinstance(exc, UsageError) else
                    f"{safe(result.student, 'name')} not recorded ({type(exc).__name__}: {str(exc)[:300]})")
            note = f"gradebook: {safe(note, 'terminal')}"
            result.flags.append(note)
            notes.append(note)
    return recorded, notes


def update_after_batch(course: Course, assignment_id: str, submissions: list[tuple[str, Path]] | None,
                       results: list[GradingResult]) -> str:
    """The batch's hook: record into the gradebook when the assignment is registered; a line for the TA."""
    try:
        if not registered(course, assignment_id):
            return (f"gradebook: {assignment_id} is not registered; run `autograder release {assignment_id}` "
                    "to grade into nbgrader's gradebook")
    except ImportError:
        return "gradebook: nbgrader is not installed here (pip install '.[staff]'); gradebook not updated"
    import sys  # the phase's first line, at once: a TA (or a test) knows the gradebook phase has begun
    print(f"gradebook: recording {len(results)} submission(s) in nbgrader's gradebook", file=sys.stderr, flush=True)
    n, notes = record_batch(course, assignment_id, results)
    apply_overrides(course, assignment_id, results)
    line = f"gradebook: {n} submissions recorded (formgrader, `nbgrader export`, `nbgrader generate_feedback`)"
    return "\n".join([line, *notes])


def overrides(course: Course, assignment_id: str) -> dict[str, dict[str, float]]:
    """Per student, per graded cell, the score a grader set in the gradebook (manual score, extra credit)."""
    from nbgrader.api import Gradebook
    cd = coursedir(course)
    out: dict[str, dict[str, float]] = {}
    with Gradebook(cd.db_url, cd.course_id) as gb:
        for submission in gb.assignment_submissions(assignment_id):
            for nb in submission.notebooks:
                for g in nb.grades:
                    if g.manual_score is None and not g.extra_credit:
                        continue
                    base = g.manual_score if g.manual_score is not None else (g.auto_score or 0.0)
                    out.setdefault(submission.student_id, {})[g.name] = float(base) + float(g.extra_credit or 0)
    return out


def apply_overrides(course: Course, assignment_id: str, results: list[GradingResult]) -> list[GradingResult]:
    """Put the gradebook's manual scores on ``results`` (the one final score every output shows); returns the
    results that changed. Nothing happens where nbgrader or the registered assignment is missing."""
    try:
        if not registered(course, assignment_id):
            return []
        held = overrides(course, assignment_id)
    except ImportError:
        return []
    changed = []
    for r in results:
        cells = {c: v for c, v in held.get(r.student, {}).items() if c in r.task_scores()}
        if cells != r.manual:
            r.manual = cells
            changed.append(r)
    return changed


def gradebook_scores(course: Course, assignment_id: str) -> dict[str, dict[str, float]]:
    """Per student, per graded cell, the score the gradebook holds (a manual score wins), and "total"."""
    from nbgrader.api import Gradebook
    cd = coursedir(course)
    out: dict[str, dict[str, float]] = {}
    with Gradebook(cd.db_url, cd.course_id) as gb:
        for submission in gb.assignment_submissions(assignment_id):
            scores = {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}
            out[submission.student_id] = {**scores, "total": float(submission.score)}
    return out


def set_manual_score(course: Course, assignment_id: str, student: str, cell_id: str, score: float | None,
                     extra_credit: float | None = None) -> None:
    """What a grader does in formgrader: a manual score (None clears it) and extra credit for one cell."""
    from nbgrader.api import Gradebook
    cd = coursedir(course)
    with Gradebook(cd.db_url, cd.course_id) as gb:
        grade = gb.find_grade(cell_id, assignment_id, assignment_id, student)
        grade.manual_score = score
        grade.extra_credit = extra_credit
        grade.needs_manual_grade = False
        gb.db.commit()


__all__ = ["update_after_batch", "apply_overrides", "overrides", "with_release_metadata",
           "annotate", "cell_text", "coursedir", "gradebook_scores", "record", "record_batch",
           "registered",
           "set_manual_score"] + (["HiddenGraders"] if _Base is not object else [])

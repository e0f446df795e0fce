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

nbgrader is a staff tool: nothing here is imported while grading a single notebook.
"""
from __future__ import annotations

import datetime
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

from .layout import Course
from .results import GradingResult, TestResult, cap

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
    return cap("\n".join(lines), MESSAGE_CHARS) + "\n"


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
        cell.outputs = [new_output("stream", name="stdout", text=cell_text(tests, notices if count == 1 else ())),
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
            course = Course.find(self.course_root or None)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"{info['notebook']}.ipynb"
                nbformat.write(nb, str(path))
                with Launcher() as launcher:
                    result = grade_submission(info["assignment"], path, course=course, device=self.device,
                                              seed=self.seed, launcher=launcher, student=info["student"])
            self.log.info("%s / %s: %g of %g points from the hidden graders", info["student"], info["assignment"],
                          result.score, result.max_score)
            return annotate(nb, result), resources


# ----- autograder batch: the same autograded notebooks and grades ---------------------------------
def _submitted_notebook(path: Path, release: Path):
    import nbformat
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception:  # unreadable: the released cells stand in, so every part shows its zero and message
        return nbformat.read(str(release), as_version=4)


def _timestamp(cd, notebook: Path) -> datetime.datetime | None:
    try:
        return cd.get_existing_timestamp(str(notebook.parent))
    except Exception:
        return None


def record(course: Course, assignment_id: str, student: str, notebook: Path, result: GradingResult, cd=None) -> Path:
    """Store one graded submission the way ``nbgrader autograde`` would: student, submission, the
    autograded notebook and each graded cell's auto score. Returns the autograded notebook's path."""
    with warnings.catch_warnings():
        # nbgrader's own session warnings (SQLAlchemy autoflush), nbformat's about old cell ids: not for the TA
        warnings.simplefilter("ignore")
        return _record(course, assignment_id, student, notebook, result, cd)


def _record(course: Course, assignment_id: str, student: str, notebook: Path, result: GradingResult, cd=None) -> Path:
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
    )
    cd = cd or coursedir(course)
    with Gradebook(cd.db_url, cd.course_id) as gb:
        gb.update_or_create_student(student)
        timestamp = _timestamp(cd, Path(notebook))
        gb.update_or_create_submission(assignment_id, student, **({"timestamp": timestamp} if timestamp else {}))
    resources = {"nbgrader": {"notebook": assignment_id, "assignment": assignment_id, "student": student,
                              "db_url": cd.db_url}, "unique_key": assignment_id}
    nb = _submitted_notebook(Path(notebook), course.assignment(assignment_id).release_notebook)
    for step in (ClearOutput(), DeduplicateIds(), OverwriteKernelspec(), OverwriteCells(), CheckCellMetadata()):
        nb, resources = step.preprocess(nb, resources)
    annotate(nb, result)
    nb, resources = SaveAutoGrades().preprocess(nb, resources)
    out = Path(cd.format_path(cd.autograded_directory, student, assignment_id)) / f"{assignment_id}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    tmp.replace(out)
    return out


def record_batch(course: Course, assignment_id: str, submissions: list[tuple[str, Path]],
                 results: list[GradingResult]) -> int:
    """``record`` every graded submission of a batch; returns how many went into the gradebook."""
    cd = coursedir(course)
    for (student, notebook), result in zip(submissions, results):
        record(course, assignment_id, student, Path(notebook), result, cd)
    return len(results)


def update_after_batch(course: Course, assignment_id: str, submissions: list[tuple[str, Path]],
                       results: list[GradingResult]) -> str:
    """The batch's hook: record into the gradebook when the assignment is registered; a line for the TA."""
    try:
        if not registered(course, assignment_id):
            return (f"gradebook: {assignment_id} is not registered; run `autograder release {assignment_id}` "
                    "to grade into nbgrader's gradebook")
    except ImportError:
        return "gradebook: nbgrader is not installed here (pip install '.[staff]'); gradebook not updated"
    n = record_batch(course, assignment_id, submissions, results)
    return f"gradebook: {n} submissions recorded (formgrader, `nbgrader export`, `nbgrader generate_feedback`)"


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


__all__ = ["update_after_batch", "annotate", "cell_text", "coursedir", "gradebook_scores", "record", "record_batch",
           "registered",
           "set_manual_score"] + (["HiddenGraders"] if _Base is not object else [])

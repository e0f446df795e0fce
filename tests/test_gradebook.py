"""nbgrader's gradebook holds the hidden graders' scores, through nbgrader's own commands.

A temporary course (the hw2 source, this checkout's graders) is released, a batch of hw2 examples is
graded into its gradebook, and then nbgrader's tools are run as a TA would: ``nbgrader export``,
a manual grade that must survive a rerun of the batch, ``nbgrader generate_feedback`` and
``nbgrader autograde`` itself.
"""
from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

pytest.importorskip("nbgrader")

HW2 = "hw2_softmax_regression"
EXAMPLES = ROOT / "tests" / "submissions" / HW2
STUDENTS = ["correct_solution", "half_done", "wrong_known_mistakes"]


def make_course(folder: Path, assignment_id: str) -> Path:
    """A course folder of its own: config and source copied, graders and references linked from here."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    shutil.copytree(ROOT / "source" / assignment_id, folder / "source" / assignment_id)
    for name in ("graders", "solutions"):
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    return folder


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "is not absolute" not in done.stderr
    return done


def grader_code_lines(assignment_id: str) -> list[str]:
    """Lines of the hidden graders' code (not their docstrings, which are the claims students read)."""
    lines = []
    for path in sorted((ROOT / "graders" / assignment_id).glob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if len(text) > 30 and re.search(r"[=(]", text) and not text.startswith(("#", '"', "'")):
                lines.append(text)
    return lines


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Released, then a batch of three hw2 examples graded into the gradebook."""
    from autograder.batch import grade_batch
    from autograder.gradebook import update_after_batch
    from autograder.layout import Course
    from autograder.release import release
    root = make_course(tmp_path_factory.mktemp("course"), HW2)
    course = Course(root.resolve())
    release(course, HW2)
    submissions = [(s, EXAMPLES / f"{s}.ipynb") for s in STUDENTS]
    results = grade_batch(course, HW2, submissions, root / "build", jobs=1, device="cpu")
    note = update_after_batch(course, HW2, submissions, results)
    assert "3 submissions recorded" in note
    return course, submissions, {r.student: r for r in results}


@pytest.mark.slow
def test_does_the_gradebook_hold_every_part_score_of_the_batch(graded):
    from autograder.gradebook import gradebook_scores
    course, _, results = graded
    held = gradebook_scores(course, HW2)
    assert sorted(held) == sorted(STUDENTS)
    for student, result in results.items():
        expected = {cell: got for cell, (got, _) in result.task_scores().items()}
        assert {k: v for k, v in held[student].items() if k != "total"} == pytest.approx(expected), student
        assert held[student]["total"] == pytest.approx(result.score), student
    assert len({r.score for r in results.values()}) == 3  # the example scores differ, so the check means something


@pytest.mark.slow
def test_does_nbgrader_export_show_the_batch_scores(graded):
    course, _, results = graded
    nbgrader(course.root, "export", "--to", "grades.csv")
    rows = {row["student_id"]: row for row in csv.DictReader(open(course.root / "grades.csv", encoding="utf-8"))}
    assert {s: float(rows[s]["score"]) for s in STUDENTS} == {s: results[s].score for s in STUDENTS}


@pytest.mark.slow
def test_does_generate_feedback_show_our_messages_and_no_grader_code(graded):
    course, _, results = graded
    nbgrader(course.root, "generate_feedback", HW2)
    page = (course.root / "feedback" / "wrong_known_mistakes" / HW2 / f"{HW2}.html").read_text(encoding="utf-8")
    text = html.unescape(page)
    assert "Hidden graders:" in text
    failed = [t for t in results["wrong_known_mistakes"].tests if not t.passed]
    assert failed and all(t.name in text for t in failed)
    assert any(t.message and t.message.mistake and t.message.mistake in text for t in failed)
    leaked = [line for line in grader_code_lines(HW2) if line in text]
    assert not leaked, f"grader code in the student's feedback: {leaked[:3]}"
    for t in failed:
        assert not t.detail or t.detail not in text  # staff detail stays out


@pytest.mark.slow
def test_does_a_manual_grade_survive_a_rerun_of_the_batch(graded):
    from autograder.batch import grade_batch
    from autograder.gradebook import gradebook_scores, set_manual_score, update_after_batch
    course, submissions, results = graded
    set_manual_score(course, HW2, "half_done", "test_train_epoch", 20.0, extra_credit=2.0)
    before = gradebook_scores(course, HW2)
    again = grade_batch(course, HW2, submissions, course.root / "build", jobs=1, device="cpu", force=True)
    update_after_batch(course, HW2, submissions, again)
    after = gradebook_scores(course, HW2)
    assert after == before
    assert after["half_done"]["test_train_epoch"] == 20.0 + 2.0  # the manual score and the extra credit
    assert after["half_done"]["total"] == pytest.approx(results["half_done"].score + 20.0 + 2.0)


@pytest.mark.slow
def test_does_nbgrader_autograde_score_with_the_hidden_graders(graded):
    from autograder.gradebook import gradebook_scores
    course, _, results = graded
    target = course.root / "submitted" / "alice" / HW2 / f"{HW2}.ipynb"
    target.parent.mkdir(parents=True)
    shutil.copy(EXAMPLES / "wrong_known_mistakes.ipynb", target)
    nbgrader(course.root, "autograde", HW2, "--student", "alice", "--create")
    held = gradebook_scores(course, HW2)["alice"]
    expected = {cell: got for cell, (got, _) in results["wrong_known_mistakes"].task_scores().items()}
    assert {k: v for k, v in held.items() if k != "total"} == pytest.approx(expected)
    autograded = (course.root / "autograded" / "alice" / HW2 / f"{HW2}.ipynb").read_text(encoding="utf-8")
    assert "Hidden graders:" in autograded


@pytest.mark.slow
def test_does_the_exchange_path_reach_the_gradebook(graded, tmp_path):
    """A local course's nbgrader exchange: release, fetch, submit, collect, then `autograder batch` on submitted/."""
    from nbgrader.utils import get_username

    from autograder.gradebook import gradebook_scores
    course, _, results = graded
    exchange = f"--Exchange.root={tmp_path / 'exchange'}"
    (tmp_path / "exchange").mkdir()
    nbgrader(course.root, "release_assignment", HW2, exchange, "--force")
    home = tmp_path / "student"
    home.mkdir()
    nbgrader(home, "fetch_assignment", HW2, "--course", "d2l", exchange)
    fetched = home / HW2
    assert (fetched / f"{HW2}.ipynb").is_file() and (fetched / "forbidden.json").is_file()
    shutil.copy(EXAMPLES / "half_done.ipynb", fetched / f"{HW2}.ipynb")  # the student's work
    nbgrader(home, "submit", HW2, "--course", "d2l", exchange)
    nbgrader(course.root, "collect", HW2, exchange)
    student = get_username()
    collected = course.root / "submitted" / student / HW2
    assert (collected / f"{HW2}.ipynb").is_file() and (collected / "timestamp.txt").is_file()
    done = subprocess.run([sys.executable, "-m", "autograder", "batch", HW2, str(course.root / "submitted"),
                           "--out", str(tmp_path / "out"), "--device", "cpu", "--jobs", "1"], cwd=course.root,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "submissions recorded" in done.stdout
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / HW2 / "grades.csv", encoding="utf-8"))}
    assert float(rows[student]["score"]) == results["half_done"].score
    assert gradebook_scores(course, HW2)[student]["total"] == results["half_done"].score
    # Feedback back to the student through the same exchange (after `autograder batch`, not `nbgrader autograde`)
    nbgrader(course.root, "generate_feedback", HW2, "--student", student)
    assert (course.root / "feedback" / student / HW2 / "timestamp.txt").is_file()
    nbgrader(course.root, "release_feedback", HW2, "--student", student, exchange)
    nbgrader(home, "fetch_feedback", HW2, "--course", "d2l", exchange)
    fetched_feedback = list((home / HW2 / "feedback").glob(f"*/{HW2}.html"))
    assert fetched_feedback and "Hidden graders:" in html.unescape(fetched_feedback[0].read_text(encoding="utf-8"))


def _edited(tmp_path: Path) -> Path:
    """The correct example with its nbgrader metadata edited as a student might: a duplicate grade_id, no
    schema_version, an extra graded cell worth 1000 points."""
    import json
    nb = json.loads((EXAMPLES / "correct_solution.ipynb").read_text(encoding="utf-8"))
    graded_cells = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    graded_cells[1]["metadata"]["nbgrader"]["grade_id"] = graded_cells[0]["metadata"]["nbgrader"]["grade_id"]
    graded_cells[2]["metadata"]["nbgrader"].pop("schema_version", None)
    graded_cells[3]["metadata"]["nbgrader"]["points"] = 99
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "mine", "outputs": [], "source": "x = 1",
                        "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": "test_bonus",
                                                  "points": 1000, "locked": False}}})
    path = tmp_path / "edited.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


@pytest.mark.slow
def test_does_edited_nbgrader_metadata_change_no_score_and_stop_no_classmate(graded, grade, tmp_path):
    import copy

    from autograder.gradebook import gradebook_scores, record_batch
    course, _, results = graded
    edited = grade(HW2, _edited(tmp_path), student="aaa_editor")
    assert edited.score == results["correct_solution"].score
    classmate = copy.deepcopy(results["half_done"])
    classmate.student = "zzz_classmate"  # sorted after the editor
    recorded, notes = record_batch(course, HW2, [edited, classmate])
    assert recorded == 2 and not notes
    held = gradebook_scores(course, HW2)
    assert held["aaa_editor"]["total"] == results["correct_solution"].score
    assert "test_bonus" not in held["aaa_editor"]
    assert held["zzz_classmate"]["total"] == results["half_done"].score
    from nbgrader.api import Gradebook

    from autograder.gradebook import coursedir
    cd = coursedir(course)
    with Gradebook(cd.db_url, cd.course_id) as gb:
        assert gb.find_assignment(HW2).max_score == 100  # the release's points, whatever the edits said


@pytest.mark.slow
def test_is_a_harness_error_recorded_as_not_graded(graded):
    import copy

    from nbgrader.api import Gradebook

    from autograder.gradebook import coursedir, record_batch
    from autograder.render import grades_csv
    course, _, results = graded
    victim = copy.deepcopy(results["correct_solution"])
    victim.student = "harness_victim"
    cell = victim.tests[0].cell_id
    for t in victim.tests:
        if t.cell_id == cell:
            t.harness_error, t.passed, t.points = True, False, 0.0
    assert record_batch(course, HW2, [victim])[0] == 1
    cd = coursedir(course)
    with Gradebook(cd.db_url, cd.course_id) as gb:
        grade = gb.find_grade(cell, HW2, HW2, "harness_victim")
        assert grade.auto_score is None and grade.needs_manual_grade
    row = next(csv.DictReader(grades_csv([victim]).splitlines()))
    assert row["score"] == "" and row[cell] == "not graded"


@pytest.mark.slow
def test_is_a_formgrader_override_in_every_output(graded, capsys):
    from autograder.cli import main
    from autograder.gradebook import set_manual_score
    course, submissions, results = graded
    student = "wrong_known_mistakes"
    cell = next(c for c, (got, most) in results[student].task_scores().items() if got < most)
    before = results[student].final_score
    got, most = results[student].task_scores()[cell]
    set_manual_score(course, HW2, student, cell, most)  # a TA's regrade in formgrader
    expected = before - got + most
    out = course.root / "build"
    args = ["--course-root", str(course.root)]
    assert main(["batch", HW2, *[str(p) for _, p in submissions], "--out", str(out), "--device", "cpu", *args]) == 0
    printed = capsys.readouterr()
    assert "grading" not in printed.err  # nothing regraded: the saved results were reused
    rows = {r["student"]: r for r in csv.DictReader(open(out / HW2 / "grades.csv", encoding="utf-8"))}
    assert float(rows[student]["score"]) == expected and float(rows[student][cell]) == most
    assert f"**Score: {expected:g} / 100**" in (out / HW2 / student / "feedback.md").read_text(encoding="utf-8")
    assert f"{expected:g}" in printed.out  # the batch summary
    assert main(["canvas", HW2, str(out), *args]) == 0
    canvas = list(csv.reader(open(out / HW2 / "canvas.csv", encoding="utf-8")))
    assert [r[-1] for r in canvas if r[0] == student] == [f"{expected:g}"]

"""Intake trusts nothing: links, malformed notebooks, the master notebook, another assignment's notebook.

Each failure a student or an LMS download can produce is graded 0 with a message naming what is wrong
(never a crash), and the ones staff must know about are flagged on the result. A fuzz test (hypothesis)
feeds the reader and the grade path JSON that is almost a notebook.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.batch import find_submissions, grade_batch
from autograder.errors import NotebookError
from autograder.gradescope import build_bundle
from autograder.intake import screen
from autograder.notebook import code_to_run, parse_notebook, tampering_signs
from helpers import ROOT

HW1, HW5 = "hw1_linear_regression", "hw5_cnn"
EXAMPLES = ROOT / "tests" / "submissions" / HW1
MASTER = ROOT / "source" / HW1 / f"{HW1}.ipynb"
STUB = ROOT / "release" / HW1 / f"{HW1}.ipynb"


def _nb(cells, **top) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells, **top})


DEEP = '{"nbformat": 4, "metadata": {}, "cells": [' + "[" * 100_000 + "]" * 100_000 + "]}"
MALFORMED = {
    "nested_100000_deep": (DEEP, "nested far too deep"),
    "nested_200_deep": ('{"nbformat": 4, "cells": [], "metadata": {"a": ' + "[" * 200 + "]" * 200 + "}}",
                        "nests more than 64 levels"),
    "source_of_numbers": (_nb([{"cell_type": "code", "metadata": {}, "source": [1, 2], "outputs": []}]),
                          'cell 1\'s "source" holds a number (1), not text'),
    "notebook_metadata_a_list": (_nb([], metadata=[]), '"metadata" is a list, not an object'),
    "cell_metadata_a_list": (_nb([{"cell_type": "code", "metadata": [], "source": "x = 1", "outputs": []}]),
                             'cell 1\'s "metadata" is a list'),
    "nbformat_a_string": (_nb([], nbformat="4"), '"nbformat" is text ("4"), not the number 4'),
    "nbgrader_metadata_a_string": (_nb([{"cell_type": "code", "metadata": {"nbgrader": "x"}, "source": ""}]),
                                   "nbgrader metadata is text"),
    "tags_a_string": (_nb([{"cell_type": "code", "metadata": {"tags": "demo"}, "source": ""}]),
                      '"tags" are not a list of texts'),
    "unknown_cell_type": (_nb([{"cell_type": 7, "metadata": {}, "source": ""}]), '"cell_type" is 7'),
    "empty_file": ("", "is empty (0 bytes)"),
    "only_whitespace": ("  \n", "is empty (3 bytes)"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_is_a_malformed_notebook_graded_zero_with_a_message_naming_the_problem(grade, tmp_path, name):
    content, says = MALFORMED[name]
    path = tmp_path / f"{name}.ipynb"
    path.write_text(content, encoding="utf-8")
    result = grade(HW1, path)
    assert result.score == 0 and not result.harness_errors
    assert any(says in n for n in result.notices), result.notices
    assert all(says in t.message.comparison for t in result.tests)


def test_does_autograder_grade_write_zero_for_a_deeply_nested_notebook(tmp_path):
    path = tmp_path / "deep.ipynb"
    path.write_text(DEEP)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", HW1, str(path), "--results",
                           str(tmp_path / "r.json"), "--device", "cpu"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["score"] == 0 and "nested far too deep" in results["output"]


# ----- links and the master notebook ----------------------------------------------------------------------
def _submitted(tmp_path, student: str) -> os.PathLike:
    folder = tmp_path / "submitted" / student / HW1
    folder.mkdir(parents=True)
    return folder / f"{HW1}.ipynb"


def test_are_links_refused_and_the_master_notebook_flagged_in_a_batch(tmp_path, course):
    os.symlink(MASTER, _submitted(tmp_path, "linker"))  # as `unzip` restores a symlink entry
    os.link(shutil.copy(MASTER, tmp_path / "master-copy.ipynb"), _submitted(tmp_path, "hardlinker"))
    shutil.copy(MASTER, _submitted(tmp_path, "copier"))  # the master notebook itself, byte for byte
    resaved = json.loads(MASTER.read_text())
    resaved["metadata"]["edited"] = True  # re-saved by Jupyter: other bytes, solution markers still there
    _submitted(tmp_path, "resaver").write_text(json.dumps(resaved))
    (tmp_path / "submitted" / "dirlinker").mkdir()
    os.symlink(MASTER.parent, tmp_path / "submitted" / "dirlinker" / HW1)  # a linked assignment folder
    shutil.copy(STUB, _submitted(tmp_path, "honest"))
    submissions = find_submissions(HW1, [tmp_path / "submitted"])
    results = {r.student: r for r in grade_batch(course, HW1, submissions, tmp_path / "out", jobs=1, device="cpu")}
    assert {s: r.score for s, r in results.items()} == {s: 0 for s in
                                                         ("copier", "dirlinker", "hardlinker", "honest", "linker",
                                                          "resaver")}
    assert "symbolic link" in results["linker"].notices[0]
    assert "symbolic link" in results["dirlinker"].notices[0]
    assert "hard link" in results["hardlinker"].notices[0]
    assert results["copier"].refused and "byte for byte" in results["copier"].flags[0]
    assert results["resaver"].refused and "solution markers" in results["resaver"].flags[0]
    assert not results["honest"].refused and not results["honest"].flags
    autograded = tmp_path / "out" / HW1 / "copier" / "feedback.md"
    assert "BEGIN SOLUTION" not in autograded.read_text() and "staff were told" in autograded.read_text()
    student_view = json.loads((tmp_path / "out" / HW1 / "copier" / "results.json").read_text())
    assert "byte for byte" not in json.dumps(student_view)  # the flag is for staff


def test_does_the_gradescope_bundle_refuse_the_master_notebook_without_shipping_it(tmp_path, course):
    bundle = build_bundle(course, HW1, tmp_path / "hw1.zip")
    shutil.unpack_archive(bundle, tmp_path / "source")
    assert not list((tmp_path / "source").rglob("source/*/*.ipynb"))
    from autograder.layout import Course
    shipped = Course.find(tmp_path / "source" / "course_root").assignment(HW1)
    (tmp_path / "submission").mkdir()
    upload = tmp_path / "submission" / f"{HW1}.ipynb"
    shutil.copy(MASTER, upload)
    assert "byte for byte" in screen(shipped, upload, tmp_path / "submission")
    upload.unlink()
    os.symlink(EXAMPLES / "correct_solution.ipynb", upload)
    assert "symbolic link" in screen(shipped, upload, tmp_path / "submission")


# ----- another assignment's notebook -------------------------------------------------------------------
def test_is_another_assignments_notebook_named_once(grade):
    result = grade(HW5, EXAMPLES / "correct_solution.ipynb")
    assert result.score == 0 and not result.harness_errors
    assert any("this looks like hw1_linear_regression" in n for n in result.notices), result.notices
    assert all("this looks like hw1_linear_regression" in t.message.comparison for t in result.tests)


def test_does_a_missing_folder_say_so(tmp_path, capsys):
    from autograder.cli import main
    assert main(["batch", HW1, str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), "--course-root",
                 str(ROOT)]) == 2
    assert "no such file or folder" in capsys.readouterr().err


# ----- fuzz ----------------------------------------------------------------------------------------------
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4),
                     max_leaves=12)
_source = st.one_of(st.text(max_size=60), st.lists(st.text(max_size=30), max_size=4), _json)
_cell = st.one_of(_json, st.fixed_dictionaries({
    "cell_type": st.sampled_from(["code", "markdown", "raw", "heading", 3]),
    "source": _source,
    "metadata": st.one_of(st.fixed_dictionaries({}, optional={
        "tags": st.one_of(st.lists(st.sampled_from(["demo", "x"])), _json),
        "nbgrader": st.one_of(_json, st.fixed_dictionaries({}, optional={
            "grade": _json, "solution": _json, "grade_id": _json, "points": _json, "schema_version": _json}))}),
        _json),
    "outputs": _json}))
_notebook = st.one_of(_json, st.fixed_dictionaries({"cells": st.lists(_cell, max_size=5)}, optional={
    "nbformat": st.one_of(st.just(4), _json), "nbformat_minor": _json, "metadata": _json}))


@settings(max_examples=300, deadline=None)
@given(_notebook)
def test_does_no_almost_notebook_crash_the_reader(nb):
    try:
        cells = code_to_run(parse_notebook(json.dumps(nb).encode(), "fuzz.ipynb"))
    except NotebookError as exc:
        assert "fuzz.ipynb" in str(exc)
        return
    tampering_signs(cells)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_notebook)
def test_does_no_almost_notebook_crash_the_grade_path(grade, tmp_path, nb):
    path = tmp_path / "fuzz.ipynb"
    path.write_text(json.dumps(nb))
    result = grade(HW1, path, tasks=["squared_loss"], intake=tmp_path)
    assert result.score == 0 and not result.harness_errors


def test_does_a_harness_from_another_checkout_stop_the_start_with_a_reason(tmp_path, capsys):
    """A venv whose editable install points at another checkout: refused at start, saying which is which."""
    from autograder.cli import main
    other = tmp_path / "other-checkout"
    shutil.copy(ROOT / "nbgrader_config.py", other.mkdir() or other)
    (other / "graders").mkdir()
    (other / "autograder").mkdir()
    (other / "autograder" / "__init__.py").write_text("")
    assert main(["list", "--course-root", str(other)]) == 2
    err = capsys.readouterr().err
    assert "not this course's" in err and str(other / "autograder") in err


def test_is_a_harness_error_shown_as_not_graded_on_the_progress_line():
    import io

    from autograder.progress import Progress
    stream = io.StringIO()
    progress = Progress(1, stream=stream)
    progress.done("ada", 0, 100, 1.0, status="NOT GRADED (harness error: test_linreg)")
    assert "[1/1] ada NOT GRADED (harness error: test_linreg)" in stream.getvalue()
    assert "0/100" not in stream.getvalue()

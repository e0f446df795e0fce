"""results.py, render.py, writers.py: Gradescope's results.json, the student's feedback, the gradebook CSV; no
worker needed."""
from __future__ import annotations

import csv
import json

from autograder.render import feedback_markdown, gradescope_results, terminal_summary
from autograder.results import GradingResult, Message
from autograder.results import TestResult as Check  # not collected as a test class
from autograder.writers import write_grades_csv, write_result_files


def result(student: str = "ada") -> GradingResult:
    wrong = Message("linreg(X, w, b) equals X @ w + b", "X = tensor(5, 3) float32 on cpu", "expected 1, got 2",
                    "add the bias", "the bias b is not added")
    return GradingResult("hw1_linear_regression", "nb.ipynb", student=student, seed=7, notices=["cell 3 raised"],
                         tests=[
        Check("a", "linreg", "test_linreg", "Is linreg right?", 0, 5, False, 11, message=wrong,
                   detail="Traceback: instructor only"),
        Check("b", "sgd", "test_sgd", "Does sgd step?", 10, 10, True, 12),
        Check("c", "sgd", "test_sgd", "Does sgd zero the grads?", 0, 5, False, 13, harness_error=True,
                   message=Message("the graders for this part ran")),
    ])


def test_is_the_score_the_sum_of_the_tests_points():
    r = result()
    assert r.score == 10 and [t.id for t in r.harness_errors] == ["c"]
    assert r.task_scores() == {"test_linreg": (0, 5), "test_sgd": (10, 15)}


def test_does_results_json_have_gradescopes_shape_and_nothing_instructor_only():
    data = gradescope_results(result(), per_check=True)
    assert data["score"] == 10 and data["visibility"] == "visible"
    assert len(data["tests"]) == 3
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility", "number"} <= set(test)
    first = data["tests"][0]
    assert first["status"] == "failed" and first["name"] == "linreg: Is linreg right?"
    assert "Likely mistake: the bias b is not added" in first["output"]
    assert "Replay" not in json.dumps(data) and "autograder grade" not in json.dumps(data)  # staff detail
    assert "Traceback" not in json.dumps(data)
    assert "cell 3 raised" in data["output"]


def test_does_results_json_have_one_row_per_graded_part_by_default():
    data = gradescope_results(result())
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in data["tests"]] == [
        ("linreg", 0, 5, "failed"), ("sgd", 10, 15, "failed")]
    linreg = data["tests"][0]["output"]
    assert "[FAIL] Is linreg right?" in linreg and "Likely mistake: the bias b is not added" in linreg
    assert "Traceback" not in json.dumps(data)


def test_does_a_result_survive_its_round_trip():
    r = result()
    again = GradingResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again.score == r.score and again.tests[0].message == r.tests[0].message


def test_does_the_feedback_group_by_part_and_explain_failures():
    text = feedback_markdown(result())
    assert "**Score: 10 / 100**" in text and "> cell 3 raised" in text
    assert "## `linreg`: 0 / 5" in text and "## `sgd`: 10 / 15" in text
    assert "- **FAIL** Is linreg right? (0/5)" in text and "- **PASS** Does sgd step? (10/10)" in text
    for part in ("Checked: linreg(X, w, b) equals X @ w + b", "Input: X = tensor(5, 3)", "Result: expected 1, got 2",
                 "Likely mistake: the bias b is not added", "Try: add the bias"):
        assert part in text
    assert "Traceback" not in text


def test_does_the_terminal_show_instructor_detail_only_when_verbose():
    assert "Traceback" not in terminal_summary(result())
    assert "[instructor] Traceback" in terminal_summary(result(), verbose=True)
    assert "ERR " in terminal_summary(result())


def test_does_write_result_files_write_each_file(tmp_path):
    r = result()
    r.attachments["curve.png"] = b"png"
    write_result_files(r, results_json=tmp_path / "results.json", feedback=tmp_path / "feedback.md",
                  record=tmp_path / "result.json")
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 10
    assert "![curve.png](curve.png)" in (tmp_path / "feedback.md").read_text()
    assert (tmp_path / "curve.png").read_bytes() == b"png"
    assert json.loads((tmp_path / "result.json").read_text())["attachments"] == ["curve.png"]


def test_does_the_gradebook_have_one_row_per_student_and_one_column_per_cell(tmp_path):
    other = result("grace")
    other.tests = other.tests[1:2]
    write_grades_csv(tmp_path / "grades.csv", [result(), other])
    rows = list(csv.reader((tmp_path / "grades.csv").open()))
    assert rows[0] == ["student", "assignment", "score", "max_score", "test_linreg", "test_sgd"]
    # ada's test_sgd has a harness error: no grade for that part, and no final score (an LMS imports no 0)
    assert rows[1] == ["ada", "hw1_linear_regression", "", "100", "0", "not graded"]
    assert rows[2] == ["grace", "hw1_linear_regression", "10", "100", "0", "10"]

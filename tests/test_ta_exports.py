"""TAs' and instructors' outputs without a worker: one notebook per student, late penalties, grouped feedback
and its HTML, Canvas's CSV, the class report and the similarity of submissions."""
from __future__ import annotations

import csv
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from autograder.batch import find_submissions
from autograder.class_report import build_class_report
from autograder.exports import load_graded, write_canvas_csv
from autograder.intake import LatePolicy, one_per_student, parse_time
from autograder.render import feedback_html, feedback_markdown, gradescope_results, terminal_summary
from autograder.results import GradingResult, Message
from autograder.results import TestResult as Check  # not collected as a test class
from autograder.similarity import compare, normalise, notebook_code
from autograder.writers import write_grades_csv, write_result_files
from helpers import ROOT

HW1 = "hw1_linear_regression"
NOT_DONE = Message("", comparison="sgd is not implemented yet (it raises NotImplementedError)",
                   hint="replace `raise NotImplementedError()` in sgd with your code")


def _result(student="ada", late=False) -> GradingResult:
    tests = [Check(f"t{i}", "sgd", "test_sgd", f"Does sgd do thing {i}?", 0, 5, False, 100 + i,
                   message=Message(f"Does sgd do thing {i}?", "", NOT_DONE.comparison, NOT_DONE.hint))
             for i in range(8)]
    tests.append(Check("w", "linreg", "test_linreg", "Is linreg right?", 0, 10, False, 7, message=Message(
        "linreg", "X = tensor(2, 2) float32 on cpu = [[1.0, 2.0], [3.0, 4.0]]", "expected 1, got 2", "add b",
        "the bias b is not added")))
    tests.append(Check("p", "linreg", "test_linreg", "Is it fast?", 50, 50, True, 8))
    r = GradingResult(HW1, "nb.ipynb", tests, 100, 0, student=student, protections=["separate worker process"])
    if late:
        r.submitted, r.due = "2026-03-02T10:00:00+00:00", "2026-03-01T00:00:00+00:00"
        r.days_late, r.late_penalty = 2, 20
    return r


def test_does_the_feedback_show_eight_identical_failures_once_with_every_claim_and_seed():
    text = feedback_markdown(_result())
    assert text.count("not implemented yet") == 1 and "8 checks, the same failure (0/40)" in text
    assert all(f"Does sgd do thing {i}?" in text for i in range(8))
    assert "- **FAIL** Is linreg right? (0/10)" in text
    assert "= [[1.0, 2.0], [3.0, 4.0]]" in text
    assert "Replay" not in text and "seed" not in text and "autograder grade" not in text  # staff detail only
    staff = terminal_summary(_result(), verbose=True)
    assert "Replay: seed 7" in staff and "Replay: seed 100" in staff
    assert "Replay" not in terminal_summary(_result())


def test_are_failures_naming_the_same_mistake_shown_once_with_the_first_as_an_example():
    r = _result()
    twin = Message("linreg", "X = tensor(3,)", "expected 5, got 6", "reshape b", "the bias b is not added")
    r.tests.insert(9, Check("w2", "linreg", "test_linreg", "Is it right in float64?", 0, 10, False, 9, message=twin))
    text = feedback_markdown(r)
    assert "2 checks, the same mistake (0/20)" in text and text.count("Likely mistake: the bias b is not added") == 1
    assert "For example, the first of them:" in text and "Try: add b; reshape b" in text
    assert "expected 1, got 2" in text and "Replay" not in text


def test_is_the_feedback_html_one_page_with_its_attachments_embedded(tmp_path):
    r = _result()
    r.attachments["curve.png"] = b"\x89PNG fake"
    write_result_files(r, feedback=tmp_path / "feedback.md")
    page = (tmp_path / "feedback.html").read_text()
    assert "data:image/png;base64," in page and page.count("not implemented yet") == 1
    assert "Likely mistake: the bias b is not added" in page and "<script" not in page
    r.tests[0].message.comparison = "<script>alert(1)</script>"
    assert "<script>alert" not in feedback_html(r)  # student-controlled text is escaped


def test_do_two_notebooks_in_one_folder_give_one_row_and_a_warning(tmp_path):
    folder = tmp_path / "submitted" / "ann" / HW1
    folder.mkdir(parents=True)
    for name in ("copy.ipynb", f"{HW1}.ipynb", "zzz.ipynb"):
        (folder / name).write_text("{}")
    os.utime(folder / "zzz.ipynb", (2e9, 2e9))
    warnings = []
    found = one_per_student(HW1, find_submissions(HW1, [tmp_path / "submitted"]), warnings.append)
    assert found == [("ann", folder / f"{HW1}.ipynb")]
    assert "ann submitted 3 notebooks" in warnings[0] and f"named {HW1}.ipynb" in warnings[0]
    (folder / f"{HW1}.ipynb").unlink()
    found = one_per_student(HW1, find_submissions(HW1, [tmp_path / "submitted"]), warnings.append)
    assert found == [("ann", folder / "zzz.ipynb")] and "most recently modified" in warnings[1]


def test_are_late_penalties_per_started_day_from_nbgraders_timestamp(tmp_path):
    (tmp_path / "d2lcourse.toml").write_text(f'[due]\n{HW1} = "2026-03-01T23:59:00+08:00"\n'
                                             '[late]\npenalty_per_day = 10\ngrace_minutes = 5\nmax_penalty = 30\n')
    policy = LatePolicy.load(tmp_path, HW1)
    assert policy.due == datetime(2026, 3, 1, 15, 59, tzinfo=timezone.utc)
    assert parse_time("2026-03-01 16:03:00.123456 UTC") == datetime(2026, 3, 1, 16, 3, 0, 123456, tzinfo=timezone.utc)
    assert policy.penalty(parse_time("2026-03-01 16:03:00 UTC"), 100) == (0, 0)  # within the grace
    assert policy.penalty(parse_time("2026-03-01 16:05:00 UTC"), 100) == (1, 10)
    assert policy.penalty(parse_time("2026-03-03 16:00:00 UTC"), 100) == (3, 30)
    assert policy.penalty(parse_time("2026-03-09 16:00:00 UTC"), 50) == (9, 15)  # capped at 30 %
    assert LatePolicy.load(tmp_path, "hw2_softmax_regression").penalty(parse_time("2030-01-01"), 100) == (0, 0)
    nb = tmp_path / "submitted" / "ann" / HW1 / f"{HW1}.ipynb"
    nb.parent.mkdir(parents=True)
    (nb.parent / "timestamp.txt").write_text("2026-03-02 16:00:00.000000 UTC")
    r = _result()
    policy.apply(r, nb)
    assert (r.days_late, r.late_penalty, r.final_score) == (2, 20, 30)
    assert gradescope_results(r)["score"] == 30 and gradescope_results(r)["extra_data"]["late"]["penalty"] == 20
    assert "late penalty -20 points" in feedback_markdown(r)
    write_grades_csv(tmp_path / "grades.csv", [r])
    rows = list(csv.reader((tmp_path / "grades.csv").open()))
    assert rows[0][-2:] == ["late_penalty", "submitted"] and rows[1][2] == "30" and rows[1][-2] == "20"


def _graded_folder(tmp_path: Path) -> Path:
    out = tmp_path / "graded"
    for student, late in (("ann", False), ("ben", True)):
        r = _result(student, late)
        write_result_files(r, results_json=out / HW1 / student / "results.json", feedback=out / HW1 / student / "f.md",
                      record=out / HW1 / student / "result.json", record_extra={"seed": 0})
    return out


def test_is_the_canvas_csv_in_canvas_import_format_matched_through_the_roster(tmp_path):
    results = load_graded(_graded_folder(tmp_path), HW1)
    assert [(r.student, r.final_score) for r in results] == [("ann", 50), ("ben", 30)]
    roster = [{"Student": "Lee, Ann", "ID": "1001", "SIS User ID": "u1", "SIS Login ID": "ann", "Section": "A"}]
    unmatched = write_canvas_csv(tmp_path / "canvas.csv", results, "HW1 (4242)", roster)
    rows = list(csv.reader((tmp_path / "canvas.csv").open()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW1 (4242)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "100"]
    assert rows[2] == ["Lee, Ann", "1001", "u1", "ann", "A", "50"] and unmatched == ["ben"]
    write_canvas_csv(tmp_path / "plain.csv", results, HW1)
    assert list(csv.reader((tmp_path / "plain.csv").open()))[3] == ["ben", "", "", "ben", "", "30"]


def test_does_normalised_code_ignore_names_comments_and_docstrings():
    a = 'def f(x, w):\n    """Docstring."""\n    # mine\n    return x @ w + 1.0\n'
    b = "def g(inputs, weights):\n    return inputs @ weights + 2.5  # theirs\n"
    assert [t for t, _ in normalise(a)] == [t for t, _ in normalise(b)]


def test_does_the_report_plot_the_class_and_find_the_copied_pair(tmp_path):
    out = _graded_folder(tmp_path)
    copied = ("def sgd(params, lr, batch_size):\n    with torch.no_grad():\n        norms = []\n"
              "        for i, p in enumerate(params):\n            if p.grad is None:\n                continue\n"
              "            g = p.grad.clone() / max(batch_size, 1)\n            norms.append(float(g.norm()))\n"
              "            if len(norms) > 3 and norms[-1] > 10 * sum(norms[:-1]) / (len(norms) - 1):\n"
              "                g = g * (sum(norms) / len(norms)) / norms[-1]\n"
              "            p.data.sub_(lr * g)\n            p.grad.zero_()\n"
              "        return {'steps': i + 1, 'norms': norms}\n")
    renamed = copied.replace("params", "ps").replace("lr", "rate") + "# my own work\n"
    other = "def sgd(params, lr, batch_size):\n    with torch.no_grad():\n        for p in params:\n" \
            "            p -= lr * p.grad / batch_size\n            p.grad.zero_()\n"
    codes = {"ann": copied, "ben": renamed, "cat": other}
    pairs = compare(codes).pairs
    assert [(p.a.student, p.b.student) for p in pairs] == [("ann", "ben")] and pairs[0].similarity > 0.9
    for student, code in codes.items():  # notebooks for the report
        nb = {"cells": [{"cell_type": "code", "source": code, "metadata": {"nbgrader": {"solution": True}}}]}
        path = tmp_path / f"{student}.ipynb"
        path.write_text(json.dumps(nb))
        assert notebook_code(path).text == code.rstrip("\n")
        record = out / HW1 / student / "result.json"
        if record.exists():
            data = json.loads(record.read_text())
            data["submission"] = str(path)
            record.write_text(json.dumps(data))
    from autograder.layout import Course
    page = build_class_report(Course.find(ROOT), HW1, out)
    assert page.count("data:image/png;base64,") == 4  # grades, pass rates, mistakes, grading time
    assert "<td>linreg: the bias b is not added</td><td>2</td>" in page
    assert "separate worker process" in page and "ann and ben" in page and "class='shared'" in page


@pytest.mark.parametrize("bad", ["", "{", '{"cells": 3}'])
def test_does_an_unreadable_notebook_give_no_code_not_a_crash(tmp_path, bad):
    (tmp_path / "x.ipynb").write_text(bad)
    assert notebook_code(tmp_path / "x.ipynb").text == ""


def test_is_a_saved_result_with_a_harness_error_graded_again_on_a_rerun(tmp_path):
    from autograder.batch import _done_before
    r = _result()
    write_result_files(r, record=tmp_path / "result.json", record_extra={"seed": 0})
    assert _done_before(tmp_path, {"seed": 0}) is not None
    r.tests[0].harness_error = True
    write_result_files(r, record=tmp_path / "result.json", record_extra={"seed": 0})
    assert _done_before(tmp_path, {"seed": 0}) is None


def test_is_a_problem_with_the_whole_notebook_said_once_not_once_per_part():
    """An unreadable notebook fails every part alike: the feedback says why once, and each part points there."""
    why = Message("the notebook can be read", comparison="the file is not JSON (line 3)", hint="fix the file")
    tests = [Check(f"t{i}", task, f"test_{task}", "the notebook can be read", 0, 10, False, i, message=why)
             for i, task in enumerate(["linreg", "sgd", "squared_loss"])]
    r = GradingResult(HW1, "nb.ipynb", tests, 30, 0, notices=["the file is not JSON (line 3)"])
    for text in (feedback_markdown(r), feedback_html(r), json.dumps(gradescope_results(r))):
        assert text.count("the file is not JSON (line 3)") == 1, text
        assert text.count("not graded: see the problem with the whole notebook") == 3, text


def _due_ten_days_ago(tmp_path: Path, exchange: Path | None = None) -> LatePolicy:
    due = (datetime.now(timezone.utc) - timedelta(days=10, hours=-1)).isoformat()  # 9 days 23 h ago: 10 days late
    extra = f'exchange = "{exchange}"\n' if exchange else ""
    (tmp_path / "d2lcourse.toml").write_text(f'[due]\n{HW1} = "{due}"\n[late]\npenalty_per_day = 10\n{extra}')
    return LatePolicy.load(tmp_path, HW1)


def _collected(tmp_path: Path, student: str, stamp: str | None) -> Path:
    nb = tmp_path / "submitted" / student / HW1 / f"{HW1}.ipynb"
    nb.parent.mkdir(parents=True)
    nb.write_text("{}")
    if stamp is not None:
        (nb.parent / "timestamp.txt").write_text(stamp)
    return nb


def test_is_a_back_dated_timestamp_caught_by_the_exchanges_time_and_flagged(tmp_path):
    exchange = tmp_path / "exchange"
    forged = (datetime.now(timezone.utc) - timedelta(days=20)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    (exchange / "d2l" / "inbound" / f"mallory+{HW1}+{forged}+abc").mkdir(parents=True)  # made now, by submit
    policy = _due_ten_days_ago(tmp_path, exchange)
    r = _result("mallory")
    policy.apply(r, _collected(tmp_path, "mallory", forged))
    assert r.days_late == 10 and r.late_penalty == 100  # the honest 10-days-late score, not 100
    assert any("the exchange received it" in f for f in r.flags)
    assert "exchange" not in feedback_markdown(r).split("Late:")[0]  # staff flags stay out of the feedback


@pytest.mark.parametrize("stamp, flag", [(None, "no timestamp.txt"), ("yesterday-ish", "unreadable"),
                                         ("2099-01-01 00:00:00 UTC", "after the file was collected")])
def test_is_a_missing_unreadable_or_future_timestamp_flagged_and_judged_by_the_collection_time(tmp_path, stamp, flag):
    policy = _due_ten_days_ago(tmp_path)
    r = _result("sam")
    policy.apply(r, _collected(tmp_path, "sam", stamp))
    assert any(flag in f for f in r.flags), r.flags
    assert r.days_late == 10 and r.late_penalty == 100  # collected just now: late by the evidence, never "on time"
    assert r.submitted


def _stamp(days_ago: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def test_is_a_time_before_the_release_flagged_with_the_exchanges_outbound_folder_as_its_source(tmp_path):
    """No inbound folder to catch it: timestamp.txt back-dated 20 days, before the release the exchange saw
    (its outbound folder, made now), would be on time; it is flagged, and the flag names the source."""
    exchange = tmp_path / "exchange"
    (exchange / "d2l" / "outbound" / HW1).mkdir(parents=True)  # nbgrader release_assignment, now
    policy = _due_ten_days_ago(tmp_path, exchange)
    assert policy.release is not None and "outbound" in policy.release.source
    r = _result("mallory")
    policy.apply(r, _collected(tmp_path, "mallory", _stamp(20)))
    early = [f for f in r.flags if "before the assignment's release" in f]
    assert early and "the exchange's outbound folder" in early[0] and str(exchange / "d2l" / "outbound") in early[0]
    honest = _result("sam")
    policy.apply(honest, _collected(tmp_path, "sam", _stamp(0)))  # after the release: nothing to say about it
    assert not [f for f in honest.flags if "release" in f]


def test_is_a_time_before_the_release_flagged_from_the_courses_setting_without_an_exchange(tmp_path):
    due = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    released = (datetime.now(timezone.utc) - timedelta(days=8)).isoformat()
    (tmp_path / "d2lcourse.toml").write_text(f'[due]\n{HW1} = "{due}"\n[release]\n{HW1} = "{released}"\n')
    policy = LatePolicy.load(tmp_path, HW1)
    r = _result("mallory")
    policy.apply(r, _collected(tmp_path, "mallory", _stamp(30)))
    assert r.late_penalty == 0  # the score is the stamp's: staff decide, the flag makes them look
    assert any("before the assignment's release" in f and "[release] in d2lcourse.toml" in f for f in r.flags), r.flags
    assert "release" not in feedback_markdown(r)  # staff's, not the student's


def test_does_an_earlier_release_setting_win_over_a_re_released_outbound_folder(tmp_path):
    """release_assignment --force remakes the outbound folder: submissions before it were honest."""
    exchange = tmp_path / "exchange"
    (exchange / "d2l" / "outbound" / HW1).mkdir(parents=True)  # re-released now
    released = (datetime.now(timezone.utc) - timedelta(days=15)).isoformat()
    (tmp_path / "d2lcourse.toml").write_text(f'[due]\n{HW1} = "{released}"\n[release]\n{HW1} = "{released}"\n'
                                             f'[late]\nexchange = "{exchange}"\n')
    policy = LatePolicy.load(tmp_path, HW1)
    assert policy.release is not None and "re-released?" in policy.release.source
    r = _result("ann")
    policy.apply(r, _collected(tmp_path, "ann", _stamp(5)))  # after the first release, before the second
    assert not [f for f in r.flags if "before the assignment's release" in f]
    with pytest.raises(Exception, match=r"\[release\]"):
        (tmp_path / "d2lcourse.toml").write_text(f'[release]\n{HW1} = "soon"\n')
        LatePolicy.load(tmp_path, HW1)

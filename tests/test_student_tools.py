"""What a student runs before submitting: ``python -m d2lcourse validate``, and the data messages.

validate runs the notebook in a fresh Python process and reports each public test cell's verdict (PASS,
FAILED, NOT DONE, FORBIDDEN: d2lcourse.publictest), then reads the code for calls the contract forbids, from
``release/<id>/forbidden.json`` (names only, written by ``autograder release``). The toolbar's Validate
(nbgrader's Validator, set up by nbgrader_config.py) runs the same.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, assignment_ids

HW2 = "hw2_softmax_regression"
EXAMPLES = ROOT / "tests" / "submissions" / HW2
FORBIDDEN_SOFTMAX = ("import torch.nn.functional as F\nfrom torch import log_softmax as lsm\n\n"
                     "def softmax(X):\n    return F.softmax(X, dim=1)\n")


def with_forbidden_softmax(example: str, target: Path) -> Path:
    """An hw2 example whose softmax calls F.softmax, and whose notebook binds log_softmax to another name."""
    nb = json.loads((EXAMPLES / f"{example}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and source.startswith("def softmax("):
            cell["source"] = FORBIDDEN_SOFTMAX
            break
    else:
        raise AssertionError("no softmax cell in the example")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(nb), encoding="utf-8")
    shutil.copy(ROOT / "release" / HW2 / "forbidden.json", target.parent)
    return target


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_does_the_release_carry_the_forbidden_names_and_nothing_else(assignment_id):
    from autograder.layout import Course
    path = ROOT / "release" / assignment_id / "forbidden.json"
    assert path.is_file(), f"{path} is missing: run `autograder release {assignment_id}` and commit it"
    data = json.loads(path.read_text(encoding="utf-8"))
    course = Course.find(ROOT)
    assert data["assignment"] == assignment_id
    assert data["forbidden"] == {k: list(v) for k, v in course.assignment(assignment_id).forbidden.items()}, \
        f"{path} is out of date: run `autograder release {assignment_id}`"
    assert set(data) == {"assignment", "about", "forbidden"}
    names = [n for ns in data["forbidden"].values() for n in ns]
    assert all(isinstance(n, str) and "(" not in n and "\n" not in n for n in names)


def test_does_the_reading_name_forbidden_calls_and_their_aliases(tmp_path):
    from d2lcourse.submission_check import check_submission
    findings = check_submission(with_forbidden_softmax("correct_solution", tmp_path / "nb.ipynb"), run=False)
    assert any(w.startswith("`softmax` uses `F.softmax`") for w in findings.warnings), findings.warnings
    clean = tmp_path / "clean" / "nb.ipynb"
    clean.parent.mkdir()
    shutil.copy(EXAMPLES / "correct_solution.ipynb", clean)
    shutil.copy(ROOT / "release" / HW2 / "forbidden.json", clean.parent)
    assert check_submission(clean, run=False).warnings == []


def test_does_the_reading_follow_a_name_bound_elsewhere(tmp_path):
    from d2lcourse.submission_check import scan_forbidden
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "import torch\nsm = torch.softmax\n"},
                    {"cell_type": "code", "metadata": {}, "source": "def softmax(X):\n    return sm(X, 1)\n"}]}
    found = scan_forbidden(nb, {"softmax": ["torch.softmax"]})
    assert len(found) == 1 and "`sm` (= `torch.softmax`)" in found[0]


def test_is_a_missing_forbidden_list_said_not_hidden(tmp_path):
    from d2lcourse.submission_check import check_submission
    shutil.copy(EXAMPLES / "correct_solution.ipynb", tmp_path / "nb.ipynb")
    findings = check_submission(tmp_path / "nb.ipynb", run=False)
    assert findings.warnings == [] and any("forbidden-call reading was skipped" in n for n in findings.notes)


@pytest.mark.slow
def test_do_validate_and_the_toolbars_validate_give_the_same_verdicts(tmp_path, monkeypatch):
    """F.softmax inside softmax: FORBIDDEN (never a pass) in both; the known mistake in accuracy: FAILED with
    what it got; the same verdict text in `python -m d2lcourse validate` and in nbgrader's Validator."""
    pytest.importorskip("nbgrader")
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path / "no-data"))
    notebook = with_forbidden_softmax("wrong_known_mistakes", tmp_path / "hw" / f"{HW2}.ipynb")
    done = subprocess.run([sys.executable, "-m", "d2lcourse", "validate", str(notebook)], capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "FORBIDDEN softmax (15 points): softmax called F.softmax" in out, out
    assert "FAILED    accuracy (10 points): " in out and "got" in out.split("FAILED    accuracy")[1], out
    assert "Public tests: " in out and "hidden graders" in out
    assert "PASS      softmax (" not in out and "Kernel" not in out + done.stderr

    from nbgrader.validator import Validator

    from d2lcourse.nbvalidate import PublicTests, install
    install()
    validator = Validator()
    assert PublicTests in validator.preprocessors
    failed = validator.validate(str(notebook))["failed"]
    errors = {cell["source"].splitlines()[0]: cell["raw_error"] for cell in failed}
    softmax = errors["# 公开测试 / Public tests for softmax"]
    assert softmax.startswith("FORBIDDEN softmax: softmax called F.softmax"), softmax
    accuracy = errors["# 公开测试 / Public tests for accuracy"]
    assert accuracy.splitlines()[0].removeprefix("FAILED    accuracy: ") in out  # the same words as the command
    assert all("Traceback" not in e and "Kernel" not in e for e in errors.values()), errors


def test_does_where_name_one_source_for_the_data_root(tmp_path):
    done = subprocess.run([sys.executable, "-m", "d2lcourse", "where"], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "D2L_DATA_ROOT": str(tmp_path)}, cwd=tmp_path)
    assert done.returncode == 1
    assert f"data root: {tmp_path} (from $D2L_DATA_ROOT)" in done.stdout
    assert "comes from $D2L_DATA_ROOT" in done.stdout and "root argument" not in done.stdout


def test_does_the_fallback_message_keep_its_fix(tmp_path, monkeypatch, capsys):
    from d2lcourse import load_data_fashion_mnist
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path))
    load_data_fashion_mnist(64)
    err = capsys.readouterr().err
    assert f"python -m d2lcourse download --root {tmp_path}" in err
    assert "scikit-learn digits" in err


def test_does_the_course_package_bring_notebook_progress_bars():
    deps = (ROOT / "course" / "pyproject.toml").read_text(encoding="utf-8")
    assert '"ipywidgets' in deps and '"nbclient' in deps
    readme = (ROOT / "course" / "README.md").read_text(encoding="utf-8")
    assert "--index-url https://download.pytorch.org/whl/cpu" in readme


def test_do_chinese_labels_draw_in_the_courses_plots_without_a_system_font(monkeypatch):
    """With mplfonts (the staff extra, `d2lcourse[cjk]` for students) Chinese draws with no missing glyph."""
    pytest.importorskip("mplfonts")
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    from d2lcourse import plot
    monkeypatch.setattr(plot, "_cjk", [])
    monkeypatch.setattr(plot, "CJK_FAMILIES", ())  # as on a machine with no CJK system font
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plot.plot_curves({"训练损失 / train loss": [1.0, 0.5]}, xlabel="迭代周期 / epoch", title="软件")
        ax.figure.canvas.draw()
    assert not [w for w in caught if "missing" in str(w.message).lower()], [str(w.message) for w in caught]
    assert "CJK" in matplotlib.rcParams["font.sans-serif"][0]


def test_does_a_machine_without_any_cjk_font_say_what_to_install(monkeypatch, capsys):
    import builtins

    from d2lcourse import plot
    monkeypatch.setattr(plot, "_cjk", [])
    monkeypatch.setattr(plot, "CJK_FAMILIES", ())
    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name))
                        if name == "mplfonts" else real_import(name, *a, **k))
    assert plot.cjk_font() is None
    err = capsys.readouterr().err
    assert "d2lcourse[cjk]" in err and "fonts-noto-cjk" in err

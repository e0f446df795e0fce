"""notebook.py: reading a submitted notebook, choosing the code to run, reading signs of tampering; no worker."""
from __future__ import annotations

import json

import pytest

from autograder.errors import NotebookError
from autograder.notebook import CodeCell, code_to_run, read_notebook, tampering_signs


def code(source: str, **metadata) -> dict:
    return {"cell_type": "code", "metadata": metadata, "source": source.splitlines(keepends=True), "outputs": []}


def notebook(*cells: dict) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}


def save(tmp_path, content, name="nb.ipynb"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize("content, says", [
    ('{"cells": [', "not valid notebook JSON"),
    (b"\xff\xfe\x00binary", "not a text file"),
    ('["a", "list"]', "not a notebook"),
    ('{"nbformat": 3, "cells": []}', "notebook format 3"),
])
def test_does_a_broken_notebook_raise_a_message_a_student_can_act_on(tmp_path, content, says):
    with pytest.raises(NotebookError, match=says):
        read_notebook(save(tmp_path, content))


def test_is_a_missing_file_a_notebook_error(tmp_path):
    with pytest.raises(NotebookError, match="does not exist"):
        read_notebook(tmp_path / "nowhere.ipynb")


def test_does_a_good_notebook_read_as_data(tmp_path):
    nb = notebook(code("x = 1"))
    assert read_notebook(save(tmp_path, json.dumps(nb))) == nb


def test_does_grading_skip_markdown_demos_public_tests_and_cell_magics():
    nb = notebook(
        {"cell_type": "markdown", "metadata": {}, "source": ["# text"]},
        code("import torch"),
        code("train_for_an_hour()", tags=["demo"]),
        code("def f(x):\n    return x", nbgrader={"solution": True, "grade": False, "grade_id": "f"}),
        code("assert f(1) == 1", nbgrader={"grade": True, "solution": False, "grade_id": "test_f", "points": 5}),
        code("%%time\nslow()"),
        code("   \n"),
        code("%matplotlib inline\n!pip install x\ny = 10 % 3\nz = (y\n     % 2)"),
    )
    cells = code_to_run(nb)
    assert [c.index for c in cells] == [2, 4, 8]  # 1-based, counting every cell as a student sees them
    assert cells[0].source == "import torch"
    magics = cells[2].source.splitlines()
    assert magics[0] == "pass  # %matplotlib inline" and magics[1] == "pass  # !pip install x"
    assert magics[2] == "y = 10 % 3" and magics[4] == "     % 2)"  # a modulo is not a magic


def test_are_signs_of_tampering_read_from_the_text():
    cells = [CodeCell(1, "import gradeworker.monitor"), CodeCell(2, "import sys\nsys.setprofile(None)"),
             CodeCell(3, "import importlib\nm = importlib.import_module('a' + 'b')"),
             CodeCell(4, "import importlib\nm = importlib.import_module('math')"),
             CodeCell(5, "net.eval()\nmodel.train()"), CodeCell(6, "def broken(:"),
             CodeCell(7, "exec(code)")]
    signs = tampering_signs(cells)
    assert "cell 1 uses gradeworker" in signs
    assert "cell 2 uses setprofile" in signs
    assert "cell 3 uses import_module(...) of a computed string" in signs
    assert "cell 7 uses exec(...) of a computed string" in signs
    assert not [s for s in signs if s.startswith(("cell 4 ", "cell 5 ", "cell 6 "))]

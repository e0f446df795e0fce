"""``with check("part"):``, the public test cells' one verdict (d2lcourse.publictest), run as a cell runs:
the cell's code executed in a notebook namespace, here in this process (no kernel)."""
from __future__ import annotations

import json
import linecache

import pytest

torch = pytest.importorskip("torch")

from d2lcourse import publictest  # noqa: E402
from d2lcourse.publictest import FAILED, FORBIDDEN, NOT_DONE, PASS, PublicTestVerdict  # noqa: E402

FORBIDDEN_TABLE = {"forbidden": {"softmax": ["torch.softmax", "F.softmax", "Tensor.softmax"],
                                 "Smooth": ["F.softmax", "Tensor.softmax"]}}
TEST_CELL = '''
with check("softmax"):
    _P = softmax(torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    assert torch.allclose(_P.sum(dim=1), torch.ones(2)), f"each row must sum to 1, got {_P.sum(dim=1).tolist()}"
    _ref = torch.softmax(torch.zeros(1, 2), dim=1)  # the test itself may call the forbidden reference
    assert torch.allclose(_P[1], torch.full((3,), 1 / 3)), "equal logits give equal probabilities"
'''
RIGHT = ("def softmax(X):\n    E = torch.exp(X - X.max(dim=1, keepdim=True).values)\n"
         "    return E / E.sum(1, keepdim=True)\n")


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    """A notebook's namespace in a folder holding forbidden.json; runs a cell, returns its verdict and output."""
    (tmp_path / "forbidden.json").write_text(json.dumps(FORBIDDEN_TABLE), encoding="utf-8")
    monkeypatch.setenv("D2L_FORBIDDEN_DIR", str(tmp_path))
    publictest._forbidden_table.cache_clear()
    namespace = {"torch": torch, "check": publictest.check, "__name__": "__main__"}

    def run(definition: str, cell: str = TEST_CELL):
        exec(definition, namespace)
        linecache.cache["<cell 2>"] = (len(cell), None, cell.splitlines(True), "<cell 2>")  # as IPython keeps cells
        try:
            exec(compile(cell, "<cell 2>", "exec"), namespace)
        except PublicTestVerdict as exc:
            assert exc._render_traceback_() == exc.verdict.lines()  # what IPython shows instead of a traceback
            return exc.verdict
        return publictest.VERDICTS[cell.split('"')[1]]
    run.namespace = namespace  # type: ignore[attr-defined]
    yield run
    publictest._forbidden_table.cache_clear()


def test_does_a_right_function_pass_and_say_so(notebook, capsys):
    verdict = notebook(RIGHT)
    assert verdict.status == PASS, verdict.text()
    assert "PASS      softmax: public tests passed" in capsys.readouterr().out


def test_is_a_forbidden_call_forbidden_even_though_every_assertion_holds(notebook):
    verdict = notebook("def softmax(X):\n    return X.softmax(dim=1)\n")
    assert verdict.status == FORBIDDEN and "Tensor.softmax" in verdict.reason, verdict.text()
    assert "advisory" in verdict.text()


def test_is_a_forbidden_call_through_an_alias_seen_by_running_it(notebook):
    verdict = notebook("sm = torch.softmax\ndef helper(X):\n    return sm(X, 1)\n"
                       "def softmax(X):\n    return helper(X)\n")
    assert verdict.status == FORBIDDEN and "torch.softmax" in verdict.reason, verdict.text()


def test_does_a_failed_assertion_give_what_it_got_and_the_line(notebook):
    verdict = notebook("def softmax(X):\n    E = torch.exp(X)\n    return E / E.sum(0, keepdim=True)\n")
    assert verdict.status == FAILED and verdict.reason.startswith("each row must sum to 1, got ["), verdict.text()
    assert any(line.startswith("at: assert torch.allclose(_P.sum(dim=1)") for line in verdict.detail)
    assert any(line.startswith("where _P = [[") for line in verdict.detail), verdict.detail


def test_is_the_stub_not_done(notebook):
    verdict = notebook("def softmax(X):\n    raise NotImplementedError()\n")
    assert verdict.status == NOT_DONE and "NotImplementedError" in verdict.reason


def test_does_an_error_in_the_students_code_show_where(notebook):
    verdict = notebook("def softmax(X):\n    return X.nonexistent()\n")
    assert verdict.status == FAILED and verdict.reason.startswith("AttributeError"), verdict.text()
    assert any("nonexistent" in line for line in verdict.detail)


def test_are_a_classs_methods_watched_and_put_back(notebook):
    definition = ("class Smooth(torch.nn.Module):\n    def forward(self, X):\n        return X.softmax(dim=1)\n")
    cell = 'with check("Smooth"):\n    assert Smooth()(torch.zeros(1, 2)).shape == (1, 2)\n'
    verdict = notebook(definition, cell)
    assert verdict.status == FORBIDDEN, verdict.text()
    forward = notebook.namespace["Smooth"].__dict__["forward"]
    assert forward.__code__.co_filename == "<string>", "the monitored wrapper was left in the class"


def test_is_a_missing_forbidden_list_said_once_not_per_part(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("D2L_FORBIDDEN_DIR", str(tmp_path))  # no forbidden.json there
    publictest._forbidden_table.cache_clear()
    monkeypatch.setattr(publictest, "_SAID", set())
    namespace = {"torch": torch, "check": publictest.check}
    exec(RIGHT, namespace)
    for _ in range(2):
        exec(compile(TEST_CELL, "<cell>", "exec"), namespace)
    out = capsys.readouterr().out
    assert out.count("forbidden calls were not checked") == 1 and out.count("PASS      softmax") == 2, out
    publictest._forbidden_table.cache_clear()


# ----- the assignments' own public test cells -----------------------------------------------------------
# Each public test puts the assertion that names a likely mistake before the bare value check it would fail,
# and every failing assertion says what it got. One catalogued mistake per assignment (tests/catalogue/<id>.py),
# put in the released notebook's place for its function, must fail its public test with the mistake named.
# (task, catalogue title, words the verdict's reason must contain)
NAMED = {
    "hw0_tensors_autograd": ("pairwise_sq_dists", "the cross term without its factor 2", "factor 2 of the cross term"),
    "hw1_linear_regression": ("squared_loss", "the 1/2 is missing", "the 1/2 is missing"),
    "hw2_softmax_regression": ("softmax", "normalised over dim 0 (columns)", "normalises the columns"),
    "hw3_mlp": ("sigmoid", "the textbook 1 / (1 + exp(-x)): NaN gradient at -1000", "overflows exp(-x) at x = -1000"),
    "hw4_dropout": ("dropout_layer", "keeps with probability dropout (inverted meaning)", "probability of DROPPING"),
    "hw5_cnn": ("corr2d", "the kernel flipped (a true convolution)", "K flipped"),
    "hw6_optimizers": ("SGD", "nesterov ignored", "nesterov=True is ignored"),
    "hw7_training": ("train_one_epoch", "the mean of the batch means", "the mean of the batch means"),
    "hw8_metric_learning": ("entropy", "the minus sign missing", "the minus sign is missing"),
}


def _code_cells(assignment_id: str) -> list[dict]:
    from helpers import ROOT, load
    nb = load(ROOT / "source" / assignment_id / f"{assignment_id}.ipynb")
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _definitions(text: str, namespace: dict) -> None:
    """Runs a given cell's imports, functions, classes and plain assignments (no demo runs, no data loading; an
    assignment that reads what a demo made is left out)."""
    import ast
    text = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in text.splitlines())
    for node in ast.parse(text).body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            exec(compile(ast.Module([node], []), "<given cell>", "exec"), namespace)
        elif isinstance(node, ast.Assign) and not any(isinstance(m, ast.Call) for m in ast.walk(node.value)):
            try:
                exec(compile(ast.Module([node], []), "<given cell>", "exec"), namespace)
            except (NameError, AttributeError):
                pass


def _run_public_tests(assignment_id: str, tmp_path, monkeypatch, replace: dict[str, str] | None = None,
                      only: str | None = None) -> dict:
    """The source notebook's public test cells run as the kernel runs them, in this process: the given cells'
    definitions, the solution cells (``replace``: a task's cell replaced), then each public test cell in order
    (``only``: that one alone, after the definitions). Returns {part: Verdict}."""
    from helpers import ROOT
    monkeypatch.chdir(tmp_path)  # hw7's checkpoints are written in the working folder
    monkeypatch.setenv("D2L_FORBIDDEN_DIR", str(ROOT / "release" / assignment_id))
    monkeypatch.setattr(publictest, "VERDICTS", {})
    publictest._forbidden_table.cache_clear()
    threads = torch.get_num_threads()
    namespace: dict = {"__name__": "__main__"}
    try:
        for number, cell in enumerate(_code_cells(assignment_id)):
            meta = cell["metadata"].get("nbgrader", {})
            text = "".join(cell["source"])
            if meta.get("solution"):
                text = (replace or {}).get(meta["grade_id"], text)
            elif meta.get("grade"):
                if only is not None and meta["grade_id"] != f"test_{only}":
                    continue
            else:
                _definitions(text, namespace)
                continue
            name = f"<cell {number}>"
            linecache.cache[name] = (len(text), None, text.splitlines(True), name)
            try:
                exec(compile(text, name, "exec"), namespace)
            except PublicTestVerdict:
                pass
    finally:
        torch.set_num_threads(threads)
        publictest._forbidden_table.cache_clear()
    return dict(publictest.VERDICTS)


@pytest.mark.parametrize("assignment_id", sorted(NAMED))
def test_does_the_source_notebook_pass_every_public_test(assignment_id, tmp_path, monkeypatch):
    verdicts = _run_public_tests(assignment_id, tmp_path, monkeypatch)
    parts = [c["metadata"]["nbgrader"]["grade_id"].removeprefix("test_") for c in _code_cells(assignment_id)
             if c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"].get("solution")]
    assert set(verdicts) == set(parts), set(parts) ^ set(verdicts)
    failed = [v.text() for v in verdicts.values() if v.status != PASS]
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("assignment_id", sorted(NAMED))
def test_does_a_public_test_name_the_likely_mistake_and_say_what_it_got(assignment_id, tmp_path, monkeypatch):
    from helpers import catalogue
    task, title, named = NAMED[assignment_id]
    # by task and title: a title may repeat across tasks (helpers.wrong_answers keeps the last)
    wrong = next(w for w in catalogue(assignment_id) if (w.task, w.title) == (task, title))
    verdict = _run_public_tests(assignment_id, tmp_path, monkeypatch, {task: wrong.source}, only=task)[task]
    assert verdict.status == FAILED and named in verdict.reason, verdict.text()
    assert "got" in verdict.reason or any(line.startswith("where _") for line in verdict.detail), verdict.text()

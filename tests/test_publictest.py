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
